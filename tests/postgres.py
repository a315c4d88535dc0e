"""Helpers for tests that race PostgreSQL sessions against each other."""

import time

from django.db import connection


def wait_until_another_session_waits_for_a_lock(timeout: float = 20.0) -> None:
    """Poll pg_stat_activity until some other session of this database is blocked on a lock: proof that the
    race a test sets up really happened (the other session waited), not that it merely ran later."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Statistics views are snapshotted once per transaction, and the caller is inside one: look afresh.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("no session ever waited for the lock")
