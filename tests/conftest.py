"""Suite-wide fixtures and the rules for tests that need real services.

Tests marked ``postgres``, ``redis`` or ``browser`` need PostgreSQL, a Redis server or Debian's Chromium.
Where one is missing they are skipped with the reason (pytest's ``-ra`` prints it at the end), so
`make test` works on a bare machine and CI, which has all three, runs everything.
"""

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _redis_reachable() -> str | None:
    """None when REDIS_URL names a Redis we can reach, else why not."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return "REDIS_URL is not set (CI sets it; locally: REDIS_URL=redis://127.0.0.1:6379/0)"
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return None
    except OSError as exc:
        return f"Redis at {url} is not reachable ({exc})"


def pytest_collection_modifyitems(config, items):
    vendor = settings.DATABASES["default"]["ENGINE"]
    reasons = {
        "postgres": None
        if "postgresql" in vendor
        else "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal",
        "redis": _redis_reachable(),
        "browser": None
        if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM)
        else f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def councils(db):
    """The three partnership councils, keyed by slug (staffordshire, shropshire, worcestershire)."""
    from portal.councils import ensure_partnership_councils

    return ensure_partnership_councils()
