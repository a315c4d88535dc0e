"""Benchmark: requests per second for /services/ and a service page, 500 services and 2,000 dates, PostgreSQL.

The site runs under gunicorn (as in production) against the test database. The test is transactional: the
catalogue it writes is committed (the workers must see it) and flushed afterwards. Clients are
separate processes (tests/perf/http_load.py), each sending requests one after another on fresh connections
(gunicorn's sync workers close each one). Prints a table; timings never fail the run.

The aim for the listing is at least 200 requests/s on a 2-core machine. Anonymous visits to /services/ are
cached whole for 60 seconds per query string, and the listing's HTML for everyone else
(catalogue.views); the "cache miss" row shows what the first visitor after a change pays.

Environment: CATALOGUE_BENCH_PORT (8131), CATALOGUE_BENCH_WORKERS (3), CATALOGUE_BENCH_CLIENTS (4),
CATALOGUE_BENCH_REQUESTS (1000 for cached rows, a fifth of it for uncached ones). REDIS_URL, when set, gives
the workers a shared Redis cache as in production; otherwise each worker caches in its own memory.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from catalogue.models import CourseDate, ServicePage
from tests.catalogue.listing_builders import bulk_catalogue, price_rule
from tests.factories import SchoolFactory, SchoolMembershipFactory
from tests.perf.http_load import run_load

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("CATALOGUE_BENCH_PORT", "8131"))
WORKERS = int(os.environ.get("CATALOGUE_BENCH_WORKERS", "3"))
CLIENTS = int(os.environ.get("CATALOGUE_BENCH_CLIENTS", "4"))
REQUESTS = int(os.environ.get("CATALOGUE_BENCH_REQUESTS", "1000"))
SERVICES = 500
DATES = 2000


def database_url() -> str:
    """The test database as a DATABASE_URL for the gunicorn workers."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def committed_catalogue(transactional_db):
    """500 live services over three councils (half of them courses with 8 dates each: 2,000 dates), priced,
    and a signed-in school member's session cookie. Committed, so the gunicorn workers see it; the
    transactional test's flush removes it afterwards."""
    pages = bulk_catalogue(SERVICES, dates_per_course=8)
    for page in pages[:60]:
        price_rule(page, "per_pupil", rate_per_pupil="3.10", minimum="450", phase="primary")
        price_rule(page, "flat", amount="95")
    assert ServicePage.objects.live().count() == SERVICES
    assert CourseDate.objects.count() == DATES
    membership = SchoolMembershipFactory(school=SchoolFactory(number_on_roll=212))
    session = SessionStore()
    session["_auth_user_id"] = str(membership.user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = membership.user.get_session_auth_hash()
    session.create()
    return {"pages": pages, "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"gunicorn did not listen on {port} within {timeout} s")


@pytest.fixture
def gunicorn_site(committed_catalogue):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "60",
        "SECRET_KEY": settings.SECRET_KEY,  # the session cookie was signed with it
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "portal.wsgi:application",
        f"--bind=127.0.0.1:{PORT}",
        f"--workers={WORKERS}",
        "--worker-class=sync",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - fixed command, our own venv
    try:
        wait_for_port(PORT, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.timeout(1800)
def test_catalogue_requests_per_second(committed_catalogue, gunicorn_site, capsys):
    """Print requests/s and p50/p95 latency for the listing (cached and not), What's on and a course page."""
    course = next(page for page in committed_catalogue["pages"] if page.kind == "course")
    signed_in = {"Cookie": committed_catalogue["cookie"]}
    few = max(REQUESTS // 5, 20)
    rows = [
        ("/services/ (anonymous, cached page)", ["/services/"] * REQUESTS, {}),
        (
            "/services/?council=…&kind=course&sort=date (anonymous, cached)",
            ["/services/?council=shropshire&kind=course&sort=date"] * REQUESTS,
            {},
        ),
        ("/services/ (signed in: cached listing in a fresh page)", ["/services/"] * few, signed_in),
        ("/services/?sort=date (cache miss every time)", [f"/services/?sort=date&n={n}" for n in range(few)], {}),
        ("/services/whats-on/", ["/services/whats-on/"] * few, {}),
        ("course page (anonymous)", [course.url] * few, {}),
        ("course page (school member: Your price)", [course.url] * few, signed_in),
    ]
    figures = []
    for name, paths, headers in rows:
        # Warm every worker first: imports, templates, database connections, caches.
        run_load(host="127.0.0.1", port=PORT, paths=paths[: WORKERS * CLIENTS], clients=CLIENTS, headers=headers)
        figures.append((name, run_load(host="127.0.0.1", port=PORT, paths=paths, clients=CLIENTS, headers=headers)))

    cache = "Redis (shared)" if os.environ.get("REDIS_URL") else "per-worker memory"
    load = os.getloadavg()[0]
    lines = [
        "",
        f"catalogue: {SERVICES} services, {DATES} course dates on PostgreSQL; gunicorn {WORKERS} sync workers, "
        f"{CLIENTS} client processes; cache: {cache}; {os.cpu_count()} CPUs, load average {load:.1f}",
        f"{'page':<62} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}",
    ]
    for name, f in figures:
        lines.append(
            f"{name:<62} {f['requests']:>8} {f['errors']:>6} {f['rps']:>8.1f} {f['p50']:>8.1f} {f['p95']:>8.1f}"
        )
    with capsys.disabled():
        print("\n".join(lines))
    assert all(f["errors"] == 0 for _, f in figures), figures
