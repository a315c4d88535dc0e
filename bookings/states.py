"""The state machine of bookings and booking lines, and the audit trail it writes.

Every status change in the app goes through :func:`transition`: it checks the move against the table
below, writes the new status with a conditional UPDATE (``WHERE status = <the status we read>``) and
records who, when and why in ``StatusChange``. The conditional UPDATE makes two racing requests safe
without a lock: if an approver approves while the hold-release task cancels, only one UPDATE matches, and
the other caller gets :class:`StaleStatus` instead of overwriting a decision it never saw.

Booking::

    draft ─┬─> awaiting_approval ─┬─> awaiting_payment ─┬─> confirmed ──> completed
           ├─> awaiting_payment   ├─> confirmed         │        │
           ├─> confirmed          │                     │        │
           └─> cancelled <────────┴─────────────────────┴────────┘

Line::

    held ──> booked ──> attended <──> no_show   (attendance can be corrected)
      │        ├──> cancelled
      │        └──> substituted
      └──> cancelled
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils import timezone

from .models import Booking, BookingLine, BookingStatus, LineStatus, StatusChange

B = BookingStatus
L = LineStatus

BOOKING_TRANSITIONS: dict[str, frozenset[str]] = {
    B.DRAFT: frozenset({B.AWAITING_APPROVAL, B.AWAITING_PAYMENT, B.CONFIRMED, B.CANCELLED}),
    B.AWAITING_APPROVAL: frozenset({B.AWAITING_PAYMENT, B.CONFIRMED, B.CANCELLED}),
    B.AWAITING_PAYMENT: frozenset({B.CONFIRMED, B.CANCELLED}),
    B.CONFIRMED: frozenset({B.COMPLETED, B.CANCELLED}),
    B.CANCELLED: frozenset(),
    B.COMPLETED: frozenset(),
}

LINE_TRANSITIONS: dict[str, frozenset[str]] = {
    L.HELD: frozenset({L.BOOKED, L.CANCELLED}),
    L.BOOKED: frozenset({L.ATTENDED, L.NO_SHOW, L.CANCELLED, L.SUBSTITUTED}),
    L.ATTENDED: frozenset({L.NO_SHOW}),
    L.NO_SHOW: frozenset({L.ATTENDED}),
    L.CANCELLED: frozenset(),
    L.SUBSTITUTED: frozenset(),
}


class IllegalTransition(Exception):
    """The state machine forbids this move; the message says which object, from where and to where."""


class StaleStatus(IllegalTransition):
    """Someone else changed the status between reading it and writing it; reload and decide again."""


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return str(choices(value).label).lower()
    except ValueError:
        return repr(value)


def describe(obj: Booking | BookingLine) -> str:
    if isinstance(obj, Booking):
        return f"booking {obj.reference}"
    return f"line {obj.pk} ({obj.description}) of booking {obj.booking.reference}"


def _table_for(obj: Booking | BookingLine) -> tuple[dict[str, frozenset[str]], type[models.TextChoices]]:
    if isinstance(obj, Booking):
        return BOOKING_TRANSITIONS, BookingStatus
    if isinstance(obj, BookingLine):
        return LINE_TRANSITIONS, LineStatus
    raise TypeError(f"No state machine for {type(obj).__name__}.")


def can_transition(obj: Booking | BookingLine, to: str) -> bool:
    table, _ = _table_for(obj)
    return to in table.get(obj.status, frozenset())


def check_transition(obj: Booking | BookingLine, to: str) -> None:
    """Raise :class:`IllegalTransition` unless ``obj`` may move to ``to``."""
    table, choices = _table_for(obj)
    if to not in choices.values:
        raise IllegalTransition(f"{_label(choices, to)} is not a status of a {type(obj).__name__.lower()}.")
    if to not in table.get(obj.status, frozenset()):
        raise IllegalTransition(
            f"Cannot move {describe(obj)} from {_label(choices, obj.status)} to {_label(choices, to)}."
        )


@transaction.atomic
def transition(
    obj: Booking | BookingLine,
    to: str,
    *,
    by=None,
    reason: str = "",
    fields: dict | None = None,
) -> StatusChange:
    """Move ``obj`` to status ``to``, recording who, when and why; ``fields`` are saved with the status.

    Raises :class:`IllegalTransition` for a move the table forbids and :class:`StaleStatus` when the row's
    status is no longer the one ``obj`` was read with.
    """
    check_transition(obj, to)
    from_status = obj.status
    now = timezone.now()
    values = {"status": to, "updated_at": now, **(fields or {})}
    updated = type(obj).objects.filter(pk=obj.pk, status=from_status).update(**values)
    if updated != 1:
        current = type(obj).objects.filter(pk=obj.pk).values_list("status", flat=True).first()
        raise StaleStatus(f"Cannot move {describe(obj)} to {to}: it changed from {from_status} to {current} meanwhile.")
    for name, value in values.items():
        setattr(obj, name, value)
    booking_id = obj.pk if isinstance(obj, Booking) else obj.booking_id
    line_id = None if isinstance(obj, Booking) else obj.pk
    return StatusChange.objects.create(
        booking_id=booking_id,
        line_id=line_id,
        from_status=from_status,
        to_status=to,
        by=by,
        reason=reason,
    )


def record_event(obj: Booking | BookingLine, *, by=None, reason: str) -> StatusChange:
    """Put something that changes no status on the audit trail (e.g. a failed card payment)."""
    booking_id = obj.pk if isinstance(obj, Booking) else obj.booking_id
    line_id = None if isinstance(obj, Booking) else obj.pk
    return StatusChange.objects.create(
        booking_id=booking_id, line_id=line_id, from_status=obj.status, to_status=obj.status, by=by, reason=reason
    )
