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
    # CI (.ci/run) sets PORTAL_REQUIRE_SERVICES: there a missing service is a broken set-up, not a reason to skip.
    required = os.environ.get("PORTAL_REQUIRE_SERVICES") == "1"
    missing = {}
    for item in items:
        for marker, reason in reasons.items():
            if reason and marker in item.keywords:
                if required:
                    missing[marker] = reason
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))
    if missing:
        raise pytest.UsageError(
            "PORTAL_REQUIRE_SERVICES is set, but: " + "; ".join(f"{m} tests {r}" for m, r in sorted(missing.items()))
        )


@pytest.fixture
def councils(db):
    """The three partnership councils, keyed by slug (staffordshire, shropshire, worcestershire)."""
    from portal.councils import ensure_partnership_councils

    return ensure_partnership_councils()


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    names = getattr(item, "fixturenames", ())
    flagged = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    return flagged or "transactional_db" in names or "live_server" in names


@pytest.fixture(scope="session", autouse=True)
def _migration_rows_outlive_transactional_tests(request):
    """Put back, at the end of the session, the rows data migrations made (Wagtail's root and site, the home page).

    A transactional test (``transaction=True``, ``live_server``) ends by flushing every table. pytest-django runs
    those tests last, so within a session nothing else notices; but with ``--reuse-db`` the next session would
    start on an empty database. The rows are serialized before the first test and restored after the last.
    """
    if not any(_is_transactional(item) for item in request.session.items):
        yield
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    from django.core.management import call_command
    from django.db import connection

    with blocker.unblock():
        saved = getattr(connection, "_test_serialized_contents", None) or connection.creation.serialize_db_to_string()
    yield
    with blocker.unblock():
        call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
        connection.creation.deserialize_db_from_string(saved)
        # The rows come back with their ids but PostgreSQL's sequences stay where flush reset them (1): the
        # next session's first insert into such a table (a content type, a page) would collide.
        from django.apps import apps
        from django.core.management.color import no_style

        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
                cursor.execute(statement)


@pytest.fixture(scope="session")
def django_db_createdb(request, django_db_blocker) -> bool:
    """Build the test database afresh with --create-db, or when the one --reuse-db would keep has lost its rows.

    An interrupted run can leave the kept database flushed (no Wagtail root page): every test that needs the
    home page would then fail until someone thought of --create-db. Checking costs one query.
    """
    if request.config.getvalue("create_db"):
        return True
    from django.db import connections

    probe = connections.create_connection("default")
    test_name = probe.settings_dict["TEST"].get("NAME")
    if not test_name or (probe.vendor == "sqlite" and not os.path.exists(test_name)):
        return False  # nothing kept: it is built anyway
    probe.settings_dict = {**probe.settings_dict, "NAME": test_name}
    with django_db_blocker.unblock():
        try:
            with probe.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM wagtailcore_page")
                return cursor.fetchone()[0] == 0
        except Exception:  # no such database or table yet: Django builds or migrates it anyway
            return False
        finally:
            probe.close()
