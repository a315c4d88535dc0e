"""Cancelling booked places and subscriptions under the service's policy, waiving charges, and a council
cancelling a whole course date.

The policy (``ServicePage.cancellation_free_days``, default 14): a place cancelled at least that many days
before the course starts costs nothing; inside that, the full net price stays charged unless the place is
refilled from the waiting list (``waiting_list.booking_confirmed`` drops the charge then), and council staff
may waive it with a reason. A subscription counts the days back from the first day of its term. A one-off
service has no date to count from, so cancelling one is free (the council arranges its dates directly).

The charge is stored on the line (``cancellation_charge``, net, to the penny); billing credits the rest.
Places go back through ``holds.release_places``, which also tells the waiting list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalogue.models import CourseDate
from catalogue.pricing import format_money
from portal.access import is_partnership_admin, is_school_approver, is_school_member

from ..events import booking_charges_reduced, send_on_commit
from ..models import (
    HOLDING_STATUSES,
    Booking,
    BookingLine,
    BookingStatus,
    ItemKind,
    LineStatus,
    PaymentRoute,
    Subscription,
    SubscriptionStatus,
    WaitingListEntry,
    WaitingStatus,
)
from ..states import record_event, transition
from .course_admin import may_waive_charges, sees_needs
from .emails import render, send_once
from .holds import lock_line_in_order, release_places, set_lock_timeout

ZERO = Decimal("0.00")
COUNCIL_CANCELLED_REASON = "The council cancelled this course date. There is no charge."
LATE_CHARGE_DROPPED_REASON = "The council cancelled this course date, so there is no charge for cancelling the place."
LIVE_LINE_STATUSES = (LineStatus.HELD, LineStatus.BOOKED, LineStatus.ATTENDED, LineStatus.NO_SHOW)


@dataclass(frozen=True)
class CancellationTerms:
    """What cancelling a line now would cost, and why, in words for the person cancelling."""

    charge: Decimal
    free_until: datetime | None
    explanation: str

    @property
    def is_free(self) -> bool:
        return self.charge == ZERO


def _starts_at(line: BookingLine) -> datetime | None:
    if line.kind == ItemKind.COURSE_PLACE:
        return line.course_date.starts_at
    if line.kind == ItemKind.SUBSCRIPTION and line.term_start:
        return timezone.make_aware(datetime.combine(line.term_start, time.min))
    return None


def cancellation_terms(*, line: BookingLine, at: datetime | None = None) -> CancellationTerms:
    """The charge (net) for cancelling ``line`` at ``at`` (now) under its service's policy."""
    at = at or timezone.now()
    starts_at = _starts_at(line)
    if starts_at is None:
        return CancellationTerms(ZERO, None, "There is no charge for cancelling this service.")
    days = line.service.cancellation_free_days
    free_until = starts_at - timedelta(days=days)
    deadline = timezone.localtime(free_until).strftime("%-d %B %Y, %-I:%M%p").replace("AM", "am").replace("PM", "pm")
    if at <= free_until:
        return CancellationTerms(
            ZERO, free_until, f"Cancelling is free until {deadline} ({days} days before the start). There is no charge."
        )
    what = "place" if line.kind == ItemKind.COURSE_PLACE else "subscription"
    refill = " unless the place is filled from the waiting list" if line.kind == ItemKind.COURSE_PLACE else ""
    return CancellationTerms(
        line.net,
        free_until,
        f"Free cancellation ended on {deadline} ({days} days before the start), so the full price of the {what}, "
        f"{format_money(line.net)} before VAT, is still charged{refill}.",
    )


def money_back(lines: list[BookingLine]) -> str:
    """What happens to the money already paid or invoiced for lines cancelled free of charge, in words for
    the school ("" when nothing was paid or invoiced). Billing does the refund or credit note; this only says
    so: a card payment (the booking has its payment reference) is refunded in full, gross, to the card that
    paid; an invoiced line (the booking was confirmed, so invoiced) is credited with a credit note."""
    card = [line for line in lines if line.payment_route == PaymentRoute.CARD and line.booking.payment_reference]
    invoiced = [line for line in lines if line.payment_route == PaymentRoute.INVOICE and line.booking.confirmed_at]
    sentences = []
    if card:
        total = sum((line.gross for line in card), ZERO)
        sentences.append(
            f"{format_money(total)} will be refunded to the card that paid, usually within 5 to 10 working days."
        )
    if invoiced:
        sentences.append("A credit note will be issued against the invoice.")
    return " ".join(sentences)


# --- Who may cancel and waive -------------------------------------------------------------------------


def may_cancel_line(user, line: BookingLine) -> bool:
    """The school's approver, the person who booked it (while still at the school), or the providing
    council's course administrators (on the school's behalf)."""
    school = line.booking.school
    if is_school_approver(user, school):
        return True
    if line.booking.booked_by_id == getattr(user, "pk", None) and is_school_member(user, school):
        return True
    return is_partnership_admin(user) or sees_needs(user, council_id=line.council_id)


def refusal_to_cancel(line: BookingLine, at: datetime) -> str | None:
    if line.status == LineStatus.CANCELLED:
        return "This has already been cancelled."
    if line.booking.status in HOLDING_STATUSES or line.status == LineStatus.HELD:
        return "This booking is not confirmed yet: cancel the whole booking instead."
    if line.status != LineStatus.BOOKED:
        return f"This cannot be cancelled: it is {line.get_status_display().lower()}."
    if line.kind == ItemKind.COURSE_PLACE and line.course_date.starts_at <= at:
        return "The course has started, so the place can no longer be cancelled."
    return None


# What cancelling and waiving read of the line they lock.
LINE_RELATED = ("booking", "booking__school", "service", "course_date", "council")


def _lock_line(line: BookingLine) -> BookingLine:
    return BookingLine.objects.select_for_update(of=("self",)).select_related(*LINE_RELATED).get(pk=line.pk)


def _cancel_booking_if_empty(booking: Booking, *, by, reason: str) -> None:
    """A booking none of whose lines is live any more is cancelled too (its history stays)."""
    if booking.status in (BookingStatus.CANCELLED, BookingStatus.COMPLETED):
        return
    if booking.lines.filter(status__in=LIVE_LINE_STATUSES).exists():
        return
    transition(booking, BookingStatus.CANCELLED, by=by, reason=reason, fields={"hold_expires_at": None})


def _end_subscription(line: BookingLine, now: datetime) -> None:
    for subscription in Subscription.objects.select_for_update().filter(
        booking_line=line, status=SubscriptionStatus.ACTIVE
    ):
        subscription.status = SubscriptionStatus.CANCELLED
        subscription.cancelled_at = now
        subscription.full_clean()
        subscription.save(update_fields=["status", "cancelled_at", "updated_at"])


@transaction.atomic
def cancel_line(*, line: BookingLine, by, reason: str = "") -> BookingLine:
    """Cancel one booked place or subscription under the policy; the charge (if any) is kept on the line.

    The place goes back (and is offered to the waiting list after commit); a subscription stops giving the
    subscriber price; the booker and the delegate are told by email.
    """
    set_lock_timeout()
    line = lock_line_in_order(line, *LINE_RELATED)
    if not may_cancel_line(by, line):
        raise PermissionDenied("You cannot cancel this booking.")
    now = timezone.now()
    refusal = refusal_to_cancel(line, now)
    if refusal:
        raise ValidationError(refusal, code="not_cancellable")
    terms = cancellation_terms(line=line, at=now)
    note = f"{terms.explanation} {reason.strip()}".strip()
    transition(
        line,
        LineStatus.CANCELLED,
        by=by,
        reason=note,
        fields={"cancelled_at": now, "cancellation_charge": terms.charge},
    )
    if line.kind == ItemKind.COURSE_PLACE:
        release_places(course_date_id=line.course_date_id)
    elif line.kind == ItemKind.SUBSCRIPTION:
        _end_subscription(line, now)
    _cancel_booking_if_empty(line.booking, by=by, reason="Every place on the booking was cancelled.")
    _enqueue("send_line_cancelled", line.pk)
    send_on_commit(booking_charges_reduced, booking_id=line.booking_id)  # billing credits what is not charged
    return line


@transaction.atomic
def waive_charge(*, line: BookingLine, by, reason: str) -> BookingLine:
    """Drop the cancellation charge of a cancelled line (council staff, with a reason for the audit trail)."""
    line = _lock_line(line)
    if not may_waive_charges(by, council_id=line.council_id):
        raise PermissionDenied("Only the providing council's course administrators can waive a charge.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the charge is waived."}, code="reason_required")
    if line.status != LineStatus.CANCELLED or not line.cancellation_charge:
        raise ValidationError("There is no cancellation charge on this line to waive.", code="nothing_to_waive")
    charge = line.cancellation_charge
    line.cancellation_charge = ZERO
    line.charge_waived_by = by
    line.charge_waived_at = timezone.now()
    line.charge_waived_reason = reason
    line.full_clean()
    line.save(
        update_fields=[
            "cancellation_charge",
            "charge_waived_by",
            "charge_waived_at",
            "charge_waived_reason",
            "updated_at",
        ]
    )
    record_event(line, by=by, reason=f"Cancellation charge of {format_money(charge)} waived: {reason}")
    _enqueue("send_charge_waived", line.pk)
    send_on_commit(booking_charges_reduced, booking_id=line.booking_id)
    return line


# --- A council cancels a course date ------------------------------------------------------------------


@transaction.atomic
def cancel_course_date_bookings(*, course_date: CourseDate, by=None) -> list[int]:
    """Cancel every live line on a date the council has cancelled, without charge; ids of the lines cancelled.

    Runs inside the catalogue's cancelling transaction (``catalogue.events.course_date_cancelled``), so the
    date and its bookings change together. Held lines of bookings still at checkout are cancelled too; their
    bookings, and any booking left with nothing live, are cancelled. The waiting list is closed. After
    commit, each school (booker and approvers) and each delegate is told.
    """
    set_lock_timeout()
    # Lock order: the date (locked by the catalogue's cancelling transaction, and here again to be sure), the
    # bookings in id order, then the lines; cancel_line takes the same order (holds.lock_line_in_order).
    CourseDate.objects.select_for_update().filter(pk=course_date.pk).values_list("pk", flat=True).first()
    booking_ids = set(
        BookingLine.objects.filter(
            course_date=course_date, status__in=(LineStatus.HELD, LineStatus.BOOKED)
        ).values_list("booking_id", flat=True)
    )
    list(Booking.objects.select_for_update().filter(pk__in=booking_ids).order_by("pk").values_list("pk", flat=True))
    lines = list(
        BookingLine.objects.select_for_update(of=("self",))
        .filter(course_date=course_date, status__in=(LineStatus.HELD, LineStatus.BOOKED))
        .select_related("booking")
        .order_by("pk")
    )
    now = timezone.now()
    for line in lines:
        fields = {"cancelled_at": now}
        if line.status == LineStatus.BOOKED:
            fields["cancellation_charge"] = ZERO
        transition(line, LineStatus.CANCELLED, by=by, reason=COUNCIL_CANCELLED_REASON, fields=fields)
    if lines:
        release_places(course_date_id=course_date.pk, count=len(lines))
    bookings = {line.booking_id: line.booking for line in lines}
    for booking in bookings.values():
        _cancel_booking_if_empty(booking, by=by, reason=COUNCIL_CANCELLED_REASON)
    entries = list(
        WaitingListEntry.objects.select_for_update()
        .filter(course_date=course_date, status__in=(WaitingStatus.WAITING, WaitingStatus.OFFERED))
        .order_by("pk")
    )
    for entry in entries:
        entry.status = WaitingStatus.WITHDRAWN
        entry.full_clean()
        entry.save(update_fields=["status", "updated_at"])
    # After the entries, as waiting_list.booking_confirmed locks them (entries, then charged cancellations).
    dropped = _drop_late_charges(course_date=course_date, by=by, now=now)
    for booking_id in sorted(bookings):
        _enqueue("send_course_date_cancelled", course_date.pk, booking_id)
    for line in dropped:
        _enqueue("send_charge_waived", line.pk)
    for booking_id in sorted(set(bookings) | {line.booking_id for line in dropped}):
        send_on_commit(booking_charges_reduced, booking_id=booking_id)
    for entry in entries:
        _enqueue("send_waiting_list_closed", entry.pk)
    return [line.pk for line in lines]


def _drop_late_charges(*, course_date: CourseDate, by, now: datetime) -> list[BookingLine]:
    """Places cancelled late on a date the council then cancels cost nothing: the course no longer runs, so
    the school owes nothing for having let its place go. Their charges are dropped with the reason."""
    charged = list(
        BookingLine.objects.select_for_update(of=("self",))
        .filter(course_date=course_date, status=LineStatus.CANCELLED, cancellation_charge__gt=0)
        .order_by("pk")
    )
    for line in charged:
        charge = line.cancellation_charge
        BookingLine.objects.filter(pk=line.pk).update(
            cancellation_charge=ZERO,
            charge_waived_by=by,
            charge_waived_at=now,
            charge_waived_reason=LATE_CHARGE_DROPPED_REASON,
            updated_at=now,
        )
        line.cancellation_charge = ZERO
        record_event(
            line, by=by, reason=f"Cancellation charge of {format_money(charge)} dropped. {COUNCIL_CANCELLED_REASON}"
        )
    return charged


def on_course_date_cancelled(sender, course_date, user=None, **kwargs) -> None:
    """Receiver of ``catalogue.events.course_date_cancelled`` (connected in ``bookings.receivers``)."""
    cancel_course_date_bookings(course_date=course_date, by=user)


# --- Emails -------------------------------------------------------------------------------------------


def _enqueue(task_name: str, *args) -> None:
    from .. import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(*args))


def _school_recipients(booking: Booking) -> list[tuple[str, str]]:
    """(key part, address) for the booker and the school's approvers, each address once."""
    from portal.models import SchoolMembership, SchoolRole

    seen: dict[str, str] = {}
    if booking.booked_by.email:
        seen[booking.booked_by.email.lower()] = f"user:{booking.booked_by_id}"
    approvers = SchoolMembership.objects.filter(school=booking.school, role=SchoolRole.APPROVER).select_related("user")
    for membership in approvers:
        if membership.user.is_active and membership.user.email.lower() not in seen:
            seen[membership.user.email.lower()] = f"user:{membership.user_id}"
    return [(key, email) for email, key in seen.items()]


def _line_for_email(line_id: int) -> BookingLine | None:
    return (
        BookingLine.objects.select_related(
            "booking", "booking__school", "booking__booked_by", "service", "council", "course_date__venue"
        )
        .filter(pk=line_id)
        .first()
    )


def _delegate_of(line: BookingLine):
    return getattr(line, "delegate", None) if line.kind == ItemKind.COURSE_PLACE else None


def notify_line_cancelled(*, line_id: int) -> int:
    """Tell the booker (and the delegate, for a course place) that the line is cancelled and what it costs."""
    line = _line_for_email(line_id)
    if line is None or line.status != LineStatus.CANCELLED:
        return 0
    delegate = _delegate_of(line)
    context = {
        "line": line,
        "booking": line.booking,
        "delegate": delegate,
        "charge": line.cancellation_charge,
        "money_back": "" if line.cancellation_charge else money_back([line]),
    }
    sent = 0
    subject, body = render("line_cancelled", {**context, "to_delegate": False})
    sent += send_once(
        key=f"line-cancelled:{line.pk}:booker", to=line.booking.booked_by.email, subject=subject, body=body
    )
    if delegate and delegate.email and delegate.email.lower() != line.booking.booked_by.email.lower():
        subject, body = render("line_cancelled", {**context, "to_delegate": True})
        sent += send_once(key=f"line-cancelled:{line.pk}:delegate", to=delegate.email, subject=subject, body=body)
    return sent


def notify_charge_waived(*, line_id: int) -> int:
    line = _line_for_email(line_id)
    if line is None or line.charge_waived_at is None:
        return 0
    subject, body = render("charge_waived", {"line": line})
    return int(send_once(key=f"charge-waived:{line.pk}", to=line.booking.booked_by.email, subject=subject, body=body))


def notify_course_date_cancelled(*, course_date_id: int, booking_id: int) -> int:
    """Tell the school (booker and approvers) and each delegate of the booking that the date is cancelled."""
    course_date = CourseDate.objects.select_related("service", "venue").filter(pk=course_date_id).first()
    booking = Booking.objects.select_related("school", "booked_by").filter(pk=booking_id).first()
    if course_date is None or booking is None or not course_date.is_cancelled:
        return 0
    lines = list(
        booking.lines.filter(course_date=course_date, status=LineStatus.CANCELLED)
        .select_related("delegate")
        .order_by("pk")
    )
    if not lines:
        return 0
    context = {"course_date": course_date, "booking": booking, "lines": lines}
    subject, body = render("course_date_cancelled", {**context, "money_back": money_back(lines)})
    sent = 0
    for key, email in _school_recipients(booking):
        sent += send_once(
            key=f"date-cancelled:{course_date.pk}:booking:{booking.pk}:{key}", to=email, subject=subject, body=body
        )
    for line in lines:
        delegate = _delegate_of(line)
        if delegate and delegate.email:
            subject, body = render(
                "course_date_cancelled_delegate",
                {**context, "line": line, "delegate": delegate},
            )
            sent += send_once(
                key=f"date-cancelled:{course_date.pk}:line:{line.pk}:delegate",
                to=delegate.email,
                subject=subject,
                body=body,
            )
    return sent
