"""Benchmark: a booking rush. 200 clients start checkout at the same moment for one course date, over HTTP
against gunicorn on PostgreSQL, beside a bare-SQL baseline doing the same hold transaction through psycopg.

What is measured
- "rush (30 places)": 200 signed-in bookers, each with one place on the same 30-place date in their basket,
  POST /bookings/checkout/ together (a barrier across client processes releases them). Each request runs the
  whole hold transaction (re-quote, write the draft booking, line, delegate and audit row, take the place by
  conditional UPDATE) and answers 302 (held) or 409 (full: offered the waiting list). Places sold must be 30.
- "no limit (200 places)": the same with room for everyone, so every request is a successful hold.
- "bare SQL": the same transaction written by hand (price read, four INSERTs, the conditional UPDATE) through
  psycopg, from 50 threads with their own connections (the server allows ~100 connections in all).
Printed: attempts/s (hold transactions, held or refused), holds/s (successful), p50/p95 latency, places sold,
and the database's own count of held lines. Timings never fail the run; overselling does.

Environment: BOOKING_BENCH_PORT (8151), BOOKING_BENCH_WORKERS (4 gunicorn sync workers),
BOOKING_BENCH_CLIENTS (200), BOOKING_BENCH_PROCESSES (4 client processes sharing the clients as threads).
"""

import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone

from bookings.models import Basket, BasketItem, Booking, BookingLine, Delegate, StatusChange, new_reference
from bookings.services.basket import add_course_place, get_basket
from catalogue.models import CatalogueIndexPage, CourseDate, PriceRule, Venue
from portal.councils import ensure_partnership_councils
from portal.models import School, SchoolMembership, User
from tests.bookings.factories import add_course_date, add_service
from tests.factories import SchoolFactory, UserFactory
from tests.perf.booking_rush_client import http_rush, one_by_one

# transaction=True: the rows are committed for gunicorn to see (and pytest-django only sets up the test database
# for sessions that contain a test marked django_db).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PORT = int(os.environ.get("BOOKING_BENCH_PORT", "8151"))
WORKERS = int(os.environ.get("BOOKING_BENCH_WORKERS", "4"))
CLIENTS = int(os.environ.get("BOOKING_BENCH_CLIENTS", "200"))
PROCESSES = int(os.environ.get("BOOKING_BENCH_PROCESSES", "4"))
RUSH_PLACES = 30
SQL_THREADS = 50
SEQUENTIAL = 50  # checkouts sent one after another: the latency of one request with nobody else about


def database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def psycopg_dsn() -> str:
    s = connection.settings_dict
    return f"host={s['HOST'] or '127.0.0.1'} port={s['PORT'] or 5432} user={s['USER']} dbname={s['NAME']}" + (
        f" password={s['PASSWORD']}" if s.get("PASSWORD") else ""
    )


# --- Bare-SQL baseline ------------------------------------------------------------------------------------

SQL_ERRORS: list[str] = []

HOLD_SQL = {
    "price": "SELECT amount FROM catalogue_pricerule WHERE service_id = %s ORDER BY sort_order, id LIMIT 1",
    "booking": """
        INSERT INTO bookings_booking (reference, school_id, booked_by_id, status, po_number, declined_reason,
            payment_reference, hold_expires_at, created_at, updated_at)
        VALUES (%s, %s, %s, 'draft', '', '', '', %s, now(), now()) RETURNING id""",
    "line": """
        INSERT INTO bookings_bookingline (booking_id, kind, service_id, course_date_id, council_id, payment_route,
            status, description, quantity, unit_net, net, vat_treatment, vat_rate, vat, gross, price_explanation,
            cost_centre, income_code, hold_expires_at, charge_waived_reason, created_at, updated_at)
        VALUES (%s, 'course_place', %s, %s, %s, '', 'held', 'Rush course', 1, %s, %s, 'exempt', 0, 0, %s, '',
            'CC', 'IC', %s, '', now(), now()) RETURNING id""",
    "delegate": """
        INSERT INTO bookings_delegate (line_id, name, email, role, access_needs, dietary_needs)
        VALUES (%s, 'Delegate', 'delegate@example.org', '', '', '')""",
    "audit": """
        INSERT INTO bookings_statuschange (booking_id, from_status, to_status, by_id, at, reason)
        VALUES (%s, '', 'draft', %s, now(), 'Checkout started')""",
    "take": """
        UPDATE catalogue_coursedate SET places_taken = places_taken + 1
        WHERE id = %s AND status = 'scheduled' AND places_taken + 1 <= capacity""",
}


def sql_rush(*, course_date, school_id: int, user_id: int, attempts: int) -> list[tuple[int, float, float]]:
    """``attempts`` hold transactions from SQL_THREADS connections, started together: (1 held or 409, start, end)."""
    dsn = psycopg_dsn()
    barrier = threading.Barrier(SQL_THREADS)
    out: list[tuple[int, float, float]] = []
    lock = threading.Lock()
    until = timezone.now() + timedelta(minutes=15)
    service_id, council_id = course_date.service_id, course_date.council_id

    def worker(count: int) -> None:
        with psycopg.connect(dsn) as conn:
            barrier.wait(timeout=60)
            for _ in range(count):
                started = time.time()
                try:
                    status = hold(conn)
                except Exception as exc:  # counted as an error below, and the run goes on
                    status = -1
                    SQL_ERRORS.append(repr(exc))
                with lock:
                    out.append((status, started, time.time()))

    def hold(conn) -> int:
        with conn.transaction() as tx, conn.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '5s'")
            cur.execute(HOLD_SQL["price"], (service_id,))
            price = cur.fetchone()[0]
            cur.execute(HOLD_SQL["booking"], (new_reference(), school_id, user_id, until))
            booking_id = cur.fetchone()[0]
            cur.execute(
                HOLD_SQL["line"], (booking_id, service_id, course_date.pk, council_id, price, price, price, until)
            )
            line_id = cur.fetchone()[0]
            cur.execute(HOLD_SQL["delegate"], (line_id,))
            cur.execute(HOLD_SQL["audit"], (booking_id, user_id))
            cur.execute(HOLD_SQL["take"], (course_date.pk,))
            held = cur.rowcount == 1
            if not held:
                raise psycopg.Rollback(tx)  # full: nothing of this attempt is kept
        return 1 if held else 409

    shares = [attempts // SQL_THREADS + (1 if i < attempts % SQL_THREADS else 0) for i in range(SQL_THREADS)]
    threads = [threading.Thread(target=worker, args=(n,)) for n in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return out


# --- Fixtures ---------------------------------------------------------------------------------------------


def _cleanup(school_ids: list[int], user_ids: list[int]) -> None:
    StatusChange.objects.filter(booking__school_id__in=school_ids).delete()
    Delegate.objects.filter(line__booking__school_id__in=school_ids).delete()
    BookingLine.objects.filter(booking__school_id__in=school_ids).delete()
    Booking.objects.filter(school_id__in=school_ids).delete()
    BasketItem.objects.filter(basket__school_id__in=school_ids).delete()
    Basket.objects.filter(school_id__in=school_ids).delete()
    SchoolMembership.objects.filter(school_id__in=school_ids).delete()
    User.objects.filter(pk__in=user_ids).delete()
    School.objects.filter(pk__in=school_ids).delete()
    CourseDate.objects.all().delete()
    PriceRule.objects.all().delete()
    for index in CatalogueIndexPage.objects.all():
        index.delete()
    Venue.objects.all().delete()


@pytest.fixture
def rush_world(django_db_setup, django_db_blocker):
    """Committed outside any test transaction (gunicorn must see it): one school, 2 × CLIENTS bookers with a
    session each, two course dates (30 places; room for all), every booker's basket holding one place."""
    with django_db_blocker.unblock():
        councils = ensure_partnership_councils()
        school = SchoolFactory(name="Rush Primary School")
        users = UserFactory.create_batch(2 * CLIENTS + SEQUENTIAL)
        SchoolMembership.objects.bulk_create([SchoolMembership(user=u, school=school, role="approver") for u in users])
        course = add_service(councils["staffordshire"], "course", title="Rush course", price=Decimal("95.00"))
        rush_date = add_course_date(course, capacity=RUSH_PLACES)
        open_date = add_course_date(course, capacity=CLIENTS, days_ahead=45)
        one_by_one_date = add_course_date(course, capacity=SEQUENTIAL, days_ahead=50)
        cookies: dict[int, str] = {}
        for n, user in enumerate(users):
            course_date = rush_date if n < CLIENTS else open_date if n < 2 * CLIENTS else one_by_one_date
            add_course_place(
                basket=get_basket(school=school, owner=user),
                course_date=course_date,
                delegate_name=f"Delegate {n}",
                delegate_email=f"delegate{n}@rush.example",
            )
            session = SessionStore()
            session["_auth_user_id"] = str(user.pk)
            session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
            session["_auth_user_hash"] = user.get_session_auth_hash()
            session.create()
            cookies[user.pk] = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
        sql_user = UserFactory()
        SchoolMembership.objects.create(user=sql_user, school=school, role="approver")
        sql_dates = [
            add_course_date(course, capacity=c, days_ahead=60 + i) for i, c in enumerate((RUSH_PLACES, CLIENTS))
        ]
        try:
            yield {
                "school": school,
                "rush": (rush_date, [cookies[u.pk] for u in users[:CLIENTS]]),
                "open": (open_date, [cookies[u.pk] for u in users[CLIENTS : 2 * CLIENTS]]),
                "one_by_one": (one_by_one_date, [cookies[u.pk] for u in users[2 * CLIENTS :]]),
                "sql_user": sql_user,
                "sql_dates": sql_dates,
            }
        finally:
            from django.contrib.sessions.models import Session

            Session.objects.filter(session_key__in=[c.split("=", 1)[1] for c in cookies.values()]).delete()
            _cleanup([school.pk], [u.pk for u in users] + [sql_user.pk])


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    import socket

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
def gunicorn_site(rush_world):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url(),
        "DB_CONN_MAX_AGE": "60",
        "SECRET_KEY": settings.SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "AXES_ENABLED": "false",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "portal.wsgi:application",
        f"--bind=127.0.0.1:{PORT}",
        f"--workers={WORKERS}",
        "--worker-class=sync",
        "--backlog=1024",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - fixed command, our own venv
    try:
        wait_for_port(PORT, process)
        # Warm every worker (imports, templates, connections) with a harmless page.
        for _ in range(WORKERS * 3):
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            conn.request("GET", "/bookings/basket/")
            conn.getresponse().read()
            conn.close()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


# --- The benchmark ----------------------------------------------------------------------------------------


def _figures(name: str, results, *, held_status, clients: int, places: int, course_date) -> dict:
    latencies = sorted((end - start) * 1000 for _, start, end in results)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    elapsed = max(end for _, _, end in results) - min(start for _, start, _ in results)
    held = sum(1 for status, _, _ in results if status == held_status)
    errors = sum(1 for status, _, _ in results if status not in (held_status, 409))
    course_date.refresh_from_db()
    return {
        "name": name,
        "clients": clients,
        "places": places,
        "attempts": len(results),
        "held": held,
        "errors": errors,
        "attempts_s": len(results) / elapsed,
        "holds_s": held / elapsed,
        "p50": cuts[49],
        "p95": cuts[94],
        "sold": course_date.places_taken,
        "lines": BookingLine.objects.filter(course_date=course_date, status="held").count(),
    }


@pytest.mark.timeout(1800)
def test_booking_rush(rush_world, gunicorn_site, django_db_blocker, capsys):
    """Print holds/s, p50/p95 and places sold for the HTTP rush and the bare-SQL baseline; never oversell."""
    rows = []
    with django_db_blocker.unblock():
        course_date, cookies = rush_world["one_by_one"]
        results = one_by_one(port=PORT, cookies=cookies)
        rows.append(
            _figures(
                "HTTP, one at a time", results, held_status=302, clients=1, places=SEQUENTIAL, course_date=course_date
            )
        )
        for key, label, places in (
            ("rush", "HTTP rush (30 places)", RUSH_PLACES),
            ("open", "HTTP, room for all", CLIENTS),
        ):
            course_date, cookies = rush_world[key]
            results = http_rush(port=PORT, cookies=cookies, processes=PROCESSES)
            rows.append(
                _figures(label, results, held_status=302, clients=CLIENTS, places=places, course_date=course_date)
            )
        for course_date, label in zip(
            rush_world["sql_dates"], ("bare SQL (30 places)", "bare SQL, room for all"), strict=True
        ):
            results = sql_rush(
                course_date=course_date,
                school_id=rush_world["school"].pk,
                user_id=rush_world["sql_user"].pk,
                attempts=CLIENTS,
            )
            rows.append(
                _figures(
                    label,
                    results,
                    held_status=1,
                    clients=SQL_THREADS,
                    places=course_date.capacity,
                    course_date=course_date,
                )
            )

    load = os.getloadavg()[0]
    lines = [
        "",
        f"booking rush on PostgreSQL: gunicorn {WORKERS} sync workers; {CLIENTS} HTTP clients in {PROCESSES} "
        f"processes; bare SQL from {SQL_THREADS} psycopg connections; {os.cpu_count()} CPUs, load {load:.1f}",
        f"{'scenario':<26} {'clients':>7} {'places':>6} {'tries':>6} {'held':>5} {'errors':>6} "
        f"{'tries/s':>8} {'holds/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'sold':>5} {'lines':>5}",
    ]
    for r in rows:
        counts = f"{r['clients']:>7} {r['places']:>6} {r['attempts']:>6} {r['held']:>5} {r['errors']:>6}"
        rates = f"{r['attempts_s']:>8.1f} {r['holds_s']:>8.1f} {r['p50']:>8.1f} {r['p95']:>8.1f}"
        lines.append(f"{r['name']:<26} {counts} {rates} {r['sold']:>5} {r['lines']:>5}")
    http_open = next(r for r in rows if r["name"] == "HTTP, room for all")
    sql_open = next(r for r in rows if r["name"] == "bare SQL, room for all")
    if sql_open["holds_s"]:
        lines.append(f"HTTP/SQL ratio (holds/s, room for all): {http_open['holds_s'] / sql_open['holds_s']:.2f}")
    if SQL_ERRORS:
        lines.append(f"bare SQL errors ({len(SQL_ERRORS)}), first: {SQL_ERRORS[0]}")
    with capsys.disabled():
        print("\n".join(lines))

    for r in rows:
        assert r["attempts"] == (SEQUENTIAL if r["clients"] == 1 else CLIENTS), r
        assert r["sold"] == r["lines"] == min(r["places"], r["attempts"]), r  # never oversold, never lost
        assert r["held"] == r["sold"], r
        assert r["errors"] == 0, r
