from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal: accounts, councils and schools"
    default_auto_field = "django.db.models.BigAutoField"
    # Called by `manage.py seed_demo`; see portal/management/commands/seed_demo.py.
    demo_seeder = "portal.demo.seed"
