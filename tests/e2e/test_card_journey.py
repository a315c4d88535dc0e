"""The card checkout in Chromium: Severn Valley Academy's SBM books a course from Staffordshire and one from
Shropshire, pays by card through the local fake Stripe.js (a declined card first, then a 3-D Secure card), and
downloads both councils' receipts. Every page is scanned with axe (no serious or critical findings allowed)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check
from tests.stripe_fake import localstripe, localstripe_server, stripe_gateway  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.stripe]

# The fake Stripe.js draws plain inputs where real Stripe draws its own iframe: they are not ours to scan.
NOT_OURS = {"exclude": [["#card-element"]]}


@pytest.fixture
def stripe_in_the_browser(request, settings):
    """Stripe.js from the local fake, and a Content Security Policy that lets the page load and talk to it."""
    request.getfixturevalue("stripe_gateway")  # the server's gateway and keys point at the local fake too
    server = request.getfixturevalue("localstripe")
    settings.STRIPE_JS_URL = f"{server.url}/js.stripe.com/v3/"
    policy = {**settings.CONTENT_SECURITY_POLICY, "DIRECTIVES": dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])}
    for directive in ("script-src", "frame-src", "connect-src"):
        policy["DIRECTIVES"][directive] = ["'self'", server.url]
    settings.CONTENT_SECURITY_POLICY = policy
    return server


@pytest.fixture
def market(transactional_db):
    """Severn Valley Academy (a Shropshire academy) with its SBM, and a course from each council."""
    from allauth.account.models import EmailAddress

    from portal.councils import ensure_partnership_councils
    from tests.billing.booking_world import Market

    market = Market(ensure_partnership_councils())
    EmailAddress.objects.create(user=market.sbm, email=market.sbm.email, verified=True, primary=True)
    return market


def _sign_in(page, email):
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def _add_place(page, course, name, email):
    page.goto(course.url)
    expect(page.locator("h1")).to_have_text(course.title)
    page.get_by_label("Full name of the person attending").fill(name)
    page.get_by_label("Their email address").fill(email)
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_url("**/bookings/basket/**")
    axe_check(page)


def _enter_card(page, number):
    for placeholder, value in (
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "WV16 4ER"),
    ):
        page.locator(f"#card-element input[placeholder={placeholder}]").fill(value)


def test_sbm_pays_two_councils_by_card_and_downloads_both_receipts(page, market, stripe_in_the_browser):
    """Checkout by card → declined card (GOV.UK error, still waiting) → 3-D Secure card → confirmed → two PDFs."""
    from billing.models import BillingDocument
    from bookings.models import Booking

    _sign_in(page, market.sbm.email)
    _add_place(page, market.staffs_course, "Sam Brook", "sbm@severnvalley.example")
    _add_place(page, market.shrops_course, "Priya Shah", "priya@severnvalley.example")
    expect(page.get_by_test_id("basket-total")).to_have_text("£250.00")

    page.get_by_role("button", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/bookings/checkout/TCB-[A-Z0-9]{6}/$"))
    for council in ("Staffordshire", "Shropshire"):
        page.get_by_role("group", name=f"How will you pay {council}?").get_by_label("Pay now by card").check()
    page.get_by_label("Purchase order number").fill("SVA-PO-301")
    axe_check(page)
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.locator("h1")).to_have_text("Booking waiting for payment")
    reference = page.get_by_test_id("booking-reference").inner_text()
    axe_check(page)

    page.get_by_role("link", name="Pay by card").click()
    expect(page.locator("h1")).to_have_text(f"Pay for booking {reference} by card")
    expect(page.get_by_test_id("card-total")).to_have_text("£250.00")
    page.locator("#card-element input").first.wait_for()
    axe_check(page, context=NOT_OURS)

    # A card the bank declines: a GOV.UK error summary, nothing paid, the booking still waiting.
    _enter_card(page, "4000000000000341")
    page.get_by_role("button", name="Pay £250.00").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("declined")
    expect(page.locator("#card-error")).to_contain_text("declined")
    axe_check(page, context=NOT_OURS)
    booking = Booking.objects.get(reference=reference)
    assert booking.status == "awaiting_payment" and not BillingDocument.objects.exists()

    # The payer fails the bank's check: our words, not Stripe's, and still nothing paid.
    _enter_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay £250.00").click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(page.locator("#card-error")).to_contain_text(
        "Your bank did not confirm the card. You have not been charged."
    )
    assert Booking.objects.get(reference=reference).status == "awaiting_payment"

    # A 3-D Secure card: the bank asks when the card is saved and again for the payment.
    _enter_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay £250.00").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(re.compile(rf".*/billing/bookings/{reference}/pay/$"))
    expect(page.locator(".govuk-panel__title")).to_have_text("Payment received")
    documents = page.get_by_test_id("booking-documents")
    axe_check(page)
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    receipts = list(BillingDocument.objects.filter(school=market.academy).order_by("council__la_code"))
    assert [(d.council.la_code, d.route, d.status, d.gross_pence) for d in receipts] == [
        ("860", "card", "paid", 10_000),
        ("893", "card", "paid", 15_000),
    ]
    assert {d.po_number for d in receipts} == {"SVA-PO-301"}

    for receipt in receipts:
        expect(documents.get_by_role("row", name=re.compile(receipt.number))).to_contain_text("Paid")
        with page.expect_download() as download:
            documents.get_by_role("link", name=f"Download PDF of {receipt.number}").click()
        assert download.value.suggested_filename == f"{receipt.number}.pdf"
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"

    # The receipt's own page, reached from the list, is scanned too.
    documents.get_by_role("link", name=receipts[0].number, exact=True).click()
    expect(page.locator("h1")).to_contain_text(receipts[0].number)
    axe_check(page)


def test_finance_officer_closes_a_refused_refund_task(page, market):
    """A refund Stripe refused shows on Shropshire's finance pages; closing it needs a note. Every page axe-scanned."""
    from allauth.account.models import EmailAddress

    from billing.fake_gateway import SUCCEEDS, InMemoryGateway
    from billing.gateway import PaymentError, override_gateway
    from billing.models import FinanceTask
    from billing.services.booking_payments import pay_booking_by_card
    from bookings.services.cancellations import cancel_line
    from tests.factories import CouncilMembershipFactory

    class RefusingGateway(InMemoryGateway):
        def refund(self, **kwargs):
            raise PaymentError("card account closed (test)")

    with override_gateway(RefusingGateway()):
        booking = market.book(dates=[market.shrops_date], routes={market.shrops: "card"})
        pay_booking_by_card(booking=booking, payment_method_id=SUCCEEDS)
        cancel_line(line=booking.lines.get(), by=market.sbm)
    task = FinanceTask.objects.get()
    finance = CouncilMembershipFactory(council=market.shrops, role="finance").user
    EmailAddress.objects.create(user=finance, email=finance.email, verified=True, primary=True)

    _sign_in(page, finance.email)
    page.goto("/billing/finance/")
    page.get_by_role("link", name=re.compile("1 task")).click()
    expect(page.locator("h1")).to_have_text("Tasks needing action")
    expect(page.get_by_test_id("open-tasks")).to_contain_text(booking.reference)
    axe_check(page)
    page.get_by_role("link", name=task.title).click()
    expect(page.get_by_test_id("task-details")).to_contain_text("card account closed")
    axe_check(page)
    page.get_by_role("button", name="Close the task").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what you did about it")
    axe_check(page)
    page.get_by_label("What did you do about it?").fill("Refunded £150.00 by BACS on 26 November, ref SVA-R1.")
    page.get_by_role("button", name="Close the task").click()
    expect(page.get_by_test_id("no-tasks")).to_be_visible()
    expect(page.locator("body")).to_contain_text("Refunded £150.00 by BACS")
    axe_check(page)
    task.refresh_from_db()
    assert task.status == "done" and task.resolved_by == finance
