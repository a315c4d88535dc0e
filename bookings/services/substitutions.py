"""Substitutions: a school sends someone else on a course place it has booked, until the course starts.

The place itself does not move: the old line becomes ``substituted`` and a new ``booked`` line for the same
place takes over (``substitute_of`` points back), on the same booking, with the same price snapshot, payment
route and ledger codes. ``places_taken`` is not touched (a substituted line takes no place, the new one takes
the one it left), and billing does not bill the substitute (its place was billed on the line it replaced).
Both lines carry the change on the audit trail; the new delegate gets a confirmation with a calendar entry,
like any confirmation, the previous delegate is told the place has gone, and the booker is told.

Who: the school's approver, or the person who made the booking while still at the school (the same people
who may cancel it on the school's side). Council staff cannot: the school decides who it sends.

Locks, in the order every bookings path takes them: the course date, then the booking, then the line.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from portal.access import is_partnership_admin, is_school_approver, is_school_member, school_memberships_for
from portal.models import SchoolRole

from ..models import HOLDING_STATUSES, BookingLine, BookingStatus, Delegate, ItemKind, LineStatus, StatusChange
from ..states import transition
from .basket import describe_course_place
from .checkout import DelegateDetails
from .emails import booking_url, course_calendar, render, send_once
from .holds import lock_line_in_order, set_lock_timeout

# Columns of the old line that the new one does not copy: its identity, its own state and history.
NOT_COPIED = frozenset(
    {
        "id",
        "status",
        "description",
        "substitute_of",
        "refilled_by",
        "source_item",
        "hold_expires_at",
        "booked_at",
        "cancelled_at",
        "cancellation_charge",
        "charge_waived_by",
        "charge_waived_at",
        "charge_waived_reason",
        "created_at",
        "updated_at",
    }
)


def _cleaned(new: DelegateDetails) -> DelegateDetails:
    """The new delegate's details as the school typed them, with stray spaces and email case tidied."""
    return DelegateDetails(
        name=" ".join(new.name.split()),
        email=new.email.strip().lower(),
        role=" ".join(new.role.split()),
        access_needs=new.access_needs.strip(),
        dietary_needs=new.dietary_needs.strip(),
    )


def may_substitute(user, line: BookingLine) -> bool:
    """The school's approver, or whoever booked it while they are still a member of the school."""
    school = line.booking.school
    if is_school_approver(user, school):
        return True
    return line.booking.booked_by_id == getattr(user, "pk", None) and is_school_member(user, school)


def lines_user_may_substitute(user, lines: Iterable[BookingLine], at: datetime | None = None) -> set[int]:
    """Ids of the lines the user may hand on now (``may_substitute`` and no refusal), for pages that list
    places: two queries however many lines, which need their booking and course date loaded."""
    at = at or timezone.now()
    lines = list(lines)
    if not lines or not getattr(user, "is_authenticated", False):
        return set()
    admin = is_partnership_admin(user)
    member_of = set(school_memberships_for(user).values_list("school_id", flat=True))
    approver_of = set(school_memberships_for(user, role=SchoolRole.APPROVER).values_list("school_id", flat=True))
    return {
        line.pk
        for line in lines
        if (
            admin
            or line.booking.school_id in approver_of
            or (line.booking.booked_by_id == user.pk and line.booking.school_id in member_of)
        )
        and substitution_refusal(line, at) is None
    }


def substitution_refusal(line: BookingLine, at: datetime | None = None) -> str | None:
    """Why this place cannot be given to someone else now, in words for the school; None when it can."""
    at = at or timezone.now()
    if line.kind != ItemKind.COURSE_PLACE:
        return "Only a course place can be given to someone else."
    if line.status == LineStatus.HELD or line.booking.status in HOLDING_STATUSES:
        return "This booking is not confirmed yet, so its places cannot be given to someone else."
    if line.status != LineStatus.BOOKED:
        return f"This place cannot be given to someone else: it is {line.get_status_display().lower()}."
    if line.booking.status != BookingStatus.CONFIRMED:
        return f"This booking is {line.booking.get_status_display().lower()}, so its places cannot change."
    if line.course_date.is_cancelled:
        return "The council has cancelled this course date."
    if line.course_date.starts_at <= at:
        return "The course has started, so the place can no longer be given to someone else."
    return None


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _same_person(new: DelegateDetails, current: Delegate) -> bool:
    """The same name, and either no new email (nothing says it is someone else) or the same one: a school
    that types "sam patel" without an email means the Sam Patel who already has the place."""
    if not _same_name(new.name, current.name):
        return False
    return not new.email or new.email.casefold() == current.email.strip().casefold()


def _check_new_delegate(new: DelegateDetails, current: Delegate | None) -> None:
    errors: dict[str, str] = {}
    if not new.name:
        errors["name"] = "Enter the full name of the person who will attend instead."
    if new.email:
        try:
            validate_email(new.email)
        except ValidationError:
            errors["email"] = "Enter an email address in the correct format, like name@example.org."
    if not errors and current is not None and _same_person(new, current):
        errors["name"] = f"{current.name} already has this place. Enter the person who will attend instead."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def substitute_delegate(*, line: BookingLine, new: DelegateDetails, by, reason: str = "") -> BookingLine:
    """Give a booked course place to someone else; the new line (booked, on the same booking and place).

    Raises ``PermissionDenied`` for someone who may not, and ``ValidationError`` (with field errors for the
    new delegate) when the place cannot be given or the details are incomplete; nothing is written then.
    """
    set_lock_timeout()
    line = lock_line_in_order(
        line, "booking", "booking__school", "course_date", "course_date__service", "course_date__venue"
    )
    if not may_substitute(by, line):
        raise PermissionDenied("Only the school's approver or the person who booked can send someone else.")
    now = timezone.now()
    refusal = substitution_refusal(line, now)
    if refusal:
        raise ValidationError(refusal, code="not_substitutable")
    current = Delegate.objects.filter(line=line).first()
    new = _cleaned(new)
    _check_new_delegate(new, current)

    values = {
        field.attname: getattr(line, field.attname)
        for field in BookingLine._meta.concrete_fields
        if field.name not in NOT_COPIED
    }
    substitute = BookingLine(
        **values,
        status=LineStatus.BOOKED,
        description=describe_course_place(course_date=line.course_date, delegate_name=new.name)[:300],
        substitute_of=line,
        booked_at=now,
    )
    substitute.full_clean(exclude=["booking", "service", "course_date", "council", "substitute_of"])
    delegate = Delegate(
        name=new.name, email=new.email, role=new.role, access_needs=new.access_needs, dietary_needs=new.dietary_needs
    )
    delegate.full_clean(exclude=["line"])

    old_name = current.name if current else "the delegate"
    who = by.get_full_name() or by.email
    note = f" {reason.strip()}" if reason.strip() else ""
    transition(
        line, LineStatus.SUBSTITUTED, by=by, reason=f"Place given to {new.name} instead of {old_name} by {who}.{note}"
    )
    substitute.save()
    delegate.line = substitute
    delegate.save()
    StatusChange.objects.create(
        booking_id=substitute.booking_id,
        line=substitute,
        from_status="",
        to_status=LineStatus.BOOKED,
        by=by,
        reason=f"{new.name} takes the place of {old_name} (substitution by {who}).",
    )
    transaction.on_commit(lambda: _tasks().send_substitution.delay(substitute.pk))
    return substitute


def _tasks():
    from .. import tasks

    return tasks


# --- Emails -------------------------------------------------------------------------------------------


def notify_substitution(*, line_id: int) -> int:
    """Confirm the place to the new delegate (with a calendar entry), tell the previous delegate that the place
    has gone to someone else, and tell the booker who goes instead."""
    line = (
        BookingLine.objects.select_related(
            "booking",
            "booking__school",
            "booking__booked_by",
            "council",
            "course_date",
            "course_date__service",
            "course_date__venue",
            "delegate",
            "substitute_of__delegate",
        )
        .filter(pk=line_id, substitute_of__isnull=False)
        .first()
    )
    if line is None or line.status != LineStatus.BOOKED:
        return 0
    booking, delegate = line.booking, getattr(line, "delegate", None)
    previous = getattr(line.substitute_of, "delegate", None)
    calendar = (f"{booking.reference}-{line.pk}.ics", course_calendar(line), "text/calendar")
    sent = 0
    if delegate and delegate.email:
        subject, body = render("confirmation_delegate", {"booking": booking, "line": line, "delegate": delegate})
        sent += send_once(
            key=f"line:{line.pk}:substitution:delegate",
            to=delegate.email,
            subject=subject,
            body=body,
            attachments=[calendar],
        )
    if previous and previous.email:
        # The person who had the place is told it has gone, so they do not turn up; keyed on the old line,
        # which is handed on once only.
        subject, body = render("substitution_previous", {"booking": booking, "line": line, "previous": previous})
        sent += send_once(
            key=f"line:{line.substitute_of_id}:substitution:previous", to=previous.email, subject=subject, body=body
        )
    subject, body = render(
        "substitution_booker",
        {"booking": booking, "line": line, "delegate": delegate, "previous": previous, "url": booking_url(booking)},
    )
    sent += send_once(
        key=f"line:{line.pk}:substitution:booker",
        to=booking.booked_by.email,
        subject=subject,
        body=body,
        attachments=[calendar],
    )
    return sent
