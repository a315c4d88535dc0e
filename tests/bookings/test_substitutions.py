"""Substitutions: a school sends someone else on a booked course place until the course starts; the place,
its price and the booking stay; both lines carry the change on the audit trail; the new delegate gets a
confirmation with a calendar entry and the booker is told; who may do it, and the page that does it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingLine, BookingStatus, LineStatus, StatusChange
from bookings.services import cancellations
from bookings.services.checkout import DelegateDetails
from bookings.services.substitutions import substitute_delegate
from catalogue.models import CourseDate
from tests.bookings.factories import World, add_course_date, school_user
from tests.bookings.flows import another_school, confirmed_place
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SUB = DelegateDetails(
    name="Sue  Stitute", email="Sue@Oakfield.example", role="TA", access_needs="Step-free", dietary_needs="Vegan"
)


@pytest.fixture
def world(councils):
    return World(councils)


@pytest.fixture
def place(world):
    """A confirmed place on a full Staffordshire date (2 places), booked by the booker for Ada."""
    course_date = add_course_date(world.staffs_course, capacity=2, days_ahead=20)
    confirmed_place(school=world.school, user=world.approver, course_date=course_date)
    return confirmed_place(
        school=world.school, user=world.booker, course_date=course_date, name="Ada Original", email="ada@o.example"
    )


def _taken(line) -> int:
    return CourseDate.objects.get(pk=line.course_date_id).places_taken


def test_a_substitute_takes_the_same_place_at_the_same_price_on_the_same_booking(
    world, place, django_capture_on_commit_callbacks
):
    """The old line is substituted and a new booked line holds the place: same booking, price snapshot and
    route, no place taken or given back; the audit trail says who swapped whom; emails go to the new
    delegate (with a calendar entry) and to the booker."""
    before = _taken(place)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        new = substitute_delegate(line=place, new=SUB, by=world.booker)
    place.refresh_from_db()
    new.refresh_from_db()
    assert place.status == LineStatus.SUBSTITUTED
    assert (new.status, new.booking_id, new.substitute_of_id) == (LineStatus.BOOKED, place.booking_id, place.pk)
    for field in ("kind", "service_id", "course_date_id", "council_id", "payment_route", "quantity", "unit_net"):
        assert getattr(new, field) == getattr(place, field), field
    for field in ("net", "vat_treatment", "vat_rate", "vat", "gross", "cost_centre", "income_code"):
        assert getattr(new, field) == getattr(place, field), field
    assert new.booked_at is not None and new.cancellation_charge is None
    assert new.description.endswith("(Sue Stitute)")
    delegate = new.delegate
    assert (delegate.name, delegate.email, delegate.role, delegate.access_needs, delegate.dietary_needs) == (
        "Sue Stitute",
        "sue@oakfield.example",
        "TA",
        "Step-free",
        "Vegan",
    )
    assert place.delegate.name == "Ada Original"
    assert _taken(place) == before == 2
    assert place.booking.status == BookingStatus.CONFIRMED
    old_change = StatusChange.objects.filter(line=place).order_by("pk").last()
    assert (old_change.from_status, old_change.to_status, old_change.by) == ("booked", "substituted", world.booker)
    assert "Sue Stitute instead of Ada Original" in old_change.reason
    new_change = StatusChange.objects.get(line=new)
    assert (new_change.to_status, new_change.by) == ("booked", world.booker)
    assert "takes the place of Ada Original" in new_change.reason
    assert sorted(m.to[0] for m in mail.outbox) == sorted(["sue@oakfield.example", "ada@o.example", world.booker.email])
    to_sue = next(m for m in mail.outbox if m.to == ["sue@oakfield.example"])
    assert to_sue.attachments and to_sue.attachments[0][2] == "text/calendar"
    ics = to_sue.attachments[0][1]
    assert "BEGIN:VEVENT" in (ics.decode() if isinstance(ics, bytes) else ics)
    to_booker = next(m for m in mail.outbox if m.to == [world.booker.email])
    assert "Sue Stitute" in to_booker.subject and "Ada Original" in to_booker.body
    # The email task run again (a retry) sends nothing more.
    from bookings import tasks

    assert tasks.send_substitution(new.pk) == 0


def test_a_substitute_can_be_substituted_again_and_cancelled_under_the_policy(world, place):
    """A substitute's line is an ordinary booked place: it can be handed on again, or cancelled."""
    second = substitute_delegate(line=place, new=SUB, by=world.booker)
    third = substitute_delegate(line=second, new=DelegateDetails(name="Tom Third"), by=world.approver)
    assert third.substitute_of == second and third.delegate.name == "Tom Third"
    cancelled = cancellations.cancel_line(line=third, by=world.approver)
    assert cancelled.status == LineStatus.CANCELLED
    assert _taken(place) == 1


def test_refused_once_the_course_has_started_or_the_place_is_not_booked(world, place):
    """A started course, a cancelled place, a held place and an SLA line are refused with a reason; nothing
    is written."""
    CourseDate.objects.filter(pk=place.course_date_id).update(
        starts_at=timezone.now() - timedelta(minutes=1), ends_at=timezone.now() + timedelta(hours=5)
    )
    with pytest.raises(ValidationError, match="The course has started"):
        substitute_delegate(line=place, new=SUB, by=world.booker)
    later = confirmed_place(school=world.school, user=world.approver, course_date=world.shrops_date)
    cancellations.cancel_line(line=later, by=world.approver)
    with pytest.raises(ValidationError, match="it is cancelled"):
        substitute_delegate(line=later, new=SUB, by=world.approver)
    world.add_place(world.staffs_date)
    from bookings.services.checkout import start_checkout

    held = start_checkout(basket=world.basket(), user=world.booker).lines.get()
    with pytest.raises(ValidationError, match="not confirmed yet"):
        substitute_delegate(line=held, new=SUB, by=world.booker)
    assert not BookingLine.objects.filter(substitute_of__isnull=False).exists()
    assert not BookingLine.objects.filter(status=LineStatus.SUBSTITUTED).exists()


def test_only_the_schools_approver_or_the_booker_may_substitute(world, place):
    """Council staff, another school and a colleague who did not book are refused; the approver may."""
    colleague = school_user(world.school, "booker", email="colleague@oakfield.example")
    _, stranger = another_school()
    course_admin = UserFactory()
    CouncilMembershipFactory(user=course_admin, council=world.staffs, role="course_admin")
    for user in (colleague, stranger, course_admin):
        with pytest.raises(PermissionDenied):
            substitute_delegate(line=place, new=SUB, by=user)
    assert substitute_delegate(line=place, new=SUB, by=world.approver).status == LineStatus.BOOKED


def test_the_new_delegate_must_be_named_properly_and_be_someone_else(world, place):
    """No name, a malformed email and the same person are refused with messages on their fields."""
    with pytest.raises(ValidationError) as no_name:
        substitute_delegate(line=place, new=DelegateDetails(name="  ", email="not-an-email"), by=world.booker)
    assert set(no_name.value.message_dict) == {"name", "email"}
    with pytest.raises(ValidationError, match="Ada Original already has this place"):
        substitute_delegate(
            line=place, new=DelegateDetails(name="ada original", email="ADA@o.example"), by=world.booker
        )
    place.refresh_from_db()
    assert place.status == LineStatus.BOOKED


@pytest.mark.parametrize("email", ["", "SAM.PATEL@o.example"])
def test_the_same_name_without_an_email_or_with_the_same_email_is_the_same_person(world, email):
    """ "sam  patel" with no email, or with the same email in other case, is the Sam Patel who has the place."""
    line = confirmed_place(
        school=world.school,
        user=world.booker,
        course_date=world.staffs_date,
        name="Sam Patel",
        email="sam.patel@o.example",
    )
    with pytest.raises(ValidationError, match="Sam Patel already has this place"):
        substitute_delegate(line=line, new=DelegateDetails(name=" sam  patel ", email=email), by=world.booker)
    line.refresh_from_db()
    assert line.status == LineStatus.BOOKED


def test_the_same_name_with_another_email_is_someone_else(world):
    """Two colleagues may share a name: a different email makes the substitute someone else."""
    line = confirmed_place(
        school=world.school,
        user=world.booker,
        course_date=world.staffs_date,
        name="Sam Patel",
        email="sam.patel@o.example",
    )
    new = substitute_delegate(
        line=line, new=DelegateDetails(name="Sam Patel", email="sam.p2@o.example"), by=world.booker
    )
    assert new.delegate.email == "sam.p2@o.example"


def test_the_previous_delegate_is_told_once_that_the_place_has_gone(world, place, django_capture_on_commit_callbacks):
    """Whoever had the place (with an email) is told it has been given to someone else, once only; a previous
    delegate without an email gets nothing."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        new = substitute_delegate(line=place, new=DelegateDetails(name="Tom Third"), by=world.booker)
    to_ada = [m for m in mail.outbox if m.to == ["ada@o.example"]]
    assert len(to_ada) == 1
    assert "given to someone else" in to_ada[0].subject
    assert "Ada Original" in to_ada[0].body and "do not attend" in to_ada[0].body
    assert place.booking.reference in to_ada[0].body
    from bookings import tasks

    assert tasks.send_substitution(new.pk) == 0
    # Tom has no email: handing the place on again sends nothing to him as the previous delegate.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        substitute_delegate(line=new, new=DelegateDetails(name="Una Fourth"), by=world.booker)
    assert [m.to for m in mail.outbox] == [[world.booker.email]]


# --- The page -----------------------------------------------------------------------------------------


def test_the_page_names_the_substitute_and_shows_errors_in_the_summary(
    client, world, place, django_capture_on_commit_callbacks
):
    """The booking detail links to the form; a missing name is shown in the error summary linked to its
    field; a good submission swaps the delegate and returns to the booking."""
    url = reverse("bookings:substitute", args=[place.booking.reference, place.pk])
    client.force_login(world.booker)
    detail = client.get(reverse("bookings:detail", args=[place.booking.reference])).content.decode()
    assert url in detail
    page = client.get(url)
    assert page.status_code == 200 and "Ada Original" in page.content.decode()
    bad = client.post(url, {"name": "", "email": "sue@oakfield.example"})
    html = bad.content.decode()
    assert bad.status_code == 200
    assert 'class="govuk-error-summary"' in html and 'href="#id_name"' in html
    assert "Enter the full name of the person who will attend instead." in html
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(url, {"name": "Sue Stitute", "email": "sue@oakfield.example", "role": "TA"})
    assert done.status_code == 302 and done["Location"] == reverse("bookings:detail", args=[place.booking.reference])
    place.refresh_from_db()
    assert place.status == LineStatus.SUBSTITUTED and place.substituted_by.delegate.name == "Sue Stitute"
    after = client.get(reverse("bookings:detail", args=[place.booking.reference])).content.decode()
    assert url not in after  # the old line can no longer be handed on; the new one can
    assert reverse("bookings:substitute", args=[place.booking.reference, place.substituted_by.pk]) in after


def test_the_page_explains_a_refusal_and_changes_nothing(client, world, place):
    """After the start the page says why and a POST is refused with 409."""
    CourseDate.objects.filter(pk=place.course_date_id).update(
        starts_at=timezone.now() - timedelta(minutes=1), ends_at=timezone.now() + timedelta(hours=5)
    )
    url = reverse("bookings:substitute", args=[place.booking.reference, place.pk])
    client.force_login(world.booker)
    assert "The course has started" in client.get(url).content.decode()
    response = client.post(url, {"name": "Sue Stitute"})
    assert response.status_code == 409
    place.refresh_from_db()
    assert place.status == LineStatus.BOOKED


def test_the_dashboard_offers_to_send_someone_else_to_those_who_may(client, world, place):
    """The upcoming courses section links each changeable place; a colleague who did not book sees no link."""
    url = reverse("bookings:substitute", args=[place.booking.reference, place.pk])
    client.force_login(world.booker)
    assert url in client.get(reverse("portal:dashboard")).content.decode()
    client.force_login(school_user(world.school, "booker", email="colleague2@oakfield.example"))
    assert url not in client.get(reverse("portal:dashboard")).content.decode()


def test_substitution_keeps_the_booking_total(world, place):
    """The booking's live lines add up to the same money after a substitution (the substitute replaces the old line)."""
    from bookings.selectors import booking_totals

    live = ("held", "booked", "attended", "no_show")
    before = booking_totals(place.booking.lines.filter(status__in=live))
    substitute_delegate(line=place, new=SUB, by=world.booker)
    assert booking_totals(place.booking.lines.filter(status__in=live)) == before
    assert before[0] == Decimal("100.00")


def test_the_page_shows_the_same_person_error_in_the_summary_and_keeps_what_was_typed(client, world, place):
    """Naming the person who already has the place is a field error on the page (not a server error): it is
    in the error summary, linked to the name field, and the form keeps what was typed."""
    url = reverse("bookings:substitute", args=[place.booking.reference, place.pk])
    client.force_login(world.booker)
    response = client.post(url, {"name": "Ada Original", "email": "ada@o.example", "role": "Head of maths"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in html and 'href="#id_name"' in html
    assert "Ada Original already has this place" in html
    assert 'value="Ada Original"' in html and 'value="ada@o.example"' in html and 'value="Head of maths"' in html
    place.refresh_from_db()
    assert place.status == LineStatus.BOOKED


def test_the_page_explains_a_malformed_email_as_the_basket_does(client, world, place):
    """A malformed email gets the basket's message ("like name@example.org"), not Django's "Enter a valid email"."""
    url = reverse("bookings:substitute", args=[place.booking.reference, place.pk])
    client.force_login(world.booker)
    html = client.post(url, {"name": "Sue Stitute", "email": "sue@"}).content.decode()
    assert 'href="#id_email">Enter an email address in the correct format, like name@example.org.</a>' in html
    assert "Enter a valid email address." not in html
