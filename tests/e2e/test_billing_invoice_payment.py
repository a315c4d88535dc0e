"""Billing in Chromium: Severn Valley Academy's SBM pays an overdue invoice by card through the local fake Stripe.js
(a declined card first, then a 3-D Secure card) and downloads it; a finance officer walks the finance pages.
Every page is scanned with axe (no serious or critical findings allowed)."""

import datetime
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
def academy(transactional_db):
    """Severn Valley Academy with its SBM (an approver), an overdue Shropshire invoice and a Worcestershire one."""
    from allauth.account.models import EmailAddress

    from portal.councils import ensure_partnership_councils
    from tests.billing.factories import exempt_course, make_invoice, standard_service
    from tests.factories import CouncilMembershipFactory, SchoolFactory, SchoolMembershipFactory

    councils = ensure_partnership_councils()
    school = SchoolFactory(name="Severn Valley Academy", funding_route="academy", la_code="893")
    sbm = SchoolMembershipFactory(school=school, role="approver").user
    finance = CouncilMembershipFactory(council=councils["shropshire"], role="finance").user
    for user in (sbm, finance):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    overdue = make_invoice(
        council=councils["shropshire"],
        school=school,
        lines=[exempt_course(unit_net_pence=14_500, description="Phonics in Practice (course, 3 March 2026)")],
        po_number="SVA-PO-118",
        issue_date=datetime.date.today() - datetime.timedelta(days=45),
    )
    current = make_invoice(
        council=councils["worcestershire"],
        school=school,
        lines=[standard_service(unit_net_pence=20_000, description="Governor clerking SLA (first instalment)")],
        po_number="SVA-PO-119",
    )
    return {"school": school, "sbm": sbm, "finance": finance, "overdue": overdue, "current": current}


def _sign_in(page, email):
    from tests.factories import PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def _enter_card(page, number):
    for placeholder, value in (
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "SY1 1HH"),
    ):
        page.locator(f"#card-element input[placeholder={placeholder}]").fill(value)


def test_sbm_pays_an_overdue_invoice_by_card_and_downloads_it(page, academy, stripe_in_the_browser):
    """Declined card → GOV.UK error; 3-D Secure card → authenticated twice → paid (server-checked) → PDF download."""
    overdue = academy["overdue"]
    _sign_in(page, academy["sbm"].email)
    section = page.locator("#section-billing_schools")
    expect(section).to_contain_text("1 overdue")
    axe_check(page)

    section.get_by_role("link", name=re.compile("View invoices and receipts")).click()
    expect(page.locator("h1")).to_have_text("Invoices and receipts")
    expect(page.get_by_role("row", name=re.compile(overdue.number))).to_contain_text("Overdue")
    axe_check(page)

    page.get_by_role("link", name=overdue.number).click()
    expect(page.locator("h1")).to_have_text(f"VAT invoice {overdue.number}")
    axe_check(page)
    page.get_by_role("link", name="Pay £145.00 by card").click()
    expect(page.locator("h1")).to_have_text(f"Pay {overdue.number} by card")
    page.locator("#card-element input").first.wait_for()
    axe_check(page, context=NOT_OURS)

    # A card the bank declines: the school is told plainly, nothing is paid.
    _enter_card(page, "4000000000000341")
    page.get_by_role("button", name="Pay £145.00").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("declined")
    axe_check(page, context=NOT_OURS)
    overdue.refresh_from_db()
    assert overdue.status == "issued"

    # A 3-D Secure card: the bank asks when the card is saved and again for the payment.
    _enter_card(page, "4000002500003155")
    page.get_by_role("button", name="Pay £145.00").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(re.compile(rf".*/billing/documents/{overdue.pk}/\?paid=1$"))
    expect(page.locator(".govuk-panel__title")).to_have_text("Payment received")
    axe_check(page)
    overdue.refresh_from_db()
    assert overdue.status == "paid" and overdue.payments.get().card_payment.status == "succeeded"

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download PDF")).click()
    assert download.value.suggested_filename == f"{overdue.number}.pdf"

    # The other council's invoice, paid with an ordinary card.
    current = academy["current"]
    page.goto(f"/billing/documents/{current.pk}/pay/")
    page.locator("#card-element input").first.wait_for()
    _enter_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay £240.00").click()
    page.wait_for_url(re.compile(rf".*/billing/documents/{current.pk}/\?paid=1$"))
    current.refresh_from_db()
    assert current.status == "paid"


def test_finance_officer_walks_the_finance_pages(page, academy):
    """Landing → documents (overdue filter) → invoice → record a payment → ledger → settlements → remittances."""
    overdue = academy["overdue"]
    _sign_in(page, academy["finance"].email)
    page.get_by_role("link", name="Go to finance").click()
    expect(page.locator("h1")).to_have_text("Finance")
    axe_check(page)
    page.get_by_role("link", name="1 overdue").click()
    expect(page.get_by_role("row", name=re.compile(overdue.number))).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name=overdue.number).click()
    page.get_by_role("link", name="Record a payment").click()
    page.get_by_role("button", name="Record payment").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    axe_check(page)
    page.get_by_label("Amount received").fill("45.00")
    page.get_by_label("Date received").fill(datetime.date.today().strftime("%d/%m/%Y"))
    page.get_by_label("Bank transfer (BACS)").check()
    page.get_by_label("Payment reference").fill("BACS SVA 0042")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text(f"{overdue.number} is now part paid")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Back to the council's documents").click()
    for link, heading in (
        ("Income ledger", "Income ledger"),
        ("Card settlements", "Card settlements"),
        ("Remittance files", "Remittance and bank files"),
    ):
        page.get_by_role("link", name=link, exact=True).click()
        expect(page.locator("h1")).to_contain_text(heading)
        axe_check(page)
