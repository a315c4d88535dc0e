"""Places and holds: the conditional UPDATE never oversells, holds expire, and 50 concurrent checkouts prove it.

The concurrency test needs PostgreSQL (SQLite serialises writers, so it would prove nothing) and real
threads, each with its own database connection, started together by a barrier.
"""

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings.models import Booking, BookingLine, BookingStatus, LineStatus
from bookings.services import checkout, holds
from catalogue.models import CourseDate
from tests.bookings.factories import BookingFactory, BookingLineFactory, World, add_course_date, school_user


@pytest.fixture
def world(councils):
    return World(councils, capacity=2)


def _taken(course_date) -> int:
    return CourseDate.objects.get(pk=course_date.pk).places_taken


@pytest.mark.django_db
def test_take_places_stops_at_capacity(world):
    """Two places can be taken on a two-place date; the third attempt reports full and changes nothing."""
    date = world.staffs_date
    assert holds.take_places(course_date_id=date.pk)
    assert holds.take_places(course_date_id=date.pk)
    assert not holds.take_places(course_date_id=date.pk)
    assert _taken(date) == 2


@pytest.mark.django_db
def test_take_several_places_is_all_or_nothing(world):
    """Asking for more places than are left takes none of them."""
    assert not holds.take_places(course_date_id=world.staffs_date.pk, count=3)
    assert _taken(world.staffs_date) == 0
    assert holds.take_places(course_date_id=world.staffs_date.pk, count=2)


@pytest.mark.django_db
def test_no_places_on_a_cancelled_date(world):
    """A cancelled date has no places to take even when its capacity is free."""
    CourseDate.objects.filter(pk=world.staffs_date.pk).update(status="cancelled")
    assert not holds.take_places(course_date_id=world.staffs_date.pk)


@pytest.mark.django_db
def test_release_gives_places_back_and_never_goes_below_zero(world):
    """Releasing decrements; releasing more than is taken is a bug and raises."""
    holds.take_places(course_date_id=world.staffs_date.pk)
    holds.release_places(course_date_id=world.staffs_date.pk)
    assert _taken(world.staffs_date) == 0
    with pytest.raises(RuntimeError):
        holds.release_places(course_date_id=world.staffs_date.pk)


@pytest.mark.django_db
def test_database_refuses_more_places_than_capacity(world):
    """The check constraint is the last line of defence against any code path that forgets the condition."""
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseDate.objects.filter(pk=world.staffs_date.pk).update(places_taken=3)


@pytest.mark.django_db
def test_hold_lengths_come_from_settings(settings):
    """BOOKINGS_HOLD_MINUTES and BOOKINGS_APPROVAL_HOLD_HOURS set the hold times (defaults 15 min and 72 h)."""
    now = timezone.now()
    assert holds.checkout_hold_until(now) - now == timedelta(minutes=15)
    assert holds.approval_hold_until(now) - now == timedelta(hours=72)
    settings.BOOKINGS_HOLD_MINUTES = 5
    assert holds.checkout_hold_until(now) - now == timedelta(minutes=5)


@pytest.mark.django_db
def test_release_expired_holds_frees_only_expired_open_bookings(world):
    """Expired drafts are cancelled with their places freed; live holds and confirmed bookings are untouched."""
    world.add_place()
    expired = checkout.start_checkout(basket=world.basket(), user=world.booker)
    colleague = school_user(world.school, "booker")
    world.add_place(user=colleague)
    live = checkout.start_checkout(basket=world.basket(colleague), user=colleague)
    confirmed = BookingFactory(status=BookingStatus.CONFIRMED, hold_expires_at=timezone.now() - timedelta(days=1))
    Booking.objects.filter(pk=expired.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    assert _taken(world.staffs_date) == 2

    assert holds.release_expired_holds() == 1
    expired.refresh_from_db()
    live.refresh_from_db()
    confirmed.refresh_from_db()
    assert expired.status == BookingStatus.CANCELLED and expired.hold_expires_at is None
    assert list(expired.lines.values_list("status", flat=True)) == [LineStatus.CANCELLED]
    assert expired.status_changes.filter(to_status="cancelled", line=None).get().reason.startswith("The hold")
    assert live.status == BookingStatus.DRAFT and confirmed.status == BookingStatus.CONFIRMED
    assert _taken(world.staffs_date) == 1


@pytest.mark.django_db
def test_release_task_is_registered_and_scheduled():
    """The periodic release runs by task name from the beat schedule (every minute)."""
    from bookings import tasks
    from portal.celery import BEAT_SCHEDULE

    entry = next(e for e in BEAT_SCHEDULE.values() if e["task"] == "bookings.tasks.release_expired_holds")
    assert entry["schedule"] <= 60
    assert tasks.release_expired_holds() == 0


@pytest.mark.django_db
def test_places_taken_counts_exactly_the_place_taking_lines(world):
    """After holds, a confirmation and a cancellation, places_taken equals the held/booked course lines."""
    world.add_place()
    world.add_place()
    booking = checkout.start_checkout(basket=world.basket(), user=world.booker)
    holds.cancel_held_lines(booking=booking, reason="test")
    line = BookingLineFactory(course_date=world.staffs_date, status="booked")
    holds.take_places(course_date_id=line.course_date_id)
    live = BookingLine.objects.filter(
        course_date=world.staffs_date, status__in=["held", "booked", "attended", "no_show"]
    )
    assert _taken(world.staffs_date) == live.count() == 1


# --- Concurrency on PostgreSQL ----------------------------------------------------------------------------

CLIENTS = 50
PLACES = 10
ROUNDS = 5


def _rush(world, course_date, users) -> tuple[list[Booking], list[checkout.CheckoutUnavailable], list[BaseException]]:
    """Every user checks out one place on ``course_date`` at the same moment, each on its own connection."""
    baskets = {}
    for user in users:
        baskets[user.pk] = world.add_place(course_date=course_date, user=user).basket
    start = threading.Barrier(len(users))
    booked: list[Booking] = []
    refused: list[checkout.CheckoutUnavailable] = []
    errors: list[BaseException] = []

    def client(user) -> None:
        try:
            start.wait(timeout=60)
            booked.append(checkout.start_checkout(basket=baskets[user.pk], user=user))
        except checkout.CheckoutUnavailable as exc:
            refused.append(exc)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return booked, refused, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_concurrent_checkouts_never_oversell(councils):
    """50 clients rush a 10-place date, 5 times: exactly 10 get places, the other 40 are offered the waiting list."""
    world = World(councils, capacity=PLACES)
    users = [school_user(world.school, "booker") for _ in range(CLIENTS)]
    for round_number in range(ROUNDS):
        course_date = add_course_date(world.staffs_course, capacity=PLACES, days_ahead=30 + round_number)
        booked, refused, errors = _rush(world, course_date, users)

        assert errors == [], f"round {round_number}: {errors[:3]}"
        assert len(booked) == PLACES, f"round {round_number}: {len(booked)} checkouts got places"
        assert len(refused) == CLIENTS - PLACES
        assert all(problem.full for exc in refused for problem in exc.problems)
        held = BookingLine.objects.filter(course_date=course_date, status=LineStatus.HELD).count()
        assert held == _taken(course_date) == PLACES, f"round {round_number}: {held} lines held"
        assert Booking.objects.filter(lines__course_date=course_date).distinct().count() == PLACES
        # Empty the baskets for the next round (the losers' items stay otherwise).
        for user in users:
            world.basket(user).items.all().delete()


def _together(count: int, work) -> tuple[list, list[BaseException]]:
    """Run ``work(i)`` in ``count`` threads with their own connections, released together."""
    start = threading.Barrier(count)
    results, errors = [], []

    def run(i: int) -> None:
        try:
            start.wait(timeout=60)
            results.append(work(i))
        except BaseException as exc:  # collected and asserted on by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_double_clicked_checkout_holds_the_places_once(councils):
    """Five simultaneous 'Continue to checkout' clicks on one basket make one draft and take one place each."""
    world = World(councils, capacity=PLACES)
    world.add_place()
    world.add_place(course_date=world.shrops_date)
    basket = world.basket()
    results, errors = _together(5, lambda i: checkout.start_checkout(basket=basket, user=world.booker).pk)
    assert errors == []
    assert len(set(results)) == 1
    assert (_taken(world.staffs_date), _taken(world.shrops_date)) == (1, 1)
    assert Booking.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_checkouts_of_one_sla_term_hold_it_once(councils):
    """Four bookers of one school check out the same SLA term at once: one holds it, three are refused."""
    from bookings.services.basket import add_subscription, terms_on_sale

    world = World(councils)
    (term,) = terms_on_sale(service=world.sla)
    users = [school_user(world.school, "booker") for _ in range(4)]
    baskets = {}
    for user in users:
        baskets[user.pk] = world.basket(user)
        add_subscription(basket=baskets[user.pk], service=world.sla, term_start=term)

    def attempt(i: int):
        try:
            return checkout.start_checkout(basket=baskets[users[i].pk], user=users[i]).pk
        except checkout.CheckoutUnavailable as exc:
            return exc.problems[0].message

    results, errors = _together(len(users), attempt)
    assert errors == []
    held = [r for r in results if isinstance(r, int)]
    assert len(held) == 1, results
    assert all("already being booked for your school" in r for r in results if isinstance(r, str))
    assert BookingLine.objects.filter(kind="subscription", status="held").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cancelling_a_place_while_the_council_cancels_the_date_never_deadlocks(councils):
    """A school cancelling its place and the council cancelling the date at once: both finish, no deadlock."""
    from bookings.services.cancellations import cancel_line
    from catalogue.services import cancel_course_date
    from tests.bookings.flows import confirmed_place

    world = World(councils)
    for round_number in range(5):
        course_date = add_course_date(world.staffs_course, capacity=5, days_ahead=40 + round_number)
        lines = [confirmed_place(school=world.school, user=world.approver, course_date=course_date) for _ in range(3)]

        def work(i: int, course_date=course_date, lines=lines):
            if i == 0:
                return cancel_course_date(course_date=CourseDate.objects.get(pk=course_date.pk), user=None)
            return cancel_line(line=BookingLine.objects.get(pk=lines[i].pk), by=world.approver)

        results, errors = _together(3, work)
        # A line the council cancelled first is refused cleanly (ValidationError); never a deadlock or timeout.
        from django.core.exceptions import ValidationError

        assert all(isinstance(e, ValidationError) for e in errors), errors
        assert set(BookingLine.objects.filter(course_date=course_date).values_list("status", flat=True)) == {
            "cancelled"
        }
        assert _taken(course_date) == 0
