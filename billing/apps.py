from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers billing's own Stripe event handlers (see billing.registry for how others add theirs), and
        # booking_receivers: bills bookings from bookings' signals, confirms paid bookings from the payment hooks.
        from billing import booking_receivers, payment_receivers, webhook_handlers  # noqa: F401
        from billing.dashboard import register_sections

        register_sections()
