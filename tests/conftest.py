"""Suite-wide fixtures and the rules for tests that need real services.

Tests marked ``postgres``, ``redis`` or ``browser`` need PostgreSQL, a Redis server or Debian's Chromium.
Where one is missing they are skipped with the reason (pytest's ``-ra`` prints it at the end), so
`make test` works on a bare machine and CI, which has all three, runs everything.
"""

import io
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


@pytest.fixture(autouse=True)
def _celery_may_wait_for_results():
    """Clear Celery's process-wide "never wait for a result here" flag before each test.

    An eager ``apply_async`` sets that flag while its task runs and puts back what it found afterwards. It is one
    global, not per thread: when eager tasks run in two threads at once (a live server and the test, or the
    concurrency tests), the second can put back the first one's True, leaving it set for the rest of the run; a
    later real-worker test's ``result.get()`` then fails with "Never call result.get() within a task!"."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)


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


# The rows data migrations made (Wagtail's root page and site, the home page, content types...), serialized
# once per session, and the database blocker to restore them with: see the hook and fixture below.
_MIGRATION_ROWS: dict = {}


def _serialize_migration_rows(connection) -> str:
    """Django's serialize_db_to_string, but content types first.

    Wagtail's page and task models look their content type up when they are built, creating it if missing;
    loaded in Django's order (contenttypes comes late in INSTALLED_APPS) that creates content types under new
    ids, and the saved ones then collide with them.
    """
    from django.apps import apps
    from django.core import serializers
    from django.db import router
    from django.db.migrations.loader import MigrationLoader

    migrated = MigrationLoader(connection).migrated_apps
    configs = [config for config in apps.get_app_configs() if config.models_module and config.label in migrated]
    configs.sort(key=lambda config: config.label != "contenttypes")  # stable: the rest keep Django's order

    def objects():
        for config in configs:
            for model in config.get_models():
                if model._meta.can_migrate(connection) and router.allow_migrate_model(connection.alias, model):
                    yield from model._base_manager.using(connection.alias).order_by(model._meta.pk.name).iterator()

    out = io.StringIO()
    serializers.serialize("json", objects(), indent=None, stream=out)
    return out.getvalue()


def _restore_migration_rows() -> None:
    """Empty every table, then put back exactly the rows the migrations made (same primary keys)."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection

    with _MIGRATION_ROWS["blocker"].unblock():
        call_command("flush", interactive=False, inhibit_post_migrate=True, reset_sequences=False, verbosity=0)
        connection.creation.deserialize_db_from_string(_MIGRATION_ROWS["rows"])
        # The rows came back with their own ids; move each id sequence past them (as loaddata does), or the
        # next row a test or a migration creates would be given an id already taken.
        models = apps.get_models(include_auto_created=True)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    # A flush with post_migrate made (and cached) content types under other ids.
    ContentType.objects.clear_cache()


@pytest.fixture(scope="session", autouse=True)
def _migration_rows_outlive_transactional_tests(request):
    """Every test starts from the rows data migrations made, transactional tests (``live_server`` ...) included.

    A transactional test ends by flushing every table, and then Django's post_migrate signal makes content types
    and permissions again under new ids. pytest-django runs those tests last, but each one would leave the next
    an empty database (no home page), make a later serialized-rollback test collide with the new content types,
    and, with ``--reuse-db``, hand the next session an empty database. So the rows are serialized before the
    first test and put back after each transactional test (``pytest_runtest_teardown``) and at the end.
    """
    if not any(_is_transactional(item) for item in request.session.items):
        yield
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    from django.db import connection

    with blocker.unblock():
        rows = _serialize_migration_rows(connection)
    _MIGRATION_ROWS.update(rows=rows, blocker=blocker)
    yield
    _restore_migration_rows()
    _MIGRATION_ROWS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    # After the last test the session fixture above restores (the database is being torn down with it).
    if nextitem is not None and _MIGRATION_ROWS and _is_transactional(item):
        _restore_migration_rows()
    return result


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
