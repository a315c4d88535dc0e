"""Waiting lists, cancellations, subscriptions, the bookings dashboard and "your data" in a real browser: a
school joins a full date's waiting list (first with an error), is offered a freed place and books it; the SBM
cancels a place with the cost shown first; every page visited passes an axe scan."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser

PASSWORD = "a-long-enough-password-2026"


@pytest.fixture
def scene(transactional_db, councils):
    from allauth.account.models import EmailAddress

    from tests.bookings.factories import SubscriptionFactory, World
    from tests.bookings.flows import another_school, fill

    world = World(councils, capacity=1)
    fill(world.staffs_date, school=world.school, user=world.approver)
    elm, elm_booker = another_school(name="Elm Grove Primary")
    SubscriptionFactory(school=world.school, service=world.sla, auto_renew=True)
    for user in (world.approver, elm_booker):
        user.set_password(PASSWORD)
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return {"world": world, "elm": elm, "elm_booker": elm_booker}


def _sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def test_waiting_list_offer_and_cancellation_pages_pass_axe(page, scene):
    """Join (with an error, then properly), the offer, the cancel page, subscriptions, dashboard, your data."""
    from django.urls import reverse

    from bookings.models import BookingLine, WaitingListEntry
    from bookings.services import cancellations

    world = scene["world"]
    _sign_in(page, scene["elm_booker"].email)
    page.goto(reverse("bookings:waiting_list_join", args=[world.staffs_date.pk]))
    axe_check(page)
    page.get_by_role("button", name="Join the waiting list").click()
    page.locator(".govuk-error-summary").wait_for()
    axe_check(page)
    page.get_by_label("Full name of the person who would attend").fill("Wendy Wait")
    page.get_by_role("button", name="Join the waiting list").click()
    page.wait_for_url("**/dashboard/")
    expect(page.locator("#section-waiting_lists")).to_contain_text("Waiting")
    axe_check(page)

    # Oakfield's SBM cancels its place: the freed place is offered to Elm Grove at once.
    line = BookingLine.objects.get(course_date=world.staffs_date, status="booked")
    cancellations.cancel_line(line=line, by=world.approver)
    from bookings.services.waiting_list import offer_places

    offer_places(course_date_id=world.staffs_date.pk)
    entry = WaitingListEntry.objects.get()
    page.goto(reverse("bookings:waiting_list_offer", args=[entry.pk]))
    expect(page.get_by_role("heading", name="A place is offered to you")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Book this place").click()
    page.locator(".govuk-error-summary").wait_for()  # no payment route chosen
    axe_check(page)
    page.get_by_label("Invoice (30 days)").check()
    page.get_by_role("button", name="Book this place").click()
    page.wait_for_url("**/done/")

    page.goto(reverse("bookings:your_data"))
    axe_check(page)

    # The SBM's side: a place inside the charge window, its cancel page, the subscriptions and dashboard.
    page.context.clear_cookies()
    _sign_in(page, world.approver.email)
    axe_check(page)
    from tests.bookings.factories import add_course_date
    from tests.bookings.flows import confirmed_place

    soon = confirmed_place(
        school=world.school,
        user=world.approver,
        course_date=add_course_date(world.staffs_course, capacity=3, days_ahead=4),
    )
    page.goto(reverse("bookings:cancel_line", args=[soon.booking.reference, soon.pk]))
    expect(page.get_by_test_id("cancel-cost")).to_contain_text("Cancelling now costs £100.00")
    axe_check(page)
    page.goto(reverse("bookings:subscriptions", args=[world.school.urn]))
    axe_check(page)
    page.get_by_role("button", name="Stop automatic renewal of HR Advice SLA").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("will not renew automatically")
    axe_check(page)
