"""Cancellations: the service's policy (free up to N days before, full charge inside), waivers by council
course admins with a reason, a council cancelling a whole date, who may do what, and the cancel page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingStatus, LineStatus, StatusChange, Subscription, WaitingStatus
from bookings.services import cancellations, waiting_list
from bookings.services.basket import add_course_place, add_subscription, get_basket
from bookings.services.checkout import start_checkout, submit_checkout
from catalogue.models import CourseDate
from catalogue.services import cancel_course_date
from tests.bookings.factories import World, add_course_date, add_service, school_user
from tests.bookings.flows import another_school, confirmed_place
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils)


def council_user(council, role):
    user = UserFactory()
    CouncilMembershipFactory(user=user, council=council, role=role)
    return user


def _place(world, *, days_ahead=30, user=None, **kwargs):
    course_date = add_course_date(world.staffs_course, capacity=5, days_ahead=days_ahead)
    return confirmed_place(school=world.school, user=user or world.approver, course_date=course_date, **kwargs)


# --- The policy ---------------------------------------------------------------------------------------


def test_cancelling_is_free_up_to_the_free_days_and_charged_in_full_after(world):
    """At the last free moment (14 days before the start) nothing is charged; one second later the net price is."""
    line = _place(world)
    free_until = line.course_date.starts_at - timedelta(days=14)
    free = cancellations.cancellation_terms(line=line, at=free_until)
    charged = cancellations.cancellation_terms(line=line, at=free_until + timedelta(seconds=1))
    assert (free.charge, free.is_free) == (Decimal("0.00"), True)
    assert (charged.charge, charged.is_free) == (Decimal("100.00"), False)
    assert "14 days before the start" in charged.explanation and "£100.00" in charged.explanation
    assert "waiting list" in charged.explanation


def test_the_service_sets_the_number_of_free_days(world):
    """A course with 3 free days charges nothing 5 days before."""
    world.staffs_course.cancellation_free_days = 3
    world.staffs_course.save_revision().publish()
    line = _place(world, days_ahead=5)
    assert cancellations.cancellation_terms(line=line).is_free


def test_a_free_cancellation_frees_the_place_cancels_the_booking_and_tells_booker_and_delegate(
    world, django_capture_on_commit_callbacks
):
    """The line is cancelled without charge, its place goes back, the now empty booking is cancelled, the
    audit trail says who and why, and the booker and the delegate each get one email."""
    line = _place(world, email="dee@oakfield.example")
    before = CourseDate.objects.get(pk=line.course_date_id).places_taken
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = cancellations.cancel_line(line=line, by=world.approver, reason="Staff illness")
    assert (cancelled.status, cancelled.cancellation_charge) == (LineStatus.CANCELLED, Decimal("0.00"))
    assert CourseDate.objects.get(pk=line.course_date_id).places_taken == before - 1
    line.booking.refresh_from_db()
    assert line.booking.status == BookingStatus.CANCELLED
    change = StatusChange.objects.filter(line=line, to_status=LineStatus.CANCELLED).get()
    assert change.by == world.approver and "Staff illness" in change.reason and "no charge" in change.reason
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([world.approver.email, "dee@oakfield.example"])
    assert "There is no charge" in next(m.body for m in mail.outbox if m.to == [world.approver.email])


def test_a_late_cancellation_keeps_the_full_charge_and_the_rest_of_the_booking(world):
    """Inside the window the net price stays charged; the booking's other place keeps it confirmed."""
    course_date = add_course_date(world.staffs_course, capacity=5, days_ahead=7)
    first = confirmed_place(school=world.school, user=world.approver, course_date=course_date)
    # A second line on the same booking: book two places in one checkout.
    from bookings.services.basket import add_course_place

    basket = get_basket(school=world.school, owner=world.approver)
    for name in ("A", "B"):
        add_course_place(basket=basket, course_date=course_date, delegate_name=name, delegate_email=f"{name}@o.example")
    booking = submit_checkout(
        booking=start_checkout(basket=basket, user=world.approver),
        user=world.approver,
        po_number="",
        routes={course_date.council_id: "invoice"},
    )
    a, b = booking.lines.order_by("pk")
    cancelled = cancellations.cancel_line(line=a, by=world.approver)
    assert cancelled.cancellation_charge == Decimal("100.00")
    booking.refresh_from_db()
    b.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and b.status == LineStatus.BOOKED
    assert first.status == LineStatus.BOOKED


def test_cancelling_a_subscription_ends_it_and_counts_from_the_term_start(world):
    """An SLA cancelled before its term (more than the free days) is free and stops being active."""
    term = world.sla.next_term_start(timezone.localdate())
    basket = get_basket(school=world.school, owner=world.approver)
    add_subscription(basket=basket, service=world.sla, term_start=term)
    booking = submit_checkout(
        booking=start_checkout(basket=basket, user=world.approver),
        user=world.approver,
        po_number="",
        routes={world.sla.council_id: "invoice"},
    )
    line = booking.lines.get()
    subscription = Subscription.objects.get(booking_line=line)
    terms = cancellations.cancellation_terms(line=line)
    expected_free = (term - timedelta(days=world.sla.cancellation_free_days)) >= timezone.localdate()
    assert terms.is_free == expected_free
    cancellations.cancel_line(line=line, by=world.approver)
    subscription.refresh_from_db()
    assert subscription.status == "cancelled" and subscription.cancelled_at is not None


def test_what_cannot_be_cancelled_is_refused_with_a_reason(world):
    """Twice, after the start, or while still at checkout: each refused, nothing changed."""
    line = _place(world)
    cancellations.cancel_line(line=line, by=world.approver)
    with pytest.raises(ValidationError, match="already been cancelled"):
        cancellations.cancel_line(line=line, by=world.approver)
    started = _place(world)
    CourseDate.objects.filter(pk=started.course_date_id).update(
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=5)
    )
    started.refresh_from_db()
    with pytest.raises(ValidationError, match="has started"):
        cancellations.cancel_line(line=started, by=world.approver)
    from bookings.services.basket import add_course_place

    basket = get_basket(school=world.school, owner=world.booker)
    add_course_place(basket=basket, course_date=world.staffs_date, delegate_name="X", delegate_email="x@o.example")
    held = start_checkout(basket=basket, user=world.booker).lines.get()
    with pytest.raises(ValidationError, match="not confirmed yet"):
        cancellations.cancel_line(line=held, by=world.booker)
    assert held.status == LineStatus.HELD


def test_who_may_cancel(world):
    """The approver, the person who booked, and the council's course admin may; a colleague booker, a council
    editor or finance officer, and another council's course admin may not."""
    line = _place(world, user=world.booker)
    colleague = school_user(world.school, "booker")
    staffs, shrops = world.staffs, world.shrops
    assert cancellations.may_cancel_line(world.approver, line)
    assert cancellations.may_cancel_line(world.booker, line)
    assert cancellations.may_cancel_line(council_user(staffs, "course_admin"), line)
    for user in (
        colleague,
        council_user(staffs, "editor"),
        council_user(staffs, "finance"),
        council_user(shrops, "course_admin"),
    ):
        assert not cancellations.may_cancel_line(user, line)
    with pytest.raises(PermissionDenied):
        cancellations.cancel_line(line=line, by=colleague)
    line.refresh_from_db()
    assert line.status == LineStatus.BOOKED


# --- Waivers ------------------------------------------------------------------------------------------


def test_a_course_admin_waives_a_charge_with_a_reason(world, django_capture_on_commit_callbacks):
    """The charge drops to nothing, who/when/why are kept and put on the trail, and the booker is told."""
    line = cancellations.cancel_line(line=_place(world, days_ahead=3), by=world.approver)
    admin = council_user(world.staffs, "course_admin")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        waived = cancellations.waive_charge(line=line, by=admin, reason="Snow closed the school")
    assert waived.cancellation_charge == Decimal("0.00")
    assert (waived.charge_waived_by, waived.charge_waived_reason) == (admin, "Snow closed the school")
    event = StatusChange.objects.filter(line=line).order_by("-pk").first()
    assert event.is_event and "£100.00 waived: Snow closed the school" in event.reason
    assert [m.to for m in mail.outbox] == [[world.approver.email]]


def test_waiving_needs_a_reason_a_charge_and_the_right_person(world):
    """No reason, nothing to waive, or a council editor / finance officer / other council: refused, unchanged."""
    line = cancellations.cancel_line(line=_place(world, days_ahead=3), by=world.approver)
    admin = council_user(world.staffs, "course_admin")
    with pytest.raises(ValidationError) as caught:
        cancellations.waive_charge(line=line, by=admin, reason="  ")
    assert "reason" in caught.value.message_dict
    for user in (
        council_user(world.staffs, "editor"),
        council_user(world.staffs, "finance"),
        council_user(world.shrops, "course_admin"),
    ):
        with pytest.raises(PermissionDenied):
            cancellations.waive_charge(line=line, by=user, reason="Because")
    line.refresh_from_db()
    assert line.cancellation_charge == Decimal("100.00")
    free = cancellations.cancel_line(line=_place(world), by=world.approver)
    with pytest.raises(ValidationError, match="no cancellation charge"):
        cancellations.waive_charge(line=free, by=admin, reason="Because")


# --- A council cancels a date -------------------------------------------------------------------------


def test_a_council_cancelling_a_date_cancels_every_line_free_and_tells_schools_delegates_and_waiters(
    world, django_capture_on_commit_callbacks
):
    """Booked lines (even inside the charge window) and held ones are cancelled without charge, places go
    back, waiting entries close, and each school, delegate and waiting requester gets one email."""
    course_date = add_course_date(world.staffs_course, capacity=2, days_ahead=5)
    ours = confirmed_place(school=world.school, user=world.booker, course_date=course_date, email="d1@oakfield.example")
    elm, elm_booker = another_school()
    theirs = confirmed_place(school=elm, user=elm_booker, course_date=course_date, email="d2@elm.example")
    waiting = waiting_list.join_waiting_list(course_date=course_date, school=elm, user=elm_booker, delegate_name="W")
    mail.outbox.clear()
    editor = council_user(world.staffs, "editor")
    with django_capture_on_commit_callbacks(execute=True):
        cancel_course_date(course_date=course_date, user=editor)
    for line in (ours, theirs):
        line.refresh_from_db()
        line.booking.refresh_from_db()
        assert (line.status, line.cancellation_charge) == (LineStatus.CANCELLED, Decimal("0.00"))
        assert line.booking.status == BookingStatus.CANCELLED
    waiting.refresh_from_db()
    assert waiting.status == WaitingStatus.WITHDRAWN
    assert CourseDate.objects.get(pk=course_date.pk).places_taken == 0
    to = sorted(address for m in mail.outbox for address in m.to)
    assert to == sorted(
        [
            world.booker.email,
            world.approver.email,
            "d1@oakfield.example",
            elm_booker.email,
            "d2@elm.example",
            elm_booker.email,
        ]
    )
    assert all("cancel" in m.subject.lower() for m in mail.outbox)
    # Running the email tasks again sends nothing more.
    from bookings import tasks

    assert tasks.send_course_date_cancelled(course_date.pk, ours.booking_id) == 0


def test_a_council_cancelling_a_date_drops_earlier_late_cancellation_charges(world, django_capture_on_commit_callbacks):
    """A place cancelled late (full charge) costs nothing once the council cancels the date: the charge is
    dropped in the same transaction, with the reason on the line and the audit trail, and the booker is told."""
    course_date = add_course_date(world.staffs_course, capacity=3, days_ahead=5)
    late = confirmed_place(school=world.school, user=world.approver, course_date=course_date)
    free_line = confirmed_place(school=world.school, user=world.approver, course_date=course_date)
    late = cancellations.cancel_line(line=late, by=world.approver)
    assert late.cancellation_charge == Decimal("100.00")
    other_date = add_course_date(world.staffs_course, capacity=3, days_ahead=6)
    elsewhere = cancellations.cancel_line(
        line=confirmed_place(school=world.school, user=world.approver, course_date=other_date), by=world.approver
    )
    editor = council_user(world.staffs, "editor")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancel_course_date(course_date=course_date, user=editor)
    late.refresh_from_db()
    assert late.cancellation_charge == Decimal("0.00")
    assert late.charge_waived_at is not None and late.charge_waived_by == editor
    assert "council cancelled this course date" in late.charge_waived_reason
    event = StatusChange.objects.filter(line=late).order_by("pk").last()
    assert "£100.00" in event.reason and "council cancelled" in event.reason and event.by == editor
    free_line.refresh_from_db()
    assert (free_line.status, free_line.cancellation_charge) == (LineStatus.CANCELLED, Decimal("0.00"))
    elsewhere.refresh_from_db()
    assert elsewhere.cancellation_charge == Decimal("100.00")  # another date's charge stays
    assert any(
        m.to == [late.booking.booked_by.email] and "No charge for your cancellation" in m.subject for m in mail.outbox
    )


# --- The page -----------------------------------------------------------------------------------------


def test_the_cancel_page_shows_the_cost_before_cancelling(client, world):
    """GET explains the policy and the cost; POST cancels; the booking page is next."""
    line = _place(world, days_ahead=5)
    client.force_login(world.approver)
    url = reverse("bookings:cancel_line", kwargs={"reference": line.booking.reference, "line_id": line.pk})
    html = client.get(url).content.decode()
    assert "Cancelling now costs £100.00 before VAT" in html
    line.refresh_from_db()
    assert line.status == LineStatus.BOOKED
    response = client.post(url, {"reason": "Clash"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.status, line.cancellation_charge) == (LineStatus.CANCELLED, Decimal("100.00"))
    again = client.get(url).content.decode()
    assert "already been cancelled" in again


def test_the_cancel_page_is_404_to_strangers_and_403_to_a_colleague(client, world):
    """Another school's user gets 404 (the booking is not theirs to know about); a colleague booker gets 403."""
    line = _place(world, user=world.booker)
    url = reverse("bookings:cancel_line", kwargs={"reference": line.booking.reference, "line_id": line.pk})
    _, stranger = another_school()
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    client.force_login(school_user(world.school, "booker"))
    assert client.post(url).status_code == 403
    line.refresh_from_db()
    assert line.status == LineStatus.BOOKED


def test_cancelled_date_with_booking_history_cannot_be_deleted(world):
    """A council-cancelled date has no places taken, but its cancelled bookings keep it from being deleted."""
    from catalogue.services import CourseDateInUse, delete_course_date, deletion_refusal

    line = _place(world)
    course_date = CourseDate.objects.get(pk=line.course_date_id)
    cancel_course_date(course_date=course_date)
    course_date.refresh_from_db()
    assert course_date.places_taken == 0
    assert "bookings were made on it" in deletion_refusal(course_date)
    with pytest.raises(CourseDateInUse):
        delete_course_date(course_date=course_date)
    assert CourseDate.objects.filter(pk=course_date.pk).exists()


def test_cancelled_date_with_booking_history_keeps_its_course_and_is_not_deleted_from_the_admin(client, world):
    """After the council cancelled a booked date (no places taken any more), the admin edit form shows its
    course fixed and the admin delete answers with the editor's message, never a server error."""
    from django.contrib.messages import get_messages

    line = _place(world)
    course_date = CourseDate.objects.get(pk=line.course_date_id)
    cancel_course_date(course_date=course_date)
    assert CourseDate.objects.get(pk=course_date.pk).places_taken == 0
    client.force_login(council_user(world.staffs, "editor"))
    form = client.get(reverse("catalogue_coursedate:edit", args=[course_date.pk])).context["form"]
    assert form.fields["service"].disabled
    response = client.post(reverse("catalogue_coursedate:delete", args=[course_date.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue_coursedate:cancel", args=[course_date.pk])
    assert "bookings were made on it" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    assert CourseDate.objects.filter(pk=course_date.pk).exists()


# --- Booking totals after a charged cancellation ---------------------------------------------------------


def _summary(html: str, key: str) -> str:
    import re

    match = re.search(
        r'<dt class="govuk-summary-list__key">'
        + re.escape(key)
        + r'</dt><dd class="govuk-summary-list__value">([^<]*)<',
        html,
    )
    assert match, key
    return match.group(1)


def _foot_row(html: str, testid: str) -> list[list[str]]:
    """The money cells (net, VAT, total) of each tfoot row with ``testid``, in page order."""
    import re

    rows = re.findall(r'data-testid="' + testid + r'">(.*?)</tr>', html, re.S)
    return [re.findall(r"govuk-table__cell--numeric\">([^<]*)<", row) for row in rows]


def test_booking_totals_count_cancellation_charges_still_due_per_council_and_overall(
    client, world, django_capture_on_commit_callbacks
):
    """A late cancellation that keeps its charge still counts, at its net charge and the VAT billing keeps on
    it: an exempt charge has no VAT; a standard-rated line charged half keeps the VAT on that half. Group
    totals are their lines plus charges, and the booking's totals are the groups' sums."""
    standard_course = add_service(
        world.worcs, "course", title="First Aid", price=Decimal("100.00"), vat_treatment="standard"
    )
    staffs_date = add_course_date(world.staffs_course, capacity=5, days_ahead=5)
    worcs_date = add_course_date(standard_course, capacity=5, days_ahead=5)
    basket = get_basket(school=world.school, owner=world.approver)
    for n, course_date in enumerate((staffs_date, staffs_date, worcs_date)):
        add_course_place(
            basket=basket, course_date=course_date, delegate_name=f"Del {n}", delegate_email=f"d{n}@o.example"
        )
    booking = submit_checkout(
        booking=start_checkout(basket=basket, user=world.approver),
        user=world.approver,
        po_number="PO-1",
        routes={world.staffs.pk: "invoice", world.worcs.pk: "invoice"},
    )
    staffs_lines = list(booking.lines.filter(council=world.staffs).order_by("pk"))
    worcs_line = booking.lines.get(council=world.worcs)
    assert (worcs_line.net, worcs_line.vat) == (Decimal("100.00"), Decimal("20.00"))
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=staffs_lines[1], by=world.approver)
        cancellations.cancel_line(line=worcs_line, by=world.approver)
    staffs_lines[1].refresh_from_db()
    assert staffs_lines[1].cancellation_charge == Decimal("100.00")
    # A part charge (as a council may set): half the net is credited with its VAT, half still due with its VAT.
    type(worcs_line).objects.filter(pk=worcs_line.pk).update(cancellation_charge=Decimal("50.00"))

    client.force_login(world.approver)
    html = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    # Groups in council-name order: Staffordshire, then Worcestershire.
    assert _foot_row(html, "group-charges") == [["£100.00", "£0.00", "£100.00"], ["£50.00", "£10.00", "£60.00"]]
    assert _foot_row(html, "group-total") == [["£200.00", "£0.00", "£200.00"], ["£50.00", "£10.00", "£60.00"]]
    assert _summary(html, "Lines not cancelled, before VAT") == "£100.00"
    assert _summary(html, "Cancellation charges still due, before VAT") == "£150.00"
    assert _summary(html, "Total before VAT") == "£250.00"
    assert _summary(html, "VAT") == "£10.00"
    assert _summary(html, "Total (including cancellation charges still due)") == "£260.00"
    assert "Charge still due: £100.00 before VAT" in html


def test_a_free_or_waived_cancellation_adds_nothing_to_the_totals(client, world):
    """Without a charge still due, a cancelled line counts nothing and no charges row is shown."""
    line = _place(world, days_ahead=30)
    kept = confirmed_place(school=world.school, user=world.approver, course_date=world.staffs_date)
    cancellations.cancel_line(line=line, by=world.approver)
    client.force_login(world.approver)
    html = client.get(reverse("bookings:detail", args=[line.booking.reference])).content.decode()
    assert "Cancellation charges still due" not in html
    assert _summary(html, "Total (not counting cancelled lines)") == "£0.00"
    assert kept.booking_id != line.booking_id


# --- Where the money goes after a free cancellation ------------------------------------------------------


def _card_paid_place(world, *, days_ahead=30):
    from bookings.services.checkout import confirm_card_payment

    course_date = add_course_date(world.staffs_course, capacity=5, days_ahead=days_ahead)
    line = confirmed_place(
        school=world.school, user=world.approver, course_date=course_date, email="dee@oakfield.example", route="card"
    )
    confirm_card_payment(booking_id=line.booking_id, payment_reference="pi_paid_1")
    line.refresh_from_db()
    return line


def test_a_free_cancellation_of_a_card_paid_place_says_the_money_goes_back_to_the_card(
    client, world, django_capture_on_commit_callbacks
):
    """The cancel page, the confirmation message and the booker's email say the gross is refunded to the card
    that paid, usually within 5 to 10 working days; the delegate's email does not talk money."""
    line = _card_paid_place(world)
    refund = "£100.00 will be refunded to the card that paid, usually within 5 to 10 working days."
    url = reverse("bookings:cancel_line", args=[line.booking.reference, line.pk])
    client.force_login(world.approver)
    assert refund in client.get(url).content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": ""}, follow=True)
    assert f"Cancelled. There is no charge. {refund}" in response.content.decode()
    to_booker = next(m for m in mail.outbox if m.to == [world.approver.email])
    assert "There is no charge for this cancellation. " + refund in to_booker.body
    to_delegate = next(m for m in mail.outbox if m.to == ["dee@oakfield.example"])
    assert "refunded" not in to_delegate.body


def test_a_free_cancellation_of_an_invoiced_place_says_a_credit_note_will_be_issued(
    client, world, django_capture_on_commit_callbacks
):
    """On the invoice route the message and the email say a credit note will be issued, and nothing about cards."""
    line = _place(world, email="dee@oakfield.example")
    url = reverse("bookings:cancel_line", args=[line.booking.reference, line.pk])
    client.force_login(world.approver)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        html = client.post(url, {"reason": ""}, follow=True).content.decode()
    assert "Cancelled. There is no charge. A credit note will be issued against the invoice." in html
    to_booker = next(m for m in mail.outbox if m.to == [world.approver.email])
    assert "A credit note will be issued against the invoice." in to_booker.body and "card" not in to_booker.body


def test_a_council_cancelling_a_card_paid_date_says_the_money_goes_back(world, django_capture_on_commit_callbacks):
    """When the council cancels the date, the school's email says the card payment is refunded."""
    line = _card_paid_place(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancel_course_date(course_date=line.course_date, user=council_user(world.staffs, "course_admin"))
    to_school = next(m for m in mail.outbox if m.to == [world.approver.email])
    assert "£100.00 will be refunded to the card that paid" in to_school.body
