"""The booking journey in Chromium: Oakfield's teacher books two courses from two councils, the school business
manager approves from the dashboard, and the booking ends confirmed, to be invoiced. Every page visited is scanned
with axe (no serious or critical findings allowed)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser


@pytest.fixture
def oakfield(transactional_db):
    """Oakfield Primary (approval always needed), its teacher and SBM with verified emails, two councils' courses."""
    from allauth.account.models import EmailAddress

    from portal.councils import ensure_partnership_councils
    from tests.bookings.factories import SchoolBookingSettingsFactory, World

    world = World(ensure_partnership_councils())
    SchoolBookingSettingsFactory(school=world.school, approval_policy="always")
    for user in (world.booker, world.approver):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return world


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
    axe_check(page)
    page.get_by_label("Full name of the person attending").fill(name)
    page.get_by_label("Their email address").fill(email)
    page.get_by_role("button", name="Add to basket").click()
    page.wait_for_url("**/bookings/basket/**")
    expect(page.locator(".govuk-notification-banner, .govuk-notification-banner--success").first).to_contain_text(
        "Added to your basket"
    )
    axe_check(page)


def test_teacher_books_two_councils_sbm_approves_confirmed_by_invoice(page, oakfield):
    """Teacher: two courses (Staffordshire, Shropshire) → checkout by invoice → awaits approval; SBM approves."""
    world = oakfield
    _sign_in(page, world.booker.email)
    axe_check(page)

    _add_place(page, world.staffs_course, "Tess Teacher", "teacher@oakfield.example")
    _add_place(page, world.shrops_course, "Ravi Patel", "ravi@oakfield.example")
    expect(page.get_by_test_id("basket-group-staffordshire")).to_contain_text("Safeguarding Update")
    expect(page.get_by_test_id("basket-group-shropshire")).to_contain_text("Phonics in Practice")
    expect(page.get_by_test_id("basket-total")).to_have_text("£250.00")

    page.get_by_role("button", name="Continue to checkout").click()
    page.wait_for_url(re.compile(r".*/bookings/checkout/TCB-[A-Z0-9]{6}/$"))
    expect(page.get_by_test_id("hold-notice")).to_contain_text("Your places are held until")
    axe_check(page)
    # Submitting without choosing routes shows the GOV.UK error summary, which is scanned too.
    page.get_by_role("button", name="Confirm booking").click()
    page.locator(".govuk-error-summary").wait_for()
    axe_check(page)
    for council in ("Staffordshire", "Shropshire"):
        page.get_by_role("group", name=f"How will you pay {council}?").get_by_label("Invoice (30 days)").check()
    page.get_by_label("Purchase order number").fill("OAK-PO-2231")
    page.get_by_role("button", name="Confirm booking").click()

    expect(page.locator("h1")).to_have_text("Booking sent for approval")
    reference = page.get_by_test_id("booking-reference").inner_text()
    axe_check(page)
    page.get_by_role("link", name="See the booking").click()
    expect(page.get_by_test_id("booking-status")).to_have_text("Awaiting approval")
    axe_check(page)
    page.get_by_role("button", name="Sign out").click()

    _sign_in(page, world.approver.email)
    section = page.locator("#section-approvals")
    expect(section).to_contain_text(reference)
    axe_check(page)
    section.get_by_role("link", name=re.compile(reference)).click()
    expect(page.locator("h1")).to_have_text(f"Booking {reference}")
    expect(page.get_by_test_id("audit-trail")).to_contain_text("Sent to the school's approver.")
    axe_check(page)
    page.get_by_role("button", name="Approve booking").click()
    page.wait_for_url("**/bookings/approvals/")
    expect(page.locator("body")).to_contain_text(f"You approved booking {reference}. It is confirmed.")
    axe_check(page)

    page.goto(f"/bookings/{reference}/")
    expect(page.get_by_test_id("booking-status")).to_have_text("Confirmed")
    expect(page.locator("table").first).to_contain_text("Invoice (30 days)")
    expect(page.get_by_test_id("audit-trail")).to_contain_text("Approved by Sam Manager")
    axe_check(page)

    from bookings.models import Booking

    booking = Booking.objects.get(reference=reference)
    assert booking.status == "confirmed" and booking.po_number == "OAK-PO-2231"
    assert set(booking.lines.values_list("status", "payment_route")) == {("booked", "invoice")}
    assert {line.council.slug for line in booking.lines.all()} == {"staffordshire", "shropshire"}
    subjects = {(m.to[0], m.subject) for m in mail.outbox}
    assert ("teacher@oakfield.example", f"Your booking {reference} was approved") in subjects
    assert any(to == "ravi@oakfield.example" for to, _ in subjects)  # the delegate's own confirmation
