"""Monthly card settlements per council: statement from the ledger, page, CSV, PDF, and idempotent payouts."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.fake_gateway import SUCCEEDS
from billing.models import PayoutStatus, Settlement
from billing.payouts import FakePayoutProvider, PayoutProvider, StripeConnectPayoutProvider, override_payout_provider
from billing.selectors.settlements import settlement_statement
from billing.services.payments import start_card_payment
from billing.services.refunds import request_refund
from billing.services.settlements import pay_out_settlement, settle_month
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

MAY = datetime.date(2026, 5, 1)


def _pay(amount, shares, key):
    return start_card_payment(
        reference=f"basket:{key}",
        amount_pence=amount,
        council_shares=shares,
        customer_id="cus_test",
        payment_method_id=SUCCEEDS,
        idempotency_key=key,
    ).payment


@pytest.fixture
def may_payments(councils, fake_gateway, django_capture_on_commit_callbacks):
    """Two basket payments in May (Staffordshire and Shropshire), a Shropshire refund in May, one payment in June."""
    may, june = (datetime.datetime(2026, month, day, 12, tzinfo=datetime.UTC) for month, day in ((5, 10), (6, 2)))
    with time_machine.travel(may), django_capture_on_commit_callbacks(execute=True):
        first = _pay(16_200, {"860": 4_200, "893": 12_000}, "a")
        second = _pay(10_000, {"893": 10_000}, "b")
        request_refund(
            payment=second,
            amount_pence=2_500,
            reason="Place cancelled",
            idempotency_key="r",
            council=councils["shropshire"],
        )
    with time_machine.travel(june), django_capture_on_commit_callbacks(execute=True):
        third = _pay(5_000, {"893": 5_000}, "c")
    return first, second, third


def test_statement_is_income_less_fees_and_refunds(councils, may_payments):
    """Shropshire's May: its shares of both payments, less its fee shares and its refund, with the payments listed."""
    first, second, _ = may_payments
    statement = settlement_statement(council=councils["shropshire"], month=MAY)
    # Fees (1.5% + 20p): 263p on the first (Shropshire's share 195p), 170p on the second (all Shropshire's).
    assert (statement.income_pence, statement.fees_pence, statement.refunds_pence) == (22_000, 365, 2_500)
    assert statement.owed_pence == 22_000 - 365 - 2_500
    assert [(row.payment, row.share_pence, row.fee_pence) for row in statement.payments] == [
        (first, 12_000, 195),
        (second, 10_000, 170),
    ]
    staffordshire = settlement_statement(council=councils["staffordshire"], month=MAY)
    assert (staffordshire.income_pence, staffordshire.fees_pence, staffordshire.owed_pence) == (4_200, 68, 4_132)
    # Every penny of May's card money is somebody's: shares sum to the payments, fee shares to the fees.
    assert staffordshire.income_pence + statement.income_pence == first.amount_pence + second.amount_pence
    first.refresh_from_db()
    second.refresh_from_db()
    assert staffordshire.fees_pence + statement.fees_pence == first.fee_pence + second.fee_pence


def test_settling_freezes_the_month_and_pays_out_once(councils, may_payments):
    """A settled month pays its owed amount once through the provider, whatever is asked again."""
    council = councils["shropshire"]
    provider = FakePayoutProvider()
    with time_machine.travel(datetime.datetime(2026, 6, 3, 9, tzinfo=datetime.UTC)):
        settlement = settle_month(council=council, month=MAY)
        assert settle_month(council=council, month=MAY).pk == settlement.pk
        paid = pay_out_settlement(settlement=settlement, provider=provider)
        again = pay_out_settlement(settlement=settlement, provider=provider)
    assert paid.payout_status == PayoutStatus.PAID and again.payout_reference == paid.payout_reference
    assert provider.total_pence == settlement.owed_pence == 19_135
    assert provider.transfers[settlement.pk].destination == "acct_fake_893"
    assert Settlement.objects.count() == 1


def test_a_month_that_has_not_ended_cannot_be_settled(councils, may_payments):
    """Settling May on 31 May is refused: more card money may still arrive."""
    with (
        time_machine.travel(datetime.datetime(2026, 5, 31, 9, tzinfo=datetime.UTC)),
        pytest.raises(ValidationError, match="has not ended"),
    ):
        settle_month(council=councils["shropshire"], month=MAY)


def test_fake_provider_is_idempotent_by_settlement_id():
    """Asking twice for one settlement returns the first transfer and moves no more money."""
    provider = FakePayoutProvider()
    first = provider.transfer(settlement_id=7, amount_pence=1_000, destination="acct_1")
    second = provider.transfer(settlement_id=7, amount_pence=1_000, destination="acct_1")
    assert first == second and provider.total_pence == 1_000 and provider.calls == [7, 7]
    with pytest.raises(ValueError):
        provider.transfer(settlement_id=8, amount_pence=0, destination="acct_1")


def test_stripe_connect_provider_sends_one_transfer_per_settlement():
    """The live provider asks Stripe for a GBP transfer keyed by the settlement (client stubbed: no Connect here)."""
    sent = []

    class Transfers:
        def create(self, params, options):
            sent.append((params, options))
            return type("Transfer", (), {"id": "tr_live_1", "amount": params["amount"]})()

    provider = StripeConnectPayoutProvider(api_key="sk_test_x")
    provider.client = type("Client", (), {"v1": type("V1", (), {"transfers": Transfers()})()})()
    assert isinstance(provider, PayoutProvider) and isinstance(FakePayoutProvider(), PayoutProvider)
    result = provider.transfer(settlement_id=12, amount_pence=4_132, destination="acct_860")
    assert result.id == "tr_live_1"
    params, options = sent[0]
    assert (params["amount"], params["currency"], params["destination"]) == (4_132, "gbp", "acct_860")
    assert options == {"idempotency_key": "settlement:12"}


def test_statement_page_csv_and_pdf(client, councils, may_payments):
    """Finance sees the month as a page, a CSV that adds up and a PDF; an admin pays it out from the page."""
    council = councils["shropshire"]
    client.force_login(CouncilMembershipFactory(council=council, role="finance").user)
    args = [council.slug, 2026, 5]
    page = client.get(reverse("billing:settlement", args=args)).content.decode()
    assert "£220.00" in page and "£3.65" in page and "£25.00" in page and "£191.35" in page
    assert "Pay £191.35" not in page  # finance reads; only administrators pay out
    rows = client.get(reverse("billing:settlement_csv", args=args)).content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("Date,Kind,Card payment") and rows[-1].endswith("191.35")
    pdf = client.get(reverse("billing:settlement_pdf", args=args))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    provider = FakePayoutProvider()
    with (
        override_payout_provider(provider),
        time_machine.travel(datetime.datetime(2026, 6, 3, 9, tzinfo=datetime.UTC)),
    ):
        assert "Pay £191.35 to Shropshire" in client.get(reverse("billing:settlement", args=args)).content.decode()
        client.post(reverse("billing:settlement_payout", args=args))
        client.post(reverse("billing:settlement_payout", args=args))
    assert provider.total_pence == 19_135 and len(provider.transfers) == 1
