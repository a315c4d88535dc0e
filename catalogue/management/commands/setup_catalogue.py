"""Create the catalogue index, one provider page per council, and each council's groups, page rights and
moderation workflow. Safe to run any number of times (run it after adding a council)."""

from django.core.management.base import BaseCommand

from catalogue.setup import ensure_catalogue


class Command(BaseCommand):
    help = "Create or repair the catalogue's structure and each council's editing rights. Idempotent."

    def handle(self, *args, **options):
        tree = ensure_catalogue()
        for slug, provider in tree.providers.items():
            self.stdout.write(f"{slug}: {provider.url_path}")
        self.stdout.write(
            self.style.SUCCESS(f"Catalogue ready at {tree.index.url_path} ({len(tree.providers)} councils)")
        )
