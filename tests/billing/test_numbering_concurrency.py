"""Concurrent issuers on PostgreSQL: every council's numbers stay gapless and unique."""

import datetime
import threading
from collections import defaultdict

import pytest
from django.db import connection

from billing.models import BillingDocument
from billing.services.documents import issue_invoice
from tests.billing.factories import exempt_course
from tests.factories import SchoolFactory

THREADS = 12
INVOICES_PER_THREAD = 6
ISSUED = datetime.date(2026, 5, 11)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_issuers_get_gapless_unique_numbers_per_council(councils):
    """Twelve threads with their own connections issue 72 invoices for two councils at once: no gaps, no dupes."""
    school = SchoolFactory(funding_route="academy")
    chosen = [councils["staffordshire"], councils["worcestershire"]]
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []
    issued = defaultdict(list)

    def issuer(index: int) -> None:
        try:
            start.wait(timeout=30)
            for k in range(INVOICES_PER_THREAD):
                council = chosen[(index + k) % 2]
                invoice = issue_invoice(council=council, customer=school, lines=[exempt_course()], issue_date=ISSUED)
                issued[council.pk].append(invoice.sequence_number)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issuer, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    total = THREADS * INVOICES_PER_THREAD
    assert sum(len(numbers) for numbers in issued.values()) == total
    for council in chosen:
        stored = list(
            BillingDocument.objects.filter(council=council)
            .order_by("sequence_number")
            .values_list("sequence_number", "number")
        )
        expected = total // 2
        # Gapless and unique: exactly 1..n, each number once, in the council's own sequence and format.
        assert [n for n, _ in stored] == list(range(1, expected + 1))
        assert sorted(issued[council.pk]) == list(range(1, expected + 1))
        assert stored[-1][1] == f"{council.invoice_prefix}-2026-{expected:06d}"
