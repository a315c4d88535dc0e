"""Benchmark: a term's invoicing run, 800 schools × 12 SLAs (9,600 lines), from start to every invoice issued,
PDFs included.

Set-up (not timed): three councils with four SLAs each, 800 schools, and for each school a confirmed booking of
all twelve SLAs for the term on the invoice route (written in bulk, as bookings' buy-back renewals leave them).
The run (timed): ``billing.bill_booking`` for every booking, as bookings' ``booking_confirmed`` signal or the
billing sweep would enqueue it; each issues one invoice per council (2,400 invoices, each numbered in its
council's sequence, with its ledger entries) and enqueues ``billing.render_document_pdf`` for each invoice.

Two ways to run it (printed with the figures):
- default: Celery eager (tasks run in this process, one after another): the cost of the work itself;
- ``INVOICING_RUN_WORKER=1`` with ``REDIS_URL``: a real ``celery worker`` (prefork, ``INVOICING_RUN_CONCURRENCY``,
  default 2) on Redis, against this test database; the clock stops when every invoice exists and every PDF is
  in the (Redis) cache.

PostgreSQL only (``DATABASE_URL``). ``INVOICING_RUN_SCHOOLS`` scales it down for a quick look. Timings are printed,
never asserted; the invariants (counts, gapless numbers, ledger = documents) are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
SCHOOLS = int(os.environ.get("INVOICING_RUN_SCHOOLS", "800"))
SLAS_PER_COUNCIL = 4
WORKER = os.environ.get("INVOICING_RUN_WORKER") == "1"
CONCURRENCY = int(os.environ.get("INVOICING_RUN_CONCURRENCY", "2"))

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _yardstick_ms() -> float:
    """CPU milliseconds for a fixed loop (about 12 ms on an idle modern core): how fast the machine was just now."""
    started = time.process_time()
    sum(range(1_000_000))
    return (time.process_time() - started) * 1000


def _slas(councils) -> list:
    from tests.bookings.factories import add_service

    services = []
    for council in councils.values():
        for n in range(SLAS_PER_COUNCIL):
            services.append(
                add_service(
                    council,
                    "subscription",
                    title=f"{council.short_name} SLA {n + 1}",
                    price=Decimal("300.00") + 125 * n,
                    # Half standard-rated (20%), half exempt (education services): both kinds of VAT line.
                    vat_treatment="standard" if n % 2 else "exempt",
                    buyback_opens_days_before=365,
                )
            )
    return services


def _term_bookings(councils, services) -> list[int]:
    """800 schools, each with a confirmed booking of every SLA for the term on the invoice route (bulk writes)."""
    from bookings.models import Booking, BookingLine, BookingStatus, ItemKind, LineStatus, new_reference
    from portal.models import School
    from tests.factories import UserFactory

    user = UserFactory(email="renewals@tricouncil.example")
    council_by_code = {c.la_code: c for c in councils.values()}
    codes = sorted(council_by_code)
    schools = School.objects.bulk_create(
        School(
            urn=700_000 + n,
            la_code=codes[n % 3],
            la_name=council_by_code[codes[n % 3]].short_name,
            council=council_by_code[codes[n % 3]],
            establishment_number=f"{4000 + n:04d}",
            laestab=f"{codes[n % 3]}{4000 + n:04d}",
            name=f"Benchmark Academy {n + 1}",
            funding_route="academy",
            type_group_code=10,
            phase="primary",
            status="Open",
            number_on_roll=200 + n % 300,
            street=f"{n + 1} School Lane",
            town="Shrewsbury",
            postcode="SY1 1AA",
        )
        for n in range(SCHOOLS)
    )
    now = timezone.now()
    bookings = Booking.objects.bulk_create(
        Booking(
            reference=new_reference(),
            school=school,
            booked_by=user,
            status=BookingStatus.CONFIRMED,
            po_number=f"PO-{school.urn}",
            submitted_at=now,
            confirmed_at=now,
        )
        for school in schools
    )
    term_start = services[0].term_start_for(timezone.localdate())
    lines = []
    for booking in bookings:
        for service in services:
            net = Decimal(service.price_rules.get().amount)
            rate = Decimal("0.20") if service.vat_treatment == "standard" else Decimal("0")
            vat = (net * rate).quantize(Decimal("0.01"))
            lines.append(
                BookingLine(
                    booking=booking,
                    kind=ItemKind.SUBSCRIPTION,
                    service=service,
                    council=service.council,
                    payment_route="invoice",
                    status=LineStatus.BOOKED,
                    description=f"{service.title}, {term_start:%B %Y} to March {term_start.year + 1}",
                    quantity=Decimal("1"),
                    unit_net=net,
                    net=net,
                    vat_treatment=service.vat_treatment,
                    vat_rate=rate,
                    vat=vat,
                    gross=net + vat,
                    cost_centre=service.effective_cost_centre,
                    income_code=service.effective_income_code,
                    term_start=term_start,
                    term_end=service.term_end(term_start),
                    booked_at=now,
                )
            )
    BookingLine.objects.bulk_create(lines, batch_size=2000)
    return [booking.pk for booking in bookings]


def _run_eager(booking_ids) -> dict:
    """Every bill_booking task in this process (Celery eager), PDFs timed apart through the renderer."""
    from billing import booking_tasks, pdf

    rendering = {"seconds": 0.0, "count": 0}
    original = pdf.document_pdf

    def timed_pdf(document):
        started = time.perf_counter()
        try:
            return original(document)
        finally:
            rendering["seconds"] += time.perf_counter() - started
            rendering["count"] += 1

    pdf.document_pdf = timed_pdf
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for booking_id in booking_ids:
            booking_tasks.bill_booking.delay(booking_id)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        pdf.document_pdf = original
    return {"wall": wall, "cpu": cpu, "pdf_seconds": rendering["seconds"], "pdfs": rendering["count"]}


def _run_worker(booking_ids, tmp_path) -> dict:
    """The same tasks sent through Redis to a real worker (prefork) using this test database."""
    import redis
    from celery import Celery

    from billing.models import BillingDocument

    redis_url = os.environ["REDIS_URL"]
    suffix = f"_bench{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_QUEUE_SUFFIX": suffix,
        "DJANGO_DEBUG": "false",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log_path = tmp_path / "worker.log"
    command = [
        str(Path(sys.executable).with_name("celery")), "-A", "portal", "worker", "-Q", f"billing{suffix}",
        "-n", f"bench{suffix}@%h", f"--concurrency={CONCURRENCY}", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--loglevel=WARNING",
    ]  # fmt: skip
    store = redis.Redis.from_url(redis_url)
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own venv's celery
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    client = Celery("invoicing-bench", broker=redis_url, backend=redis_url)
    try:
        # Let the worker come up before the clock starts (its first task is a no-op billing of nothing).
        client.send_task("billing.bill_booking", args=[0], queue=f"billing{suffix}").get(timeout=120)
        started = time.perf_counter()
        for booking_id in booking_ids:
            client.send_task("billing.bill_booking", args=[booking_id], queue=f"billing{suffix}", ignore_result=True)
        expected = len(booking_ids) * 3
        documents_at = None
        while True:
            issued = BillingDocument.objects.count()
            if documents_at is None and issued >= expected:
                documents_at = time.perf_counter() - started
            pdfs = sum(1 for _ in store.scan_iter(match="*billing:pdf:*", count=1000))
            if issued >= expected and pdfs >= expected:
                break
            if process.poll() is not None:
                pytest.fail(f"the worker stopped; its log:\n{log_path.read_text()[-3000:]}")
            if time.perf_counter() - started > 3600:
                pytest.fail(f"{issued} documents and {pdfs} PDFs after an hour")
            time.sleep(0.5)
        wall = time.perf_counter() - started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        for key in store.scan_iter(match=f"*{suffix}*"):
            store.delete(key)
        for key in store.scan_iter(match="*billing:pdf:*"):
            store.delete(key)
    return {"wall": wall, "documents_at": documents_at, "pdfs": expected}


@pytest.mark.timeout(7200)
def test_term_invoicing_run(councils, tmp_path):
    """800 schools × 12 SLAs: seconds until 2,400 invoices (9,600 lines) are issued with their PDFs."""
    from billing.models import BillingDocument, DocumentLine, LedgerEntry

    if WORKER and not os.environ.get("REDIS_URL"):
        pytest.skip("INVOICING_RUN_WORKER=1 needs REDIS_URL")
    started = time.perf_counter()
    services = _slas(councils)
    booking_ids = _term_bookings(councils, services)
    setup = time.perf_counter() - started
    load_before = os.getloadavg()[0]

    figures = _run_worker(booking_ids, tmp_path) if WORKER else _run_eager(booking_ids)

    invoices = BillingDocument.objects.filter(document_type="invoice")
    lines = DocumentLine.objects.filter(document__in=invoices)
    assert invoices.count() == SCHOOLS * 3 and lines.count() == SCHOOLS * 12
    for council in councils.values():
        numbers = sorted(invoices.filter(council=council).values_list("sequence_number", flat=True))
        assert numbers == list(range(1, SCHOOLS + 1))
    gross = invoices.aggregate(total=Sum("gross_pence"))["total"]
    assert LedgerEntry.objects.filter(entry_type="sale").aggregate(total=Sum("gross_pence"))["total"] == gross

    count = invoices.count()
    mode = (
        f"real Celery worker on Redis (prefork, concurrency {CONCURRENCY})"
        if WORKER
        else "Celery eager (in process, one task after another)"
    )
    print(
        f"\ninvoicing run: {SCHOOLS} schools × 12 SLAs = {lines.count()} lines → {count} invoices "
        f"(£{gross / 100:,.2f}), PDFs included, PostgreSQL, {mode}"
        f"\ninvoicing run: {figures['wall']:.1f} s from start to every invoice issued with its PDF "
        f"({count / figures['wall']:.1f} invoices/s, {lines.count() / figures['wall']:.0f} lines/s)"
    )
    if WORKER:
        print(f"invoicing run: every invoice issued after {figures['documents_at']:.1f} s; PDFs done after that")
    else:
        issuing = figures["wall"] - figures["pdf_seconds"]
        print(
            f"invoicing run: issuing (documents, numbers, ledger) {issuing:.1f} s "
            f"({issuing / len(booking_ids) * 1000:.0f} ms a school); "
            f"{figures['pdfs']} PDFs {figures['pdf_seconds']:.1f} s "
            f"({figures['pdf_seconds'] / max(figures['pdfs'], 1) * 1000:.0f} ms each); CPU {figures['cpu']:.1f} s"
        )
    print(
        f"invoicing run: set-up (not timed) {setup:.1f} s; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores; "
        f"yardstick loop {_yardstick_ms():.0f} ms CPU (about 12 ms on an idle modern core)"
    )
