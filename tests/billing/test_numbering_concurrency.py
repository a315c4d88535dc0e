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
from tests.postgres import wait_until_another_session_waits_for_a_lock

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_crediting_in_full_while_another_credit_holds_the_invoice_credits_only_what_is_left(councils):
    """Session A credits line 1 and holds the invoice; B credits the invoice in full meanwhile. B waits for the lock
    and then credits line 2 only: never line 1 again, never a refusal over a line it read before waiting."""
    from django.db import transaction

    from billing.services.documents import CreditLineInput, credit_invoice_in_full, issue_credit_note
    from tests.billing.factories import make_invoice

    invoice = make_invoice(council=councils["staffordshire"], school=SchoolFactory(funding_route="academy"))
    first_line, second_line = invoice.lines.all()
    held, errors, done = threading.Event(), [], {}

    def credit_line_one():
        try:
            with transaction.atomic():
                done["a"] = issue_credit_note(
                    invoice=invoice, lines=[CreditLineInput(line=first_line)], reason="Place refilled"
                )
                held.set()
                wait_until_another_session_waits_for_a_lock()
        except BaseException as error:  # asserted below
            errors.append(error)
        finally:
            held.set()
            connection.close()

    def credit_in_full():
        try:
            assert held.wait(timeout=30)
            done["b"] = credit_invoice_in_full(invoice=invoice, reason="Course cancelled")
        except BaseException as error:  # asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=credit_line_one), threading.Thread(target=credit_in_full)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert [line.credited_line_id for line in done["b"].lines.all()] == [second_line.pk]
    invoice.refresh_from_db()
    assert invoice.amount_credited_pence == invoice.gross_pence == done["a"].gross_pence + done["b"].gross_pence
    assert invoice.status == "cancelled"
    assert sorted(BillingDocument.objects.credit_notes().values_list("sequence_number", flat=True)) == [1, 2]
