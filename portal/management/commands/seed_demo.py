"""Load the demo data: councils, schools, users, and whatever each higher app adds.

Each app that has demo data names a seeder on its AppConfig (``demo_seeder = "catalogue.demo.seed"``); this
command calls them in INSTALLED_APPS order (portal first), so the portal never imports a higher app.
Idempotent: every seeder creates or updates by natural key, and running the command twice changes nothing.
"""

import logging

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string


class Command(BaseCommand):
    help = "Load (or refresh) the demo data. Safe to run any number of times."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed for generated data (default 2026).")

    def handle(self, *args, seed: int, verbosity: int, **options):
        # Wagtail logs every page it creates and publishes at INFO: hundreds of lines on a first run, which
        # would hide the one-line summaries below. They are kept at -v 2.
        wagtail_logger = logging.getLogger("wagtail")
        level = wagtail_logger.level
        if verbosity < 2:
            wagtail_logger.setLevel(logging.WARNING)
        try:
            for config in apps.get_app_configs():
                path = getattr(config, "demo_seeder", None)
                if not path:
                    continue
                seeder = import_string(path)
                with transaction.atomic():
                    summary = seeder(seed=seed, stdout=self.stdout)
                self.stdout.write(self.style.SUCCESS(f"{config.label}: {summary or 'done'}"))
        finally:
            wagtail_logger.setLevel(level)
