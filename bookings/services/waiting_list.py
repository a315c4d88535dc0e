"""The waiting list of a full course date: join, be offered a freed place, accept it or let it pass on.

How an offer works
------------------
A freed place (a cancellation, an expired hold, a raised capacity) reaches :func:`place_freed`, which
enqueues :func:`offer_places` after commit. An offer takes the place at once, for the first entry still
waiting, by writing a DRAFT booking in the requester's name with one HELD line (``checkout.create_booking``:
the same snapshot and the same conditional UPDATE on ``places_taken`` as any checkout) whose hold lasts as
long as the offer (``BOOKINGS_WAITING_LIST_OFFER_HOURS``, 48 by default, never past the booking close).
So the place cannot be sold twice, and ``places_taken`` keeps counting exactly the place-taking lines.

- Accepting (:func:`accept_offer`) submits that booking like a checkout (PO number, payment route; the
  school's approval rules apply). When it is confirmed, :func:`booking_confirmed` drops the cancellation
  charge of the earliest charged cancellation on the date: its place has been refilled.
- Declining (:func:`decline_offer`) or not answering in time (:func:`expire_offers`, periodic, and the hold
  release task) cancels the draft; releasing its place calls :func:`place_freed` again, which offers the
  place to the next entry.

Locks: an offer locks the course date row first and then the waiting entry (``SKIP LOCKED``), the same
order as a council cancelling a date (date, then lines and entries), so the two cannot deadlock. Joining a
list locks the date row too. A confirmation that refills a place locks its waiting entry, then the charged
cancellations of the date (waiting for them), the same order as a council cancelling the date.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalogue.models import CourseDate, CourseDateStatus
from catalogue.pricing import format_money
from portal.access import is_school_approver, is_school_member, require_school_member
from portal.models import SchoolRole

from ..events import booking_charges_reduced, send_on_commit
from ..models import (
    HOLDING_STATUSES,
    Booking,
    BookingLine,
    BookingStatus,
    ItemKind,
    LineStatus,
    WaitingListEntry,
    WaitingStatus,
)
from ..states import record_event
from . import holds
from .checkout import CheckoutUnavailable, DelegateDetails, LineSpec, create_booking, submit_checkout
from .emails import render, send_once

logger = logging.getLogger(__name__)

DEFAULT_OFFER_HOURS = 48
ACTIVE_STATUSES = (WaitingStatus.WAITING, WaitingStatus.OFFERED)
REFILL_REASON = "Place refilled from the waiting list (booking {reference}), so there is no charge."


def offer_hours() -> int:
    return int(getattr(settings, "BOOKINGS_WAITING_LIST_OFFER_HOURS", DEFAULT_OFFER_HOURS))


def _closes_at(course_date: CourseDate) -> datetime:
    return course_date.booking_closes_at or course_date.starts_at


def _skip_locked() -> dict:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


# --- Joining and leaving ------------------------------------------------------------------------------


def join_refusal(*, course_date: CourseDate, at: datetime | None = None) -> str | None:
    """Why nobody can join this date's waiting list now (None: they can)."""
    at = at or timezone.now()
    if course_date.status != CourseDateStatus.SCHEDULED:
        return "This date has been cancelled."
    if at >= _closes_at(course_date):
        return "Booking for this date has closed."
    if course_date.places_left > 0:
        return "There are places left on this date, so you can book one instead of waiting."
    return None


@transaction.atomic
def join_waiting_list(
    *,
    course_date: CourseDate,
    school,
    user,
    delegate_name: str,
    delegate_email: str = "",
    delegate_role: str = "",
) -> WaitingListEntry:
    """Put the school on the date's waiting list for one place for the named person; first come, first offered."""
    require_school_member(user, school, role=SchoolRole.BOOKER)
    # The date's row lock serialises joins to its list, so the duplicate check below and the insert cannot
    # interleave with another request for the same person (first come: the lock queue keeps the order).
    holds.set_lock_timeout()
    course_date = CourseDate.objects.select_for_update(of=("self",)).select_related("service").get(pk=course_date.pk)
    refusal = join_refusal(course_date=course_date)
    if refusal:
        raise ValidationError(refusal, code="cannot_join")
    delegate_name = " ".join(delegate_name.split())
    delegate_email = delegate_email.strip().lower()
    errors: dict[str, str] = {}
    if course_date.service.delegates_must_be_named and not delegate_name:
        errors["delegate_name"] = "Enter the name of the person who would attend."
    if delegate_email:
        try:
            validate_email(delegate_email)
        except ValidationError:
            errors["delegate_email"] = "Enter an email address in the correct format, like name@example.org."
    if errors:
        raise ValidationError(errors)
    active = WaitingListEntry.objects.filter(course_date=course_date, school=school, status__in=ACTIVE_STATUSES)
    same_person = (
        active.filter(delegate_email=delegate_email)
        if delegate_email
        else active.filter(delegate_name__iexact=delegate_name, delegate_email="")
    )
    if same_person.exists():
        who = delegate_name or delegate_email or "This person"
        raise ValidationError({"delegate_name": f"{who} is already on the waiting list for this date."})
    entry = WaitingListEntry(
        course_date=course_date,
        school=school,
        requested_by=user,
        delegate_name=delegate_name,
        delegate_email=delegate_email,
        delegate_role=" ".join(delegate_role.split()),
    )
    entry.full_clean()
    entry.save()
    return entry


def may_act_on(user, entry: WaitingListEntry) -> bool:
    """The person who joined (while still at the school) or the school's approver."""
    if entry.requested_by_id == getattr(user, "pk", None) and is_school_member(user, entry.school):
        return True
    return is_school_approver(user, entry.school)


def _lock_entry(entry: WaitingListEntry) -> WaitingListEntry:
    return (
        WaitingListEntry.objects.select_for_update(of=("self",))
        .select_related("course_date", "course_date__service", "school", "requested_by", "booking")
        .get(pk=entry.pk)
    )


def _set_status(entry: WaitingListEntry, status: str) -> None:
    entry.status = status
    entry.full_clean()
    entry.save(update_fields=["status", "updated_at"])


@transaction.atomic
def withdraw(*, entry: WaitingListEntry, by) -> WaitingListEntry:
    """Leave the waiting list; an outstanding offer is declined (its place goes to the next in line)."""
    entry = _lock_entry(entry)
    if not may_act_on(by, entry):
        raise PermissionDenied("You cannot change this waiting list entry.")
    if entry.status not in ACTIVE_STATUSES:
        raise ValidationError("This entry is no longer on the waiting list.", code="not_active")
    if entry.status == WaitingStatus.OFFERED:
        _let_go_of_offer(entry, by=by, reason="The school declined the place offered from the waiting list.")
    _set_status(entry, WaitingStatus.WITHDRAWN)
    return entry


def decline_offer(*, entry: WaitingListEntry, by) -> WaitingListEntry:
    return withdraw(entry=entry, by=by)


def _let_go_of_offer(entry: WaitingListEntry, *, by, reason: str) -> None:
    booking = entry.booking
    if booking is not None and booking.status in HOLDING_STATUSES:
        holds.cancel_open_booking(booking=booking, by=by, reason=reason)


# --- Offering freed places ----------------------------------------------------------------------------


def place_freed(*, course_date_id: int) -> None:
    """A place on the date came free (called inside the freeing transaction): offer it after commit."""
    if not WaitingListEntry.objects.filter(course_date_id=course_date_id, status=WaitingStatus.WAITING).exists():
        return
    from .. import tasks

    transaction.on_commit(lambda: tasks.offer_waiting_list_places.delay(course_date_id))


def on_course_date_saved(sender, instance: CourseDate, created: bool = False, raw: bool = False, **kwargs) -> None:
    """post_save of a course date (an editor raised the capacity, or re-opened booking): offer free places."""
    if created or raw:
        return
    place_freed(course_date_id=instance.pk)


def offer_places(*, course_date_id: int, now: datetime | None = None) -> list[int]:
    """Offer every free place on the date to the entries first in line; ids of the entries offered one.

    Each offer is its own transaction, so one entry that cannot be offered (the requester left the school,
    no price applies any more) is passed over without undoing the others.
    """
    offered: list[int] = []
    course_date = CourseDate.objects.filter(pk=course_date_id).first()
    if course_date is None:
        return offered
    for _ in range(course_date.capacity + 1):
        outcome = _offer_next(course_date_id=course_date_id, now=now or timezone.now())
        if outcome is None:
            break
        if outcome.status == WaitingStatus.OFFERED:
            offered.append(outcome.pk)
    return offered


@transaction.atomic
def _offer_next(*, course_date_id: int, now: datetime) -> WaitingListEntry | None:
    """Offer one free place to the first waiting entry; the entry (offered, or passed over), or None."""
    holds.set_lock_timeout()
    course_date = CourseDate.objects.select_for_update().select_related("service").get(pk=course_date_id)
    if course_date.status != CourseDateStatus.SCHEDULED or now >= _closes_at(course_date):
        return None
    if course_date.places_left == 0:
        return None
    entry = (
        WaitingListEntry.objects.select_for_update(of=("self",), **_skip_locked())
        .filter(course_date_id=course_date_id, status=WaitingStatus.WAITING)
        .select_related("school", "requested_by")
        .order_by("created_at", "id")
        .first()
    )
    if entry is None:
        return None
    requester = entry.requested_by
    if not (requester.is_active and is_school_member(requester, entry.school, role=SchoolRole.BOOKER)):
        logger.info("Waiting list entry %s passed over: the requester no longer acts for the school", entry.pk)
        _set_status(entry, WaitingStatus.WITHDRAWN)
        return entry
    expires = min(now + timedelta(hours=offer_hours()), _closes_at(course_date))
    spec = LineSpec(
        kind=ItemKind.COURSE_PLACE,
        service=course_date.service,
        course_date=course_date,
        delegate=DelegateDetails(name=entry.delegate_name, email=entry.delegate_email, role=entry.delegate_role),
    )
    try:
        with transaction.atomic():
            booking = create_booking(
                school=entry.school,
                booked_by=requester,
                specs=[spec],
                hold_until=expires,
                reason="A place came free and was offered from the waiting list.",
            )
    except CheckoutUnavailable as exc:
        if any(problem.full for problem in exc.problems):
            return None
        logger.warning("Waiting list entry %s passed over: %s", entry.pk, exc)
        _set_status(entry, WaitingStatus.EXPIRED)
        return entry
    entry.status = WaitingStatus.OFFERED
    entry.offered_at = now
    entry.offer_expires_at = expires
    entry.booking = booking
    entry.full_clean()
    entry.save(update_fields=["status", "offered_at", "offer_expires_at", "booking", "updated_at"])
    _enqueue("send_waiting_list_offer", entry.pk)
    return entry


def offer_free_places_everywhere(*, now: datetime | None = None) -> int:
    """The periodic safety net: offer free places on every open date that has people waiting."""
    now = now or timezone.now()
    date_ids = (
        CourseDate.objects.filter(
            status=CourseDateStatus.SCHEDULED, starts_at__gt=now, waiting_list__status=WaitingStatus.WAITING
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    offered = 0
    for course_date_id in sorted(set(date_ids)):
        try:
            offered += len(offer_places(course_date_id=course_date_id, now=now))
        except Exception:
            logger.exception("Could not offer the free places of course date %s", course_date_id)
    return offered


# --- Answering an offer -------------------------------------------------------------------------------


def accept_refusal(*, entry: WaitingListEntry, user, at: datetime | None = None) -> str | None:
    at = at or timezone.now()
    if entry.status == WaitingStatus.ACCEPTED:
        return "You have already accepted this place."
    if entry.status != WaitingStatus.OFFERED or entry.booking is None:
        return "There is no place on offer for this entry."
    if entry.offer_expires_at <= at or entry.booking.status != BookingStatus.DRAFT:
        return "The offer has run out and the place has gone to the next school on the waiting list."
    if entry.booking.booked_by_id != user.pk:
        name = entry.requested_by.get_full_name() or entry.requested_by.email
        return f"Only {name}, who joined the waiting list, can accept this place."
    return None


@transaction.atomic
def accept_offer(
    *,
    entry: WaitingListEntry,
    user,
    po_number: str,
    payment_route: str,
    access_needs: str = "",
    dietary_needs: str = "",
) -> Booking:
    """Book the offered place: the draft booking is submitted like a checkout (approval rules apply)."""
    entry = _lock_entry(entry)
    if not may_act_on(user, entry):
        raise PermissionDenied("You cannot answer this offer.")
    refusal = accept_refusal(entry=entry, user=user)
    if refusal:
        raise ValidationError(refusal, code="not_on_offer")
    booking = entry.booking
    line = booking.lines.select_related("delegate").get(kind=ItemKind.COURSE_PLACE)
    delegate = line.delegate
    delegate.access_needs = access_needs.strip()
    delegate.dietary_needs = dietary_needs.strip()
    delegate.full_clean(exclude=["line"])
    delegate.save(update_fields=["access_needs", "dietary_needs"])
    booking = submit_checkout(booking=booking, user=user, po_number=po_number, routes={line.council_id: payment_route})
    _set_status(entry, WaitingStatus.ACCEPTED)
    return booking


@transaction.atomic
def booking_confirmed(*, booking: Booking) -> int:
    """Called when a booking is confirmed: a place taken from the waiting list refills a charged cancellation.

    For each booked line the waiting list offered, the earliest cancellation on that date still charged
    under the policy loses its charge and points at the refilling line. Idempotent: a line refills at most
    one cancellation (``refilled_by`` is one-to-one). How many charges were dropped.
    """
    entries = {
        entry.course_date_id: entry
        for entry in WaitingListEntry.objects.select_for_update().filter(booking=booking).order_by("pk")
    }
    if not entries:
        return 0
    dropped = 0
    for entry in entries.values():
        if entry.status == WaitingStatus.OFFERED:
            _set_status(entry, WaitingStatus.ACCEPTED)
    lines = booking.lines.filter(
        kind=ItemKind.COURSE_PLACE, course_date_id__in=list(entries), status=LineStatus.BOOKED
    ).order_by("pk")
    for line in lines:
        if BookingLine.objects.filter(refilled_by=line).exists():
            continue
        # Wait for a charged cancellation someone else has locked (a waiver, another refill) rather than skip
        # it: skipping would leave the school charged for a place that was refilled. All candidates are
        # locked, not the first with LIMIT 1: after waiting, PostgreSQL re-checks the row and a LIMIT 1 query
        # whose row no longer matches (its charge was just waived) returns nothing instead of the next one.
        candidates = list(
            BookingLine.objects.select_for_update(of=("self",))
            .filter(
                course_date_id=line.course_date_id,
                status=LineStatus.CANCELLED,
                cancellation_charge__gt=0,
                refilled_by__isnull=True,
            )
            .order_by("cancelled_at", "pk")
        )
        if not candidates:
            continue
        cancelled = candidates[0]
        reason = REFILL_REASON.format(reference=booking.reference)
        charge = cancelled.cancellation_charge
        BookingLine.objects.filter(pk=cancelled.pk).update(
            cancellation_charge=0,
            charge_waived_at=timezone.now(),
            charge_waived_reason=reason,
            refilled_by=line,
            updated_at=timezone.now(),
        )
        record_event(cancelled, reason=f"Cancellation charge of {format_money(charge)} dropped. {reason}")
        _enqueue("send_charge_waived", cancelled.pk)
        send_on_commit(booking_charges_reduced, booking_id=cancelled.booking_id)
        dropped += 1
    return dropped


# --- Running out --------------------------------------------------------------------------------------


def expire_offers(*, now: datetime | None = None, limit: int = 500) -> int:
    """Offers not answered in time lapse (their places pass on); lists of dates that closed are closed.

    Each entry in its own transaction: one failure (logged) must not keep other places from moving on.
    """
    now = now or timezone.now()
    due = list(
        WaitingListEntry.objects.filter(status=WaitingStatus.OFFERED, offer_expires_at__lte=now)
        .order_by("offer_expires_at", "pk")
        .values_list("pk", "booking_id")[:limit]
    )
    expired = 0
    for entry_id, booking_id in due:
        try:
            expired += _expire_offer(entry_id=entry_id, booking_id=booking_id, now=now)
        except Exception:
            logger.exception("Could not expire the waiting list offer %s", entry_id)
    # Nobody can be offered a place on a date that was cancelled or whose booking has closed.
    WaitingListEntry.objects.filter(status=WaitingStatus.WAITING).filter(
        ~Q(course_date__status=CourseDateStatus.SCHEDULED)
        | Q(course_date__starts_at__lte=now)
        | Q(course_date__booking_closes_at__lte=now)
    ).update(status=WaitingStatus.EXPIRED, updated_at=now)
    return expired


def _expire_offer(*, entry_id: int, booking_id: int | None, now: datetime) -> bool:
    """Lapse one offer whose time is up; True when it lapsed (False: it was taken up meanwhile)."""
    status = Booking.objects.filter(pk=booking_id).values_list("status", flat=True).first() if booking_id else None
    if status is not None and status not in (BookingStatus.DRAFT, BookingStatus.CANCELLED):
        # Submitted in time (through this page or the checkout page): it is waiting for approval or payment,
        # or confirmed. The offer was taken up, whatever happens to the booking next.
        WaitingListEntry.objects.filter(pk=entry_id, status=WaitingStatus.OFFERED).update(
            status=WaitingStatus.ACCEPTED, updated_at=now
        )
        return False
    if status == BookingStatus.DRAFT:
        # The draft's hold runs out with the offer; cancelling it frees the place, which goes to the next entry.
        holds.expire_hold(booking_id=booking_id, now=now + timedelta(microseconds=1))
        if Booking.objects.filter(pk=booking_id, status=BookingStatus.CANCELLED).count() == 0:
            return False  # being submitted at this very moment (row locked): the next round decides
    updated = WaitingListEntry.objects.filter(pk=entry_id, status=WaitingStatus.OFFERED).update(
        status=WaitingStatus.EXPIRED, updated_at=now
    )
    if updated:
        _enqueue("send_waiting_list_offer_expired", entry_id)
    return bool(updated)


# --- Emails -------------------------------------------------------------------------------------------


def _enqueue(task_name: str, *args) -> None:
    from .. import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(*args))


def _entry_for_email(entry_id: int) -> WaitingListEntry | None:
    return (
        WaitingListEntry.objects.select_related(
            "course_date", "course_date__service", "course_date__venue", "school", "requested_by", "booking"
        )
        .filter(pk=entry_id)
        .first()
    )


def offer_url(entry: WaitingListEntry) -> str:
    from django.urls import reverse

    return settings.SITE_URL.rstrip("/") + reverse("bookings:waiting_list_offer", kwargs={"entry_id": entry.pk})


def notify_offer(*, entry_id: int) -> int:
    """Email the requester that a place is theirs to accept until the offer runs out."""
    entry = _entry_for_email(entry_id)
    if entry is None or entry.status != WaitingStatus.OFFERED:
        return 0
    subject, body = render("waiting_list_offer", {"entry": entry, "url": offer_url(entry)})
    return int(
        send_once(
            key=f"waiting-list:{entry.pk}:offer:{entry.offered_at:%Y%m%d%H%M%S}",
            to=entry.requested_by.email,
            subject=subject,
            body=body,
        )
    )


def notify_offer_expired(*, entry_id: int) -> int:
    entry = _entry_for_email(entry_id)
    if entry is None or entry.status != WaitingStatus.EXPIRED:
        return 0
    subject, body = render("waiting_list_offer_expired", {"entry": entry})
    return int(
        send_once(key=f"waiting-list:{entry.pk}:expired", to=entry.requested_by.email, subject=subject, body=body)
    )


def notify_list_closed(*, entry_id: int) -> int:
    """The council cancelled the date: tell whoever was waiting."""
    entry = _entry_for_email(entry_id)
    if entry is None or entry.status != WaitingStatus.WITHDRAWN or not entry.course_date.is_cancelled:
        return 0
    subject, body = render("waiting_list_closed", {"entry": entry})
    return int(
        send_once(key=f"waiting-list:{entry.pk}:closed", to=entry.requested_by.email, subject=subject, body=body)
    )
