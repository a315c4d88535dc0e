"""Paying for a booking by card: the services and pages on the in-memory gateway, signed webhooks, refunds on
cancellation, refused refunds left for finance, and the whole flow against localstripe with webhooks delivered to
a live server."""

import json
import time

import pytest
from django.urls import reverse

from billing.fake_gateway import DECLINED, NEEDS_3DS, SUCCEEDS, InMemoryGateway
from billing.gateway import CardDeclined, PaymentError, override_gateway
from billing.models import (
    BillingDocument,
    DocumentStatus,
    DocumentType,
    FinanceTask,
    FinanceTaskKind,
    FinanceTaskStatus,
    LedgerEntry,
    LedgerEntryType,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
)
from billing.services.booking_payments import (
    attempt_key,
    complete_booking_card_payment,
    pay_booking_by_card,
)
from bookings.models import Booking, BookingStatus, StatusChange
from bookings.services.cancellations import cancel_line
from tests.billing.booking_world import Market
from tests.billing.webhook_helpers import TEST_SECRET, payload, post_event
from tests.factories import CouncilMembershipFactory, SchoolMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(councils):
    return Market(councils)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run


@pytest.fixture
def card_booking(market, on_commit):
    """Severn Valley Academy: Staffordshire and Shropshire by card (£100 + £150), Worcestershire invoiced (£96)."""
    with on_commit():
        booking = market.book(routes={market.staffs: "card", market.shrops: "card"}, po_number="SVA-PO-9")
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    return booking


def fresh(booking):
    return Booking.objects.get(pk=booking.pk)


def documents_of(booking, document_type=None):
    documents = BillingDocument.objects.filter(source_reference__startswith=f"booking:{booking.reference}:")
    if document_type:
        documents = documents.filter(document_type=document_type)
    return documents.order_by("council__la_code", "pk")


def pay(booking, on_commit, method=SUCCEEDS):
    with on_commit():
        return pay_booking_by_card(booking=booking, payment_method_id=method)


def test_card_payment_confirms_the_booking_with_receipts_and_an_invoice(card_booking, market, fake_gateway, on_commit):
    """One PaymentIntent for the card total, council split in metadata; paid receipts for the card councils."""
    outcome = pay(card_booking, on_commit)
    assert outcome.succeeded
    payment = outcome.payment
    intent = fake_gateway.intents[payment.stripe_payment_intent_id]
    assert intent.amount_pence == 25_000
    assert {k: v for k, v in intent.metadata.items() if k.startswith("council_")} == {
        "council_860": "10000",
        "council_893": "15000",
    }
    assert payment.reference == f"booking:{card_booking.reference}"
    assert payment.idempotency_key == f"booking:{card_booking.reference}:attempt:1"
    booking = fresh(card_booking)
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_reference == intent.id
    staffs, worcs, shrops = documents_of(booking)
    for receipt, pence in ((staffs, 10_000), (shrops, 15_000)):
        assert (receipt.document_type, receipt.route, receipt.status) == ("invoice", "card", DocumentStatus.PAID)
        assert receipt.gross_pence == pence and receipt.outstanding_pence == 0
        assert receipt.payments.get().card_payment == payment
    assert (worcs.route, worcs.status, worcs.gross_pence) == ("invoice", DocumentStatus.ISSUED, 9_600)
    # Card money is posted once per council on arrival; the receipts post their sales.
    card_entries = LedgerEntry.objects.filter(payment=payment, entry_type=LedgerEntryType.PAYMENT)
    assert sorted((e.council.la_code, e.gross_pence) for e in card_entries) == [("860", 10_000), ("893", 15_000)]
    assert sum(e.gross_pence for e in LedgerEntry.objects.filter(entry_type=LedgerEntryType.SALE)) == 34_600


def test_three_d_secure_waits_for_the_server_re_fetch(card_booking, fake_gateway, on_commit):
    """requires_action leaves the booking waiting; after the browser's step the server's re-fetch confirms it."""
    outcome = pay(card_booking, on_commit, NEEDS_3DS)
    assert outcome.requires_action and outcome.client_secret
    assert fresh(card_booking).status == BookingStatus.AWAITING_PAYMENT
    assert not BillingDocument.objects.exists()
    # The browser's word is not enough: before Stripe says so, completing changes nothing.
    with on_commit():
        complete_booking_card_payment(booking=card_booking, payment_id=outcome.payment.pk)
    assert fresh(card_booking).status == BookingStatus.AWAITING_PAYMENT
    fake_gateway.authenticate(outcome.payment.stripe_payment_intent_id)
    with on_commit():
        payment = complete_booking_card_payment(booking=card_booking, payment_id=outcome.payment.pk)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert fresh(card_booking).status == BookingStatus.CONFIRMED
    assert documents_of(card_booking).count() == 3


def test_declined_card_keeps_the_booking_waiting_and_a_new_attempt_can_pay(card_booking, fake_gateway, on_commit):
    """A decline: clear message, booking awaiting payment with the failure on its trail; the next card pays."""
    with pytest.raises(CardDeclined) as declined:
        pay(card_booking, on_commit, DECLINED)
    assert "declined" in declined.value.user_message.lower()
    booking = fresh(card_booking)
    assert booking.status == BookingStatus.AWAITING_PAYMENT and booking.payment_failed_at is not None
    assert StatusChange.objects.filter(booking=booking, reason__startswith="The card payment failed").exists()
    assert attempt_key(booking).endswith(":attempt:2")
    assert pay(card_booking, on_commit).succeeded
    assert fresh(card_booking).status == BookingStatus.CONFIRMED
    assert Payment.objects.filter(reference=f"booking:{card_booking.reference}").count() == 2


def test_a_double_submit_charges_once(card_booking, fake_gateway, on_commit):
    """Two charge requests for one attempt (a double click, a retried request): one PaymentIntent, one charge."""
    first = pay(card_booking, on_commit, NEEDS_3DS)
    second = pay(card_booking, on_commit, NEEDS_3DS)
    assert first.payment.pk == second.payment.pk
    assert [call for call in fake_gateway.calls if call[0] == "create_payment"] == [
        ("create_payment", first.payment.stripe_payment_intent_id)
    ]


def test_paying_a_booking_that_cannot_be_paid_is_refused(card_booking, market, fake_gateway, on_commit):
    """Paid already, or its hold ran out: the charge is refused before Stripe is asked."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    Booking.objects.filter(pk=card_booking.pk).update(hold_expires_at=timezone.now())
    with pytest.raises(ValidationError, match="time to pay ran out"):
        pay(card_booking, on_commit)
    assert fake_gateway.calls == []


def test_money_for_a_booking_cancelled_meanwhile_goes_back_to_the_card(card_booking, fake_gateway, on_commit):
    """The hold ran out and the booking was cancelled while 3-D Secure was open: the payment is refunded in full."""
    from bookings.services.holds import cancel_open_booking

    outcome = pay(card_booking, on_commit, NEEDS_3DS)
    with on_commit():
        cancel_open_booking(booking=fresh(card_booking), by=None, reason="Hold expired.")
    fake_gateway.authenticate(outcome.payment.stripe_payment_intent_id)
    with on_commit():
        payment = complete_booking_card_payment(booking=card_booking, payment_id=outcome.payment.pk)
    assert fresh(card_booking).status == BookingStatus.CANCELLED
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount_pence, refund.status) == (25_000, RefundStatus.SUCCEEDED)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert not BillingDocument.objects.exists()


def test_signed_webhook_alone_confirms_the_booking_once(card_booking, fake_gateway, on_commit, client, settings):
    """A 3-D Secure payment confirmed only by a signed payment_intent.succeeded; duplicates and a late failure
    event change nothing (one set of documents, one ledger posting)."""
    settings.STRIPE_WEBHOOK_SECRET = TEST_SECRET
    outcome = pay(card_booking, on_commit, NEEDS_3DS)
    payment = outcome.payment
    fake_gateway.authenticate(payment.stripe_payment_intent_id)  # the browser's step; nobody tells the server

    def event(name, event_id):
        body = json.loads(payload(name))
        body["id"] = event_id
        body["data"]["object"].update(
            id=payment.stripe_payment_intent_id,
            amount=payment.amount_pence,
            metadata={"portal_payment_id": str(payment.pk)},
        )
        return json.dumps(body).encode()

    with on_commit():
        response = post_event(client, event("payment_intent.succeeded", "evt_booking_paid_1"))
    assert response.status_code == 200
    booking = fresh(card_booking)
    assert booking.status == BookingStatus.CONFIRMED
    counts = (BillingDocument.objects.count(), LedgerEntry.objects.count())
    assert counts[0] == 3
    with on_commit():
        again = post_event(client, event("payment_intent.succeeded", "evt_booking_paid_1"))
        late = post_event(client, event("payment_intent.payment_failed", "evt_booking_failed_late"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert late.status_code == 200
    assert fresh(card_booking).status == BookingStatus.CONFIRMED
    assert (BillingDocument.objects.count(), LedgerEntry.objects.count()) == counts
    assert StripeEvent.objects.filter(event_id="evt_booking_paid_1").count() == 1
    assert post_event(client, event("payment_intent.succeeded", "evt_forged"), signature="t=1,v1=00").status_code == 400


# --- Refunds on cancellation ----------------------------------------------------------------------------


def test_cancelling_a_card_paid_place_refunds_it_with_a_credit_note(card_booking, market, fake_gateway, on_commit):
    """Free cancellation of the Shropshire place: credit note on its receipt, £150 refunded from Shropshire's share."""
    payment = pay(card_booking, on_commit).payment
    line = card_booking.lines.get(council=market.shrops)
    with on_commit():
        cancel_line(line=line, by=market.sbm)
    receipt = documents_of(card_booking, DocumentType.INVOICE).get(council=market.shrops)
    credit_note = documents_of(card_booking, DocumentType.CREDIT_NOTE).get()
    assert credit_note.credited_document == receipt and credit_note.gross_pence == 15_000
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount_pence, refund.status, refund.council, refund.credit_note) == (
        15_000,
        RefundStatus.SUCCEEDED,
        market.shrops,
        credit_note,
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED and payment.amount_refunded_pence == 15_000
    refunds = LedgerEntry.objects.filter(entry_type=LedgerEntryType.REFUND)
    assert [(e.council, e.gross_pence) for e in refunds] == [(market.shrops, -15_000)]
    # Billing the booking again neither credits nor refunds twice.
    from billing.services.bookings import bill_booking

    result = bill_booking(booking_id=card_booking.pk)
    assert result.credit_notes == [] and result.refunds == []
    assert Refund.objects.count() == 1


def test_card_money_fees_and_refunds_in_the_ledger_name_the_school(card_booking, market, fake_gateway, on_commit):
    """A booking's card payment, its fee share and its refunds post with the paying school, like invoice entries."""
    from bookings.services.holds import cancel_open_booking

    payment = pay(card_booking, on_commit).payment
    with on_commit():
        cancel_line(line=card_booking.lines.get(council=market.shrops), by=market.sbm)
    entries = LedgerEntry.objects.filter(payment=payment)
    assert {e.entry_type for e in entries} == {
        LedgerEntryType.PAYMENT,
        LedgerEntryType.CARD_FEE,
        LedgerEntryType.REFUND,
    }
    assert {e.school for e in entries} == {market.academy}
    # A payment refunded whole because its booking was cancelled first (a refund with no credit note).
    with on_commit():
        other = market.book(dates=[market.staffs_date], routes={market.staffs: "card"})
    outcome = pay(other, on_commit, NEEDS_3DS)
    with on_commit():
        cancel_open_booking(booking=fresh(other), by=None, reason="Hold expired.")
    fake_gateway.authenticate(outcome.payment.stripe_payment_intent_id)
    with on_commit():
        complete_booking_card_payment(booking=other, payment_id=outcome.payment.pk)
    entries = LedgerEntry.objects.filter(payment=outcome.payment)
    assert {e.entry_type for e in entries} >= {LedgerEntryType.PAYMENT, LedgerEntryType.REFUND}
    assert {e.school for e in entries} == {market.academy}


class RefusingGateway(InMemoryGateway):
    """Stripe refusing every refund (an expired card, a closed account)."""

    def refund(self, **kwargs):
        raise PaymentError("card account closed (test)", code="charge_expired_for_capture")


def test_a_refund_stripe_refuses_is_a_task_on_the_finance_pages(market, on_commit, client):
    """The refusal opens a task for the council's finance officers (not another council's); they retry or close it."""
    with override_gateway(RefusingGateway()) as gateway:
        with on_commit():
            booking = market.book(dates=[market.shrops_date], routes={market.shrops: "card"})
        with on_commit():
            pay_booking_by_card(booking=booking, payment_method_id=SUCCEEDS)
        with on_commit():
            cancel_line(line=booking.lines.get(), by=market.sbm)
        refund = Refund.objects.get()
        assert refund.status == RefundStatus.FAILED
        task = FinanceTask.objects.get()
        assert (task.kind, task.council, task.refund, task.amount_pence, task.booking_reference) == (
            FinanceTaskKind.REFUND_FAILED,
            market.shrops,
            refund,
            15_000,
            booking.reference,
        )
        finance = CouncilMembershipFactory(council=market.shrops, role="finance").user
        other_finance = CouncilMembershipFactory(council=market.staffs, role="finance").user
        client.force_login(finance)
        home = client.get(reverse("billing:finance"))
        assert "1 task" in home.content.decode()
        listing = client.get(reverse("billing:finance_tasks", args=[market.shrops.slug]))
        assert task.title in listing.content.decode()
        page = client.get(reverse("billing:finance_task", args=[task.pk]))
        assert "Ask Stripe for the refund again" in page.content.decode()
        # Retried and refused again: the first task closes, a new one opens.
        with on_commit():
            response = client.post(reverse("billing:finance_task_retry_refund", args=[task.pk]))
        assert response.status_code == 302
        task.refresh_from_db()
        assert task.status == FinanceTaskStatus.DONE
        second = FinanceTask.objects.get(status=FinanceTaskStatus.OPEN)
        assert second.refund != refund and second.refund.status == RefundStatus.FAILED
        # Closing needs a note; with one, the task is done.
        assert client.post(reverse("billing:finance_task", args=[second.pk]), {"resolution": ""}).status_code == 400
        response = client.post(
            reverse("billing:finance_task", args=[second.pk]), {"resolution": "Refunded £150.00 by BACS, ref SV-1."}
        )
        assert response.status_code == 302
        second.refresh_from_db()
        assert second.status == FinanceTaskStatus.DONE and second.resolved_by == finance
        assert gateway is not None
    client.force_login(other_finance)
    assert client.get(reverse("billing:finance_task", args=[task.pk])).status_code == 404
    assert task.title not in client.get(reverse("billing:finance_tasks", args=[market.staffs.slug])).content.decode()
    assert client.get(reverse("billing:finance_tasks", args=[market.shrops.slug])).status_code == 403


class SwitchableRefusingGateway(InMemoryGateway):
    """Stripe refusing refunds until told otherwise."""

    refuse = True

    def refund(self, **kwargs):
        if self.refuse:
            raise PaymentError("card account closed (test)", code="charge_expired_for_capture")
        return super().refund(**kwargs)


def test_retrying_a_refused_refund_after_the_money_went_back_another_way_is_refused(market, on_commit, client):
    """Retry re-checks, under the payment lock, what is still refundable: refunded meanwhile, Stripe is not asked
    again, finance gets a message and the task stays open; the retry's key is stable per attempt."""
    from billing.services.refunds import request_refund

    with override_gateway(SwitchableRefusingGateway()) as gateway:
        with on_commit():
            booking = market.book(dates=[market.shrops_date], routes={market.shrops: "card"})
        with on_commit():
            payment = pay_booking_by_card(booking=booking, payment_method_id=SUCCEEDS).payment
        with on_commit():
            cancel_line(line=booking.lines.get(), by=market.sbm)
        refused = Refund.objects.get()
        task = FinanceTask.objects.get(kind=FinanceTaskKind.REFUND_FAILED)
        gateway.refuse = False
        with on_commit():  # another path gives the whole payment back meanwhile
            request_refund(payment=payment, amount_pence=15_000, reason="Refunded by hand", idempotency_key="manual")
        stripe_refunds = len(gateway.refunds)
        client.force_login(CouncilMembershipFactory(council=market.shrops, role="finance").user)
        with on_commit():
            response = client.post(reverse("billing:finance_task_retry_refund", args=[task.pk]), follow=True)
        assert response.status_code == 200
        assert "Only £0.00 of" in response.content.decode()
        task.refresh_from_db()
        assert task.status == FinanceTaskStatus.OPEN
        assert len(gateway.refunds) == stripe_refunds and Refund.objects.count() == 2
        assert not Refund.objects.filter(idempotency_key__startswith=f"{refused.idempotency_key}:retry:").exists()


# --- The pages --------------------------------------------------------------------------------------------


def test_only_members_of_the_school_reach_the_payment_page(card_booking, market, client):
    """The school's members see the page; other schools, council staff and administrators get 404."""
    url = reverse("billing:pay_booking", args=[card_booking.reference])
    assert client.get(url).status_code == 302  # anonymous: sign in first
    booker = SchoolMembershipFactory(school=market.academy, role="booker").user
    client.force_login(booker)
    page = client.get(url)
    assert page.status_code == 200 and "£250.00" in page.content.decode()
    for outsider in (
        SchoolMembershipFactory(school=market.maintained, role="approver").user,
        CouncilMembershipFactory(council=market.shrops, role="finance").user,
        UserFactory(is_superuser=True, is_staff=True),
    ):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        for step in ("pay_booking_setup", "pay_booking_charge", "pay_booking_complete", "pay_booking_by_invoice"):
            assert client.post(reverse(f"billing:{step}", args=[card_booking.reference])).status_code == 404


def test_the_payment_page_steps(card_booking, market, fake_gateway, client, on_commit):
    """setup → charge (declined: 402 with a message; 3-D Secure: the secret) → complete → confirmed page."""
    client.force_login(market.sbm)
    ref = card_booking.reference
    page = client.get(reverse("billing:pay_booking", args=[ref])).content.decode()
    assert "card_payment.js" in page and "<noscript>" in page and "Pay by invoice instead" in page
    setup = client.post(reverse("billing:pay_booking_setup", args=[ref]))
    assert setup.json()["status"] == "ok" and setup.json()["client_secret"]
    charge_url = reverse("billing:pay_booking_charge", args=[ref])
    with on_commit():
        declined = client.post(charge_url, {"payment_method": DECLINED}, content_type="application/json")
    assert declined.status_code == 402 and "declined" in declined.json()["message"]
    with on_commit():
        action = client.post(charge_url, {"payment_method": NEEDS_3DS}, content_type="application/json").json()
    assert action["status"] == "requires_action" and action["client_secret"]
    fake_gateway.authenticate(Payment.objects.get(pk=action["payment"]).stripe_payment_intent_id)
    with on_commit():
        done = client.post(
            reverse("billing:pay_booking_complete", args=[ref]), {"payment": action["payment"]}, "application/json"
        ).json()
    assert done == {"status": "succeeded", "redirect": reverse("billing:pay_booking", args=[ref])}
    confirmed = client.get(done["redirect"]).content.decode()
    assert "Payment received" in confirmed
    for document in documents_of(card_booking):
        assert document.number in confirmed and reverse("billing:document_pdf", args=[document.pk]) in confirmed


def test_without_javascript_the_school_can_pay_by_invoice_instead(card_booking, market, client, on_commit):
    """The card form posted without its script says why; "Pay by invoice instead" confirms and invoices."""
    client.force_login(market.sbm)
    ref = card_booking.reference
    response = client.post(reverse("billing:pay_booking", args=[ref]))
    assert response.status_code == 400 and "Paying by card needs JavaScript" in response.content.decode()
    with on_commit():
        response = client.post(reverse("billing:pay_booking_by_invoice", args=[ref]))
    assert response.status_code == 302
    booking = fresh(card_booking)
    assert booking.status == BookingStatus.CONFIRMED
    assert set(booking.lines.values_list("payment_route", flat=True)) == {"invoice"}
    assert [(d.route, d.status) for d in documents_of(booking)] == [("invoice", "issued")] * 3


def test_checkout_and_booking_pages_link_to_the_payment_page(card_booking, market, client):
    """The checkout confirmation and the booking page offer "Pay by card" while the booking awaits payment."""
    client.force_login(market.sbm)
    url = reverse("billing:pay_booking", args=[card_booking.reference])
    assert url in client.get(reverse("bookings:confirmation", args=[card_booking.reference])).content.decode()
    assert url in client.get(reverse("bookings:detail", args=[card_booking.reference])).content.decode()


# --- The whole flow against localstripe, webhooks delivered to a live server ----------------------------


def wait_for(condition, *, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.stripe
@pytest.mark.django_db(transaction=True)
def test_whole_flow_against_localstripe_with_webhooks_to_a_live_server(
    live_server, localstripe, stripe_gateway, settings, councils
):
    """Checkout by card → 3-D Secure → confirmed by the delivered webhook alone → receipts; a cancellation is
    refunded through localstripe; a declined card leaves the next booking waiting."""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_billing3_live_test"
    localstripe.register_webhook(
        "billing3-live", url=f"{live_server.url}/stripe/webhook/", secret=settings.STRIPE_WEBHOOK_SECRET
    )
    try:
        market = Market(councils)
        booking = market.book(
            dates=[market.staffs_date, market.shrops_date], routes={market.staffs: "card", market.shrops: "card"}
        )
        outcome = pay_booking_by_card(booking=booking, payment_method_id=localstripe.create_card("4000002500003155"))
        assert outcome.requires_action
        payment = outcome.payment
        intent = localstripe.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
        assert intent["amount"] == 25_000 and intent["metadata"]["council_893"] == "15000"
        localstripe.authenticate(payment.stripe_payment_intent_id, outcome.client_secret)
        # Nobody calls the server: only the webhook can confirm the booking now.
        wait_for(lambda: fresh(booking).status == BookingStatus.CONFIRMED, what="the webhook to confirm the booking")
        receipts = list(documents_of(booking))
        assert [(d.council.la_code, d.status, d.gross_pence) for d in receipts] == [
            ("860", "paid", 10_000),
            ("893", "paid", 15_000),
        ]
        wait_for(
            lambda: StripeEvent.objects.filter(type="payment_intent.succeeded", processed_at__isnull=False).exists(),
            what="the event to be marked processed",
        )

        cancel_line(line=booking.lines.get(council=market.staffs), by=market.sbm)
        wait_for(lambda: Refund.objects.filter(status=RefundStatus.SUCCEEDED).exists(), what="the refund")
        refunded = localstripe.get(f"/v1/payment_intents/{payment.stripe_payment_intent_id}")
        charge = refunded["charges"]["data"][0] if "charges" in refunded else None
        if charge is not None:
            assert charge["amount_refunded"] == 10_000
        payment.refresh_from_db()
        assert payment.status == PaymentStatus.PARTIALLY_REFUNDED and payment.amount_refunded_pence == 10_000
        assert documents_of(booking, DocumentType.CREDIT_NOTE).get().gross_pence == 10_000

        second = market.book(dates=[market.worcs_date], routes={market.worcs: "card"})
        with pytest.raises(CardDeclined):
            pay_booking_by_card(booking=second, payment_method_id="pm_card_chargeCustomerFail")
        assert fresh(second).status == BookingStatus.AWAITING_PAYMENT
        assert not documents_of(second).exists()
    finally:
        localstripe.register_webhook("billing3-live", url="http://127.0.0.1:9/", secret="x", events=["none.none"])
