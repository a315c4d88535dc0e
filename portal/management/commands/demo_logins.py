"""Print the demo logins (``make run`` shows them; ``--markdown`` prints the README's table)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.demo import DEMO_PASSWORD, DEMO_USERS


def markdown_table() -> str:
    lines = ["| Email | Who they are |", "| --- | --- |"]
    lines += [f"| `{user.email}` | {user.summary} |" for user in DEMO_USERS]
    return "\n".join(lines)


def text_table() -> str:
    width = max(len(user.email) for user in DEMO_USERS)
    lines = [f"  {user.email:<{width}}  {user.summary}" for user in DEMO_USERS]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "List the demo users (created by seed_demo) and their password."

    def add_arguments(self, parser):
        parser.add_argument("--markdown", action="store_true", help="Print the table as Markdown, for the README.")

    def handle(self, *args, markdown: bool, **options):
        if markdown:
            self.stdout.write(markdown_table())
            return
        site = settings.SITE_URL.rstrip("/")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Tri-Council Schools Portal: {site}/"))
        self.stdout.write(f"  Sign in at {site}/accounts/login/ · Wagtail admin at {site}/admin/")
        self.stdout.write(f"  Local fake Stripe at {settings.STRIPE_API_BASE}/ · Ctrl-C stops everything")
        self.stdout.write("")
        self.stdout.write(f"Demo logins, all with the password {self.style.WARNING(DEMO_PASSWORD)}:")
        self.stdout.write(text_table())
        self.stdout.write("")
