"""Waiting lists: joining a full date, freed places offered first come first served for 48 hours by email,
accepting books the place, not answering or declining passes it on, and the pages that do it."""

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingStatus, LineStatus, WaitingListEntry, WaitingStatus
from bookings.services import cancellations, holds, waiting_list
from bookings.services.basket import add_course_place, get_basket
from bookings.services.checkout import start_checkout
from catalogue.models import CourseDate
from tests.bookings.factories import World, add_course_date, school_user
from tests.bookings.flows import another_school, fill
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils, capacity=2)


@pytest.fixture
def full_date(world):
    """Staffordshire's date (2 places) booked full by Oakfield."""
    lines = fill(world.staffs_date, school=world.school, user=world.approver)
    world.staffs_date.refresh_from_db()
    world.full_lines = lines
    return world.staffs_date


def _join(course_date, school, user, name="Wendy Wait", email=""):
    return waiting_list.join_waiting_list(
        course_date=course_date, school=school, user=user, delegate_name=name, delegate_email=email
    )


def _places(course_date) -> int:
    return CourseDate.objects.get(pk=course_date.pk).places_taken


# --- Joining ------------------------------------------------------------------------------------------


def test_a_school_can_join_only_when_the_date_is_full(world):
    """With places left joining is refused (book instead); once full, the school joins, first come first served."""
    with pytest.raises(ValidationError) as caught:
        _join(world.staffs_date, world.school, world.booker)
    assert "places left" in caught.value.messages[0]
    fill(world.staffs_date, school=world.school, user=world.approver)
    first = _join(world.staffs_date, world.school, world.booker, name="Ann")
    elm, elm_booker = another_school()
    second = _join(world.staffs_date, elm, elm_booker, name="Bob")
    assert list(WaitingListEntry.objects.filter(course_date=world.staffs_date)) == [first, second]
    assert first.status == second.status == WaitingStatus.WAITING


def test_joining_twice_for_the_same_person_and_unnamed_delegates_are_refused(world, full_date):
    """The same person cannot wait twice for one date; a named-delegate course needs a name; nothing is written."""
    _join(full_date, world.school, world.booker, name="Ann Lee", email="ann@oakfield.example")
    with pytest.raises(ValidationError) as caught:
        _join(full_date, world.school, world.booker, name="Ann L.", email="ANN@oakfield.example")
    assert "already on the waiting list" in caught.value.message_dict["delegate_name"][0]
    with pytest.raises(ValidationError) as caught:
        _join(full_date, world.school, world.booker, name="  ")
    assert "delegate_name" in caught.value.message_dict
    assert WaitingListEntry.objects.count() == 1


def test_someone_outside_the_school_cannot_put_it_on_a_list(world, full_date):
    """Joining for a school the user does not belong to is refused."""
    from django.core.exceptions import PermissionDenied

    _, outsider = another_school()
    with pytest.raises(PermissionDenied):
        _join(full_date, world.school, outsider)


# --- Offers -------------------------------------------------------------------------------------------


def test_a_cancellation_offers_the_place_to_the_first_waiting_by_email(
    world, full_date, django_capture_on_commit_callbacks
):
    """Cancelling a booked place offers it to the first entry: a draft booking holds it for 48 h; one email."""
    first = _join(full_date, world.school, world.booker, name="Ann")
    elm, elm_booker = another_school()
    second = _join(full_date, elm, elm_booker, name="Bob")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == WaitingStatus.OFFERED and second.status == WaitingStatus.WAITING
    assert first.booking.status == BookingStatus.DRAFT
    assert first.booking.booked_by == world.booker
    line = first.booking.lines.get()
    assert (line.status, line.course_date_id, line.delegate.name) == (LineStatus.HELD, full_date.pk, "Ann")
    assert first.offer_expires_at - first.offered_at == timedelta(hours=48)
    assert first.booking.hold_expires_at == first.offer_expires_at
    assert _places(full_date) == full_date.capacity  # the freed place is held for the offer, not on open sale
    offers = [m for m in mail.outbox if m.to == [world.booker.email] and "place has come free" in m.subject]
    assert len(offers) == 1
    assert reverse("bookings:waiting_list_offer", kwargs={"entry_id": first.pk}) in offers[0].body


def test_the_offer_email_is_sent_once_however_often_the_task_runs(world, full_date, django_capture_on_commit_callbacks):
    """Running the email task again (a retry or a duplicate) sends nothing more."""
    from bookings import tasks

    entry = _join(full_date, world.school, world.booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    count = len(mail.outbox)
    assert tasks.send_waiting_list_offer(entry.pk) == 0
    assert len(mail.outbox) == count


def test_accepting_books_the_place_and_drops_the_charge_of_a_late_cancellation(
    world, django_capture_on_commit_callbacks
):
    """Inside the charge window a cancellation is charged; when the waiting school accepts, the place is
    refilled: the booking is confirmed and the cancelled line's charge drops to nothing, pointing at it."""
    soon = add_course_date(world.staffs_course, capacity=1, days_ahead=5)
    late = fill(soon, school=world.school, user=world.approver)[0]
    elm, elm_booker = another_school()
    entry = _join(soon, elm, elm_booker, name="Bob")
    with django_capture_on_commit_callbacks(execute=True):
        late = cancellations.cancel_line(line=late, by=world.approver)
    assert late.cancellation_charge == Decimal("100.00")
    entry.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        booking = waiting_list.accept_offer(
            entry=entry, user=elm_booker, po_number="", payment_route="invoice", dietary_needs="Vegetarian"
        )
    entry.refresh_from_db()
    late.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert entry.status == WaitingStatus.ACCEPTED
    new_line = booking.lines.get()
    assert new_line.status == LineStatus.BOOKED and new_line.delegate.dietary_needs == "Vegetarian"
    assert late.cancellation_charge == Decimal("0.00")
    assert late.refilled_by == new_line
    assert "refilled from the waiting list" in late.charge_waived_reason
    assert _places(soon) == 1
    # Calling the hook again (a retried confirmation) refills nothing more.
    assert waiting_list.booking_confirmed(booking=booking) == 0


def test_an_unanswered_offer_passes_to_the_next_after_48_hours(world, full_date, django_capture_on_commit_callbacks):
    """When the offer runs out, its draft is cancelled, the entry expires (and is told), the next is offered."""
    first = _join(full_date, world.school, world.booker, name="Ann")
    elm, elm_booker = another_school()
    second = _join(full_date, elm, elm_booker, name="Bob")
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    first.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert waiting_list.expire_offers(now=first.offer_expires_at - timedelta(minutes=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert waiting_list.expire_offers(now=first.offer_expires_at + timedelta(seconds=1)) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == WaitingStatus.EXPIRED
    assert first.booking.status == BookingStatus.CANCELLED
    assert second.status == WaitingStatus.OFFERED and second.booking.booked_by == elm_booker
    assert _places(full_date) == full_date.capacity
    assert any("passed on" in m.subject and m.to == [world.booker.email] for m in mail.outbox)


def test_the_hold_release_task_and_the_expiry_task_agree_whichever_runs_first(
    world, full_date, django_capture_on_commit_callbacks
):
    """If the hold-release task cancels the offer's draft first, the expiry task still marks it expired once."""
    first = _join(full_date, world.school, world.booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    first.refresh_from_db()
    later = first.offer_expires_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        holds.release_expired_holds(now=later)
    with django_capture_on_commit_callbacks(execute=True):
        assert waiting_list.expire_offers(now=later) == 1
        assert waiting_list.expire_offers(now=later) == 0
    first.refresh_from_db()
    assert first.status == WaitingStatus.EXPIRED
    assert _places(full_date) == full_date.capacity - 1  # nobody else waiting: the place is back on sale


def test_declining_passes_the_place_on_at_once(world, full_date, django_capture_on_commit_callbacks):
    """Declining an offer cancels its draft and offers the place to the next entry straight away."""
    first = _join(full_date, world.school, world.booker)
    elm, elm_booker = another_school()
    second = _join(full_date, elm, elm_booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    first.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        waiting_list.decline_offer(entry=first, by=world.booker)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == WaitingStatus.WITHDRAWN and first.booking.status == BookingStatus.CANCELLED
    assert second.status == WaitingStatus.OFFERED


def test_raising_the_capacity_offers_the_new_places(world, full_date, django_capture_on_commit_callbacks):
    """An editor raising capacity by two (a save of the course date) offers two places, in joining order."""
    entries = [_join(full_date, world.school, world.booker, name=f"Person {n}") for n in range(3)]
    full_date.capacity += 2
    with django_capture_on_commit_callbacks(execute=True):
        full_date.full_clean()
        full_date.save()
    statuses = [WaitingListEntry.objects.get(pk=e.pk).status for e in entries]
    assert statuses == [WaitingStatus.OFFERED, WaitingStatus.OFFERED, WaitingStatus.WAITING]
    assert _places(full_date) == full_date.capacity


def test_the_periodic_sweep_offers_places_freed_without_a_signal(world, full_date, django_capture_on_commit_callbacks):
    """A capacity raised by a bare UPDATE is still offered by the periodic task."""
    entry = _join(full_date, world.school, world.booker)
    CourseDate.objects.filter(pk=full_date.pk).update(capacity=full_date.capacity + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert waiting_list.offer_free_places_everywhere() == 1
    entry.refresh_from_db()
    assert entry.status == WaitingStatus.OFFERED


def test_an_expired_checkout_hold_offers_its_place(world, django_capture_on_commit_callbacks):
    """A checkout that holds the last place and is abandoned frees it when the hold lapses: it is offered."""
    one = add_course_date(world.staffs_course, capacity=1, days_ahead=20)
    basket = get_basket(school=world.school, owner=world.booker)
    add_course_place(basket=basket, course_date=one, delegate_name="Ann", delegate_email="ann@oakfield.example")
    draft = start_checkout(basket=basket, user=world.booker)
    elm, elm_booker = another_school()
    entry = _join(one, elm, elm_booker)
    with django_capture_on_commit_callbacks(execute=True):
        holds.release_expired_holds(now=draft.hold_expires_at + timedelta(seconds=1))
    entry.refresh_from_db()
    assert entry.status == WaitingStatus.OFFERED


def test_offers_skip_requesters_who_left_the_school_and_stop_at_a_cancelled_date(
    world, full_date, django_capture_on_commit_callbacks
):
    """An entry whose requester left the school is passed over; a cancelled date offers nothing."""
    leaver = school_user(world.school, "booker")
    gone = _join(full_date, world.school, leaver, name="Gone")
    stays = _join(full_date, world.school, world.booker, name="Stays")
    leaver.school_memberships.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    gone.refresh_from_db()
    stays.refresh_from_db()
    assert (gone.status, stays.status) == (WaitingStatus.WITHDRAWN, WaitingStatus.OFFERED)

    other = add_course_date(world.staffs_course, capacity=1, days_ahead=25)
    fill(other, school=world.school, user=world.approver)
    waiting = _join(other, world.school, world.booker)
    CourseDate.objects.filter(pk=other.pk).update(status="cancelled", capacity=2)
    assert waiting_list.offer_places(course_date_id=other.pk) == []
    waiting.refresh_from_db()
    assert waiting.status == WaitingStatus.WAITING


def test_starting_another_checkout_keeps_an_offered_place(world, full_date, django_capture_on_commit_callbacks):
    """The requester's ordinary checkout for another course must not throw away the place they were offered."""
    entry = _join(full_date, world.school, world.booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    basket = get_basket(school=world.school, owner=world.booker)
    add_course_place(basket=basket, course_date=world.shrops_date, delegate_name="Cy", delegate_email="cy@o.example")
    start_checkout(basket=basket, user=world.booker)
    entry.refresh_from_db()
    assert entry.booking.status == BookingStatus.DRAFT
    assert entry.booking.lines.get().status == LineStatus.HELD


# --- Pages --------------------------------------------------------------------------------------------


def test_join_page_puts_the_school_on_the_list(client, world, full_date):
    """The join page explains the 48-hour offer and adds the entry; a date with places refuses politely."""
    client.force_login(world.booker)
    url = reverse("bookings:waiting_list_join", kwargs={"course_date_id": full_date.pk})
    page = client.get(url)
    assert page.status_code == 200 and "48 hours" in page.content.decode()
    response = client.post(url, {"delegate_name": "Ann Lee", "delegate_email": "ann@oakfield.example"})
    assert response.status_code == 302
    assert WaitingListEntry.objects.get().delegate_name == "Ann Lee"
    open_date = add_course_date(world.staffs_course, capacity=5, days_ahead=50)
    page = client.get(reverse("bookings:waiting_list_join", kwargs={"course_date_id": open_date.pk}))
    assert "book one instead" in page.content.decode()


def test_join_page_shows_errors_in_the_summary_linked_to_the_field(client, world, full_date):
    """A missing name comes back in the GOV.UK error summary, linked to the name field."""
    client.force_login(world.booker)
    url = reverse("bookings:waiting_list_join", kwargs={"course_date_id": full_date.pk})
    html = client.post(url, {"delegate_name": ""}).content.decode()
    assert "govuk-error-summary" in html and 'href="#id_delegate_name"' in html
    assert not WaitingListEntry.objects.exists()


def test_the_service_page_offers_the_waiting_list_on_a_full_date_to_school_members(client, world, full_date):
    """The dates table links a full date to its waiting list for a signed-in school member; a visitor who is
    not signed in, and a date with places left, get no link."""
    open_date = add_course_date(world.staffs_course, capacity=5, days_ahead=50)
    join = reverse("bookings:waiting_list_join", kwargs={"course_date_id": full_date.pk})
    page_url = world.staffs_course.url
    anonymous = client.get(page_url).content.decode()
    assert "Full" in anonymous and join not in anonymous
    client.force_login(world.booker)
    html = client.get(page_url).content.decode()
    assert f'<a class="govuk-link" href="{join}">Join the waiting list' in html
    assert reverse("bookings:waiting_list_join", kwargs={"course_date_id": open_date.pk}) not in html
    client.force_login(UserFactory())  # signed in, but a member of no school
    assert join not in client.get(page_url).content.decode()


def test_adding_a_full_date_to_the_basket_links_the_error_to_the_waiting_list(client, world, full_date):
    """The error summary and the field's error say the date is full and link to its waiting list."""
    client.force_login(world.booker)
    response = client.post(
        reverse("bookings:basket_add", args=[world.staffs_course.pk]),
        {"course_date": full_date.pk, "delegate_name": "Ann Lee", "delegate_email": "ann@oakfield.example"},
    )
    html = response.content.decode()
    join = reverse("bookings:waiting_list_join", kwargs={"course_date_id": full_date.pk})
    link = f'href="{join}?school={world.school.urn}">Join the waiting list</a>'
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "This date is full." in summary and link in summary and 'href="#id_course_date' in summary
    error = html.split('class="govuk-error-message"', 1)[1].split("</p>", 1)[0]
    assert "This date is full." in error and link in error
    assert "You can join its waiting list." not in html


def test_offer_page_books_the_place(client, world, full_date, django_capture_on_commit_callbacks):
    """The requester accepts on the offer page (route and PO), and lands on the booking confirmation."""
    entry = _join(full_date, world.school, world.booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    client.force_login(world.booker)
    url = reverse("bookings:waiting_list_offer", kwargs={"entry_id": entry.pk})
    html = client.get(url).content.decode()
    assert "A place is offered to you" in html and "£100.00" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"payment_route": "invoice", "po_number": "PO-77"})
    entry.refresh_from_db()
    assert response.status_code == 302, response.content.decode()[:500]
    assert entry.status == WaitingStatus.ACCEPTED
    assert Booking.objects.get(pk=entry.booking_id).po_number == "PO-77"


def test_offer_page_is_404_for_another_school_and_after_expiry_says_so(
    client, world, full_date, django_capture_on_commit_callbacks
):
    """Someone of another school gets 404; after the offer ran out the page says the place has gone."""
    entry = _join(full_date, world.school, world.booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=world.full_lines[0], by=world.approver)
    _, stranger = another_school()
    client.force_login(stranger)
    url = reverse("bookings:waiting_list_offer", kwargs={"entry_id": entry.pk})
    assert client.get(url).status_code == 404
    entry.refresh_from_db()
    WaitingListEntry.objects.filter(pk=entry.pk).update(offer_expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(world.booker)
    html = client.get(url).content.decode()
    assert "has gone to the next school" in html
    assert client.post(url, {"payment_route": "invoice"}).status_code == 302
    assert Booking.objects.get(pk=entry.booking_id).status == BookingStatus.DRAFT


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_offer_runs_offer_each_free_place_exactly_once(councils):
    """Eight offer tasks racing on a date with two freed places and five waiting offer exactly two entries,
    the first two in line, and never take more places than the capacity; repeated five times."""
    import threading

    from django.db import connection

    world = World(councils, capacity=3)
    for attempt in range(5):
        course_date = add_course_date(world.staffs_course, capacity=3, days_ahead=40 + attempt)
        fill(course_date, school=world.school, user=world.approver)
        entries = []
        for n in range(5):
            school, booker = another_school()
            entries.append(_join(course_date, school, booker, name=f"Waiter {attempt}-{n}"))
        CourseDate.objects.filter(pk=course_date.pk).update(capacity=5)  # a bare UPDATE: no signal fires
        barrier = threading.Barrier(8)
        errors = []

        def run(barrier=barrier, course_date_id=course_date.pk, errors=errors):
            try:
                barrier.wait(timeout=10)
                waiting_list.offer_places(course_date_id=course_date_id)
            except Exception as exc:  # collected and reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        statuses = [WaitingListEntry.objects.get(pk=e.pk).status for e in entries]
        assert statuses == [WaitingStatus.OFFERED] * 2 + [WaitingStatus.WAITING] * 3, (attempt, statuses)
        assert _places(course_date) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_adding_the_same_delegate_at_once_make_one_entry(councils, monkeypatch):
    """PostgreSQL: two requests joining the list for the same person, each past the duplicate check before
    either writes, leave one entry; the second is told the person is already on the list.

    A barrier inside the write holds the first request until the second has done its check (or 2 s have
    passed, when the second is kept waiting by the date's row lock)."""
    import threading

    from django.db import connection

    world = World(councils, capacity=1)
    course_date = add_course_date(world.staffs_course, capacity=1, days_ahead=30)
    fill(course_date, school=world.school, user=world.approver)
    barrier = threading.Barrier(2)
    original = WaitingListEntry.full_clean

    def full_clean(self, *args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=2)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(WaitingListEntry, "full_clean", full_clean)
    outcomes: list[str] = []

    def join():
        try:
            _join(course_date, world.school, world.booker, name="Dee Duplicate", email="dee@oakfield.example")
            outcomes.append("joined")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=join) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert WaitingListEntry.objects.filter(course_date=course_date).count() == 1
    assert sorted(outcomes) == sorted(["joined", "Dee Duplicate is already on the waiting list for this date."])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_refill_waits_for_a_locked_charged_cancellation_instead_of_skipping_it(councils):
    """PostgreSQL: when the charged cancellation is locked by another transaction at the moment the refilling
    booking is confirmed, the confirmation waits for it and still drops its charge."""
    import threading

    from django.db import connection, transaction

    from bookings.models import BookingLine

    world = World(councils, capacity=1)
    soon = add_course_date(world.staffs_course, capacity=1, days_ahead=5)
    late = fill(soon, school=world.school, user=world.approver)[0]
    elm, elm_booker = another_school()
    entry = _join(soon, elm, elm_booker, name="Bob")
    late = cancellations.cancel_line(line=late, by=world.approver)
    waiting_list.offer_places(course_date_id=soon.pk)
    entry.refresh_from_db()
    assert entry.status == WaitingStatus.OFFERED and late.cancellation_charge == Decimal("100.00")

    locked, release = threading.Event(), threading.Event()

    def hold_the_cancelled_line():
        try:
            with transaction.atomic():
                BookingLine.objects.select_for_update().get(pk=late.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_cancelled_line)
    holder.start()
    assert locked.wait(timeout=30)
    timer = threading.Timer(1.0, release.set)  # the other transaction ends a moment later
    timer.start()
    try:
        booking = waiting_list.accept_offer(entry=entry, user=elm_booker, po_number="", payment_route="invoice")
    finally:
        release.set()
        holder.join(timeout=30)
        timer.cancel()
    late.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert late.cancellation_charge == Decimal("0.00")
    assert late.refilled_by == booking.lines.get()


# --- The offer email on a real worker (PostgreSQL + Redis) ------------------------------------------------

from tests.portal.test_joining import email_worker  # noqa: E402,F401,F811  (the worker fixture, reused)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_the_offer_email_once_however_often_the_task_runs(
    councils,
    email_worker,  # noqa: F811
    monkeypatch,
):
    """Through Redis, a worker emails the offer to the requester; the task delivered twice more sends nothing."""
    from bookings import tasks
    from portal.celery import app

    client, queue, mail_dir, log_path = email_worker
    # Making the fixture's client app made it Celery's "current" app, which shared tasks follow: put the
    # portal's (eager in tests) back, so only what this test sends explicitly goes through Redis.
    app.set_current()
    world = World(councils, capacity=1)
    (line,) = fill(world.staffs_date, school=world.school, user=world.approver)
    elm, elm_booker = another_school()
    entry = _join(world.staffs_date, elm, elm_booker, name="Wendy Worker")
    # The offer is made here; its email is left to the worker (this process runs tasks eagerly).
    monkeypatch.setattr(tasks.send_waiting_list_offer, "delay", lambda *args: None)
    cancellations.cancel_line(line=line, by=world.approver)
    entry.refresh_from_db()
    assert entry.status == WaitingStatus.OFFERED

    results = [client.send_task(tasks.send_waiting_list_offer.name, args=[entry.pk], queue=queue) for _ in range(3)]
    try:
        # Generous: the worker starts Django first, and this machine's two cores are shared.
        sent = [result.get(timeout=120) for result in results]
    except Exception:
        pytest.fail(f"the worker did not send the offer; its log:\n{log_path.read_text()}")
    for result in results:
        result.forget()
    assert sorted(sent) == [0, 0, 1]
    offers = [f for f in mail_dir.iterdir() if "place has come free" in f.read_text()]
    assert len(offers) == 1
    assert f"To: {elm_booker.email}" in offers[0].read_text()
