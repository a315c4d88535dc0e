"""Approvals: when a booker's booking waits for the school's approver, the decision, the emails, the pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings import tasks
from bookings.models import Booking, BookingStatus, LineStatus, SchoolBookingSettings
from bookings.services import approvals, checkout
from bookings.services.holds import release_expired_holds
from catalogue.models import CourseDate, ServicePage
from portal.models import School
from tests.bookings.factories import SchoolBookingSettingsFactory, World, school_user
from tests.factories import CouncilMembershipFactory

pytestmark = pytest.mark.django_db

INVOICE = "invoice"


@pytest.fixture
def world(councils):
    world = World(councils)
    SchoolBookingSettingsFactory(school=world.school, approval_policy="always")
    return world


def _submit(world, user=None, route=INVOICE, capture=None):
    user = user or world.booker
    world.add_place(user=user, name="Ann Lee", email="ann@oakfield.example")
    world.add_place(user=user, course_date=world.shrops_date, name="Bob Ray", email="bob@oakfield.example")
    booking = checkout.start_checkout(basket=world.basket(user), user=user)
    routes = {world.staffs.pk: route, world.shrops.pk: route}
    if capture is not None:
        with capture(execute=True):
            return checkout.submit_checkout(booking=booking, user=user, po_number="PO-1", routes=routes)
    return checkout.submit_checkout(booking=booking, user=user, po_number="PO-1", routes=routes)


def test_booker_booking_waits_for_approval_with_a_longer_hold(world, django_capture_on_commit_callbacks):
    """Policy 'always': awaiting approval, places held 72 hours on booking and lines, approver emailed once."""
    booking = _submit(world, capture=django_capture_on_commit_callbacks)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_APPROVAL
    assert timedelta(hours=71) < booking.hold_expires_at - timezone.now() <= timedelta(hours=72)
    assert set(booking.lines.values_list("status", flat=True)) == {LineStatus.HELD}
    assert {line.hold_expires_at for line in booking.lines.all()} == {booking.hold_expires_at}
    assert [m.to for m in mail.outbox] == [["sbm@oakfield.example"]]
    assert booking.reference in mail.outbox[0].subject or booking.reference in mail.outbox[0].body
    assert tasks.send_approval_request(booking.pk) == 0 and len(mail.outbox) == 1


def test_approvers_own_booking_needs_no_approval(world):
    """The approver booking for the school is not asked to approve their own booking."""
    booking = _submit(world, user=world.approver)
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.parametrize(("threshold", "expected"), [("300.00", "confirmed"), ("249.99", "awaiting_approval")])
def test_above_amount_policy_compares_the_net_total(world, threshold, expected):
    """'Above an amount': £250 of courses waits only when the threshold is below £250."""
    SchoolBookingSettings.objects.filter(school=world.school).update(
        approval_policy="above_amount", approval_threshold=Decimal(threshold)
    )
    assert _submit(world).status == expected


def test_service_that_always_needs_approval(world):
    """A service marked 'needs the school's approval' waits even when the school's policy is none."""
    SchoolBookingSettings.objects.filter(school=world.school).update(approval_policy="none")
    ServicePage.objects.filter(pk=world.shrops_course.pk).update(requires_school_approval=True)
    assert _submit(world).status == BookingStatus.AWAITING_APPROVAL


def test_approve_confirms_an_invoice_booking_and_tells_the_booker(world, django_capture_on_commit_callbacks):
    """Approval by the approver: confirmed, lines booked, approver recorded, booker emailed the outcome once."""
    booking = _submit(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.approve_booking(booking=booking, approver=world.approver)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.approved_by == world.approver
    assert set(booking.lines.values_list("status", flat=True)) == {LineStatus.BOOKED}
    outcome = [m for m in mail.outbox if m.to == ["teacher@oakfield.example"] and "approved" in m.subject]
    assert len(outcome) == 1
    assert tasks.send_approval_outcome(booking.pk) == 0
    trail = list(booking.status_changes.filter(line=None).values_list("to_status", "by"))
    assert trail[-2:] == [("awaiting_approval", world.booker.pk), ("confirmed", world.approver.pk)]


def test_approve_a_card_booking_leaves_it_awaiting_payment(world):
    """An approved card booking goes on to wait for the payment."""
    booking = approvals.approve_booking(booking=_submit(world, route="card"), approver=world.approver)
    assert booking.status == BookingStatus.AWAITING_PAYMENT


def test_decline_needs_a_reason_frees_places_and_tells_the_booker(world, django_capture_on_commit_callbacks):
    """Declining without a reason is refused; with one, lines cancelled, places freed, booker told why."""
    booking = _submit(world)
    with pytest.raises(ValidationError) as caught:
        approvals.decline_booking(booking=booking, approver=world.approver, reason="  ")
    assert "reason" in caught.value.message_dict
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approvals.decline_booking(booking=booking, approver=world.approver, reason="No budget left this term.")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.declined_reason == "No budget left this term."
    assert set(booking.lines.values_list("status", flat=True)) == {LineStatus.CANCELLED}
    assert CourseDate.objects.get(pk=world.staffs_date.pk).places_taken == 0
    (email,) = [m for m in mail.outbox if m.to == ["teacher@oakfield.example"]]
    assert "declined" in email.subject and "No budget left this term." in email.body


def test_only_the_schools_approver_decides(world):
    """A booker, or the approver of another school, cannot decide the booking."""
    booking = _submit(world)
    for user in (world.booker, school_user(None, "approver")):
        with pytest.raises(PermissionDenied):
            approvals.approve_booking(booking=booking, approver=user)
        with pytest.raises(PermissionDenied):
            approvals.decline_booking(booking=booking, approver=user, reason="x")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_APPROVAL


def test_a_booking_is_decided_once(world):
    """After an approval, a late decline (a second approver, a double click) is refused with a clear message."""
    booking = _submit(world)
    second_approver = school_user(world.school, "approver")
    approvals.approve_booking(booking=booking, approver=world.approver)
    with pytest.raises(ValidationError, match="no longer waiting for approval"):
        approvals.decline_booking(booking=booking, approver=second_approver, reason="Too late")


def test_expired_approval_hold_cannot_be_approved_and_the_booker_is_told(world, django_capture_on_commit_callbacks):
    """After 72 hours undecided: approving is refused; the release task cancels it and emails the booker."""
    booking = _submit(world)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="can no longer be approved"):
        approvals.approve_booking(booking=booking, approver=world.approver)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert release_expired_holds() == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert [m.to for m in mail.outbox] == [["teacher@oakfield.example"]]
    assert "not approved in time" in mail.outbox[0].subject


def test_settings_need_a_threshold_for_above_amount(world):
    """'Above an amount' without an amount is refused; with one it is saved with the PO rule."""
    with pytest.raises(ValidationError):
        approvals.update_approval_settings(
            school=world.school,
            user=world.approver,
            policy="above_amount",
            threshold=None,
            requires_purchase_order=False,
        )
    approvals.update_approval_settings(
        school=world.school,
        user=world.approver,
        policy="above_amount",
        threshold=Decimal("500.00"),
        requires_purchase_order=True,
    )
    row = SchoolBookingSettings.objects.get(school=world.school)
    assert (row.approval_policy, row.approval_threshold) == ("above_amount", Decimal("500.00"))
    assert School.objects.get(pk=world.school.pk).requires_purchase_order is True
    with pytest.raises(PermissionDenied):
        approvals.update_approval_settings(
            school=world.school, user=world.booker, policy="none", threshold=None, requires_purchase_order=False
        )


# --- Pages ----------------------------------------------------------------------------------------------


def test_approver_decides_from_the_dashboard(world, client, django_capture_on_commit_callbacks):
    """The dashboard lists the booking for the approver; approving from the booking page confirms it."""
    booking = _submit(world)
    client.force_login(world.approver)
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert "Bookings to approve" in dashboard and booking.reference in dashboard
    detail = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    assert "Approve booking" in detail and "Decline booking" in detail
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("bookings:approve", args=[booking.reference]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_booker_dashboard_has_no_approvals_section(world, client):
    """A booker sees no approvals section and no approve button on their own booking."""
    booking = _submit(world)
    client.force_login(world.booker)
    assert "Bookings to approve" not in client.get(reverse("portal:dashboard")).content.decode()
    assert "Approve booking" not in client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    assert client.post(reverse("bookings:approve", args=[booking.reference])).status_code == 403


def test_decline_page_shows_the_missing_reason(world, client):
    """Declining with an empty reason re-shows the form with the error linked to the field."""
    booking = _submit(world)
    client.force_login(world.approver)
    page = client.post(reverse("bookings:decline", args=[booking.reference]), {"reason": ""}).content.decode()
    assert "There is a problem" in page and 'href="#id_reason"' in page


def test_approval_settings_page(world, client):
    """The approver saves the school's booking rules; a booker of the school is refused."""
    url = reverse("bookings:approval_settings", args=[world.school.urn])
    client.force_login(world.approver)
    page = client.post(url, {"approval_policy": "above_amount", "approval_threshold": ""}).content.decode()
    assert "Enter the amount above which bookings need approval." in page
    response = client.post(url, {"approval_policy": "above_amount", "approval_threshold": "250"})
    assert response.status_code == 302
    assert SchoolBookingSettings.objects.get(school=world.school).approval_threshold == Decimal("250.00")
    client.force_login(world.booker)
    assert client.get(url).status_code == 403


# --- Every role against every booking URL ------------------------------------------------------------------

ROLES = [
    "anonymous",
    "booker",
    "colleague",
    "approver",
    "other_school_approver",
    "providing_council_admin",
    "other_council_finance",
]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_against_every_booking_url(world, client, role):
    """Detail, approve and decline: each role gets exactly its due (data, 403, 404 or sign-in), never more."""
    booking = _submit(world)
    people = {
        "booker": world.booker,
        "colleague": school_user(world.school, "booker"),
        "approver": world.approver,
        "other_school_approver": school_user(None, "approver"),
        "providing_council_admin": CouncilMembershipFactory(council=world.shrops, role="course_admin").user,
        "other_council_finance": CouncilMembershipFactory(
            council=world.councils["worcestershire"], role="finance"
        ).user,
    }
    if role != "anonymous":
        client.force_login(people[role])
    detail = client.get(reverse("bookings:detail", args=[booking.reference]))
    decline = client.get(reverse("bookings:decline", args=[booking.reference]))
    expected_detail = {
        "anonymous": 302,
        "booker": 200,
        "colleague": 200,
        "approver": 200,
        "other_school_approver": 404,
        "providing_council_admin": 200,
        "other_council_finance": 404,
    }[role]
    assert detail.status_code == expected_detail
    if role == "providing_council_admin":
        page = detail.content.decode()
        assert "Phonics in Practice" in page and "Safeguarding Update" not in page  # only their council's line
    expected_decide = {"anonymous": 302, "approver": 200}.get(role, 403 if role in ("booker", "colleague") else 404)
    assert decline.status_code == expected_decide
    if role != "approver":
        response = client.post(reverse("bookings:approve", args=[booking.reference]))
        assert response.status_code in (302, 403, 404) and response.status_code == (
            302 if role == "anonymous" else expected_decide
        )
        booking.refresh_from_db()
        assert booking.status == BookingStatus.AWAITING_APPROVAL


# --- Review fixes ---------------------------------------------------------------------------------------------


def test_approved_card_booking_waits_a_day_for_payment_and_the_email_says_until_when(
    world, django_capture_on_commit_callbacks
):
    """After approval a card booking is held for BOOKINGS_PAYMENT_AFTER_APPROVAL_HOURS (24), not 30 minutes."""
    booking = _submit(world, route="card")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booking = approvals.approve_booking(booking=booking, approver=world.approver)
    booking.refresh_from_db()
    assert timedelta(hours=23) < booking.hold_expires_at - timezone.now() <= timedelta(hours=24)
    assert {line.hold_expires_at for line in booking.lines.all()} == {booking.hold_expires_at}
    (email,) = [m for m in mail.outbox if m.to == ["teacher@oakfield.example"]]
    assert (
        "paying by card" in email.body and timezone.localtime(booking.hold_expires_at).strftime("%H:%M") in email.body
    )


def test_an_approver_who_lost_the_role_cannot_decide(world):
    """The approver role is checked when deciding: someone made a booker meanwhile is refused."""
    from portal.models import SchoolMembership

    booking = _submit(world)
    SchoolMembership.objects.filter(user=world.approver).update(role="booker")
    with pytest.raises(PermissionDenied):
        approvals.approve_booking(booking=booking, approver=world.approver)


def test_a_lost_race_is_a_message_not_a_server_error(world, client, monkeypatch):
    """If the booking changed under the approver (StaleStatus), the page says so and nothing is saved."""
    from bookings.states import StaleStatus

    booking = _submit(world)

    def raced(**kwargs):
        raise StaleStatus("changed meanwhile")

    monkeypatch.setattr("bookings.views.approvals.approvals.approve_booking", raced)
    client.force_login(world.approver)
    response = client.post(reverse("bookings:approve", args=[booking.reference]), follow=True)
    assert response.status_code == 200
    assert "Someone changed this booking at the same time as you" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_APPROVAL


@pytest.mark.parametrize(
    ("amount", "message"),
    [("abc", "Enter the amount as a number, like 500 or 499.99"), ("-5", "Enter an amount of £0 or more")],
)
def test_booking_rules_show_one_clear_message_for_a_bad_amount(world, client, amount, message):
    """A threshold that is not a number, or is negative, gets one message that says what to enter."""
    client.force_login(world.approver)
    url = reverse("bookings:approval_settings", args=[world.school.urn])
    html = client.post(url, {"approval_policy": "above_amount", "approval_threshold": amount}).content.decode()
    assert html.count('href="#id_approval_threshold"') == 1
    assert f'href="#id_approval_threshold">{message}</a>' in html
    assert "Ensure this value" not in html and "Enter a number." not in html


def test_the_approval_request_formats_money_like_the_pages(world, django_capture_on_commit_callbacks):
    """Amounts in the approver's email read £1,440.00 (thousands separator, as on the pages), not £1440.00."""
    from bookings.services.basket import add_subscription, terms_on_sale

    add_subscription(basket=world.basket(), service=world.sla, term_start=terms_on_sale(service=world.sla)[0])
    booking = checkout.start_checkout(basket=world.basket(), user=world.booker)
    with django_capture_on_commit_callbacks(execute=True):
        checkout.submit_checkout(
            booking=booking, user=world.booker, po_number="PO-1", routes={world.staffs.pk: INVOICE}
        )
    (email,) = [m for m in mail.outbox if m.to == ["sbm@oakfield.example"]]
    assert "£1,440.00" in email.body and "£1440.00" not in email.body
