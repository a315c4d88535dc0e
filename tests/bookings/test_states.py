"""The state machine of bookings and lines: allowed moves, clear errors, the audit trail, races."""

import pytest

from bookings.models import Booking, BookingLine, BookingStatus, LineStatus, StatusChange
from bookings.states import (
    BOOKING_TRANSITIONS,
    LINE_TRANSITIONS,
    IllegalTransition,
    StaleStatus,
    record_event,
    transition,
)
from tests.bookings.factories import BookingFactory, BookingLineFactory, add_course_date, add_service
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(councils):
    course = add_service(councils["staffordshire"], "course")
    return BookingLineFactory(course_date=add_course_date(course))


def test_every_status_has_a_row_in_the_tables():
    """Each booking and line status appears in its transition table, so no status is a silent dead end."""
    assert set(BOOKING_TRANSITIONS) == set(BookingStatus.values)
    assert set(LINE_TRANSITIONS) == set(LineStatus.values)


def test_allowed_booking_move_saves_and_records_who_when_why():
    """draft → awaiting approval saves the status and writes one StatusChange with the user and reason."""
    booking = BookingFactory()
    user = UserFactory()
    change = transition(booking, BookingStatus.AWAITING_APPROVAL, by=user, reason="Needs the SBM")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_APPROVAL
    assert (change.booking_id, change.line_id, change.from_status, change.to_status) == (
        booking.pk,
        None,
        "draft",
        "awaiting_approval",
    )
    assert change.by == user and change.reason == "Needs the SBM" and change.at is not None


def test_illegal_booking_move_raises_a_clear_error_and_changes_nothing():
    """confirmed → draft is refused with a message naming the booking and both statuses; nothing is written."""
    booking = BookingFactory(status=BookingStatus.CONFIRMED)
    with pytest.raises(IllegalTransition) as caught:
        transition(booking, BookingStatus.DRAFT)
    assert str(caught.value) == f"Cannot move booking {booking.reference} from confirmed to draft (at checkout)."
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert not StatusChange.objects.exists()


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (BookingStatus.CANCELLED, BookingStatus.CONFIRMED),
        (BookingStatus.COMPLETED, BookingStatus.CANCELLED),
        (BookingStatus.AWAITING_PAYMENT, BookingStatus.AWAITING_APPROVAL),
        (BookingStatus.DRAFT, BookingStatus.COMPLETED),
    ],
)
def test_forbidden_booking_moves(start, to):
    """Moves outside the table are refused."""
    with pytest.raises(IllegalTransition):
        transition(BookingFactory(status=start), to)


def test_line_moves_follow_the_table(line):
    """held → booked → attended → no_show (a correction) is allowed and each step is on the booking's trail."""
    for to in (LineStatus.BOOKED, LineStatus.ATTENDED, LineStatus.NO_SHOW):
        transition(line, to)
    line.refresh_from_db()
    assert line.status == LineStatus.NO_SHOW
    trail = list(StatusChange.objects.filter(booking=line.booking).values_list("line_id", "to_status"))
    assert trail == [(line.pk, "booked"), (line.pk, "attended"), (line.pk, "no_show")]


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (LineStatus.HELD, LineStatus.ATTENDED),
        (LineStatus.HELD, LineStatus.SUBSTITUTED),
        (LineStatus.CANCELLED, LineStatus.BOOKED),
        (LineStatus.SUBSTITUTED, LineStatus.BOOKED),
        (LineStatus.ATTENDED, LineStatus.CANCELLED),
    ],
)
def test_forbidden_line_moves(line, start, to):
    """A held place cannot be attended, a cancelled or substituted line cannot come back, and so on."""
    BookingLine.objects.filter(pk=line.pk).update(status=start)
    line.refresh_from_db()
    with pytest.raises(IllegalTransition, match=f"Cannot move line {line.pk} "):
        transition(line, to)


def test_unknown_status_is_refused():
    """A typo in a status is an error, not a new status."""
    with pytest.raises(IllegalTransition, match="not a status"):
        transition(BookingFactory(), "approved")


def test_stale_object_cannot_overwrite_a_concurrent_decision():
    """Two copies of one booking: once one is cancelled, the other's approval fails instead of reviving it."""
    booking = BookingFactory(status=BookingStatus.AWAITING_APPROVAL)
    stale = Booking.objects.get(pk=booking.pk)
    transition(booking, BookingStatus.CANCELLED, reason="Hold expired")
    with pytest.raises(StaleStatus, match="changed from awaiting_approval to cancelled"):
        transition(stale, BookingStatus.CONFIRMED)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert StatusChange.objects.filter(booking=booking).count() == 1


def test_extra_fields_are_saved_with_the_status():
    """Fields passed with a transition are written in the same UPDATE."""
    booking = BookingFactory(status=BookingStatus.AWAITING_APPROVAL)
    approver = UserFactory()
    transition(booking, BookingStatus.CONFIRMED, by=approver, fields={"approved_by": approver})
    booking.refresh_from_db()
    assert booking.approved_by == approver


def test_record_event_keeps_the_status():
    """An event (e.g. a failed card payment) goes on the trail without changing the status."""
    booking = BookingFactory(status=BookingStatus.AWAITING_PAYMENT)
    change = record_event(booking, reason="Card payment failed")
    assert change.is_event and change.to_status == "awaiting_payment"
