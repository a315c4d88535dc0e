from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Catalogue: services, course dates and prices"
    default_auto_field = "django.db.models.BigAutoField"
    # Called by `manage.py seed_demo` after the portal's seeder (see portal/management/commands/seed_demo.py).
    demo_seeder = "catalogue.demo.seed"

    def ready(self):
        from . import signals  # noqa: F401
