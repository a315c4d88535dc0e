from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Importing these registers, without portal or catalogue importing bookings (DESIGN.md's layering):
        # approvals_dashboard: the approver's dashboard section (bookings-core);
        # receivers: signal receivers, the school's dashboard sections, the subscriber-price lookup (bookings-flows).
        from . import approvals_dashboard, receivers  # noqa: F401
