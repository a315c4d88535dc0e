"""Demo data for the portal app: councils, schools and demo users (see `manage.py seed_demo`)."""

from portal.councils import ensure_partnership_councils


def seed(*, seed: int, stdout) -> str:
    councils = ensure_partnership_councils()
    return f"{len(councils)} councils"
