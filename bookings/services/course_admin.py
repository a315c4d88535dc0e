"""A council's course administration: who may see a course date's bookings, and marking attendance.

Reach comes from ``CouncilMembership`` rows only (``portal.access``): a council's catalogue editors and course
administrators see the bookings, registers and waiting lists of their own council's course dates and mark
attendance; only course administrators see delegates' access and dietary needs (DESIGN.md, issue item 10:
"shown only to the school and the providing council's course admins"), and only they waive cancellation
charges. A partnership administrator reaches every council's bookings but, holding no course-admin role,
not the needs: nobody sees that data by being powerful, only by running the course.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalogue.models import CourseDate
from portal.access import councils_for, is_partnership_admin
from portal.models import CouncilMembership, CouncilRole

from ..models import BookingLine, BookingStatus, ItemKind, LineStatus
from ..states import transition

# Roles that see a council's course bookings and mark attendance.
COURSE_STAFF_ROLES = (CouncilRole.EDITOR, CouncilRole.COURSE_ADMIN)
# Attendance outcomes a register can record, in the words the admin form shows.
ATTENDANCE_CHOICES = ((LineStatus.ATTENDED.value, "Attended"), (LineStatus.NO_SHOW.value, "Did not attend"))
# Line statuses that still owe an attendance mark, or carry one that can be corrected.
MARKABLE_STATUSES = (LineStatus.BOOKED, LineStatus.ATTENDED, LineStatus.NO_SHOW)
FINAL_LINE_STATUSES = (LineStatus.ATTENDED, LineStatus.NO_SHOW, LineStatus.CANCELLED, LineStatus.SUBSTITUTED)


def course_staff_council_ids(user) -> frozenset[int] | None:
    """Councils whose course bookings the user sees; None means every council (partnership administrators)."""
    if is_partnership_admin(user):
        return None
    return frozenset(councils_for(user, role=COURSE_STAFF_ROLES).values_list("pk", flat=True))


def is_course_staff(user, *, council_id: int) -> bool:
    reach = course_staff_council_ids(user)
    return reach is None or council_id in reach


def sees_needs(user, *, council_id: int) -> bool:
    """Access and dietary needs: the providing council's course administrators only (no admin override)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return CouncilMembership.objects.filter(user=user, council_id=council_id, role=CouncilRole.COURSE_ADMIN).exists()


def may_waive_charges(user, *, council_id: int) -> bool:
    return is_partnership_admin(user) or sees_needs(user, council_id=council_id)


def require_course_staff(user, *, council_id: int) -> None:
    if not is_course_staff(user, council_id=council_id):
        raise PermissionDenied("You do not administer this council's courses.")


def _who(line: BookingLine) -> str:
    delegate = getattr(line, "delegate", None)
    return delegate.name if delegate else f"line {line.pk}"


def _attendance_refusal(line: BookingLine, course_date: CourseDate, now) -> str | None:
    who = _who(line)
    if line.course_date_id != course_date.pk or line.kind != ItemKind.COURSE_PLACE:
        return f"{who} is not booked on this course date."
    if line.status not in MARKABLE_STATUSES:
        return f"{who}'s place is {line.get_status_display().lower()}, so attendance cannot be recorded."
    if course_date.starts_at > now:
        return "Attendance can be recorded once the course has started."
    return None


@transaction.atomic
def record_attendance(*, course_date: CourseDate, marks: dict[int, str], by) -> int:
    """Mark each line (id → ``attended`` or ``no_show``) on the date; how many changed. All or nothing.

    A mark equal to the line's current status is left alone (no audit row), so posting the same register
    twice changes nothing. A booking whose lines are all settled (attended, no-show, cancelled, substituted)
    is completed.
    """
    require_course_staff(by, council_id=course_date.council_id)
    now = timezone.now()
    allowed = {value for value, _ in ATTENDANCE_CHOICES}
    lines = {
        line.pk: line
        for line in BookingLine.objects.select_for_update(of=("self",))
        .filter(pk__in=list(marks))
        .select_related("booking", "delegate")
        .order_by("pk")
    }
    errors = []
    for line_id, mark in marks.items():
        line = lines.get(line_id)
        if line is None:
            errors.append(f"Line {line_id} is not on this register.")
        elif mark not in allowed:
            errors.append(f"Choose attended or did not attend for {_who(line)}.")
        elif refusal := _attendance_refusal(line, course_date, now):
            errors.append(refusal)
    if errors:
        raise ValidationError(errors)
    changed = 0
    for line_id in sorted(marks):
        line, mark = lines[line_id], marks[line_id]
        if line.status == mark:
            continue
        transition(line, mark, by=by, reason="Attendance recorded on the register.")
        changed += 1
    for booking in {line.booking_id: line.booking for line in lines.values()}.values():
        _complete_if_settled(booking, by=by)
    return changed


def _complete_if_settled(booking, *, by) -> None:
    if booking.status != BookingStatus.CONFIRMED:
        return
    if booking.lines.exclude(status__in=FINAL_LINE_STATUSES).exists():
        return
    transition(booking, BookingStatus.COMPLETED, by=by, reason="Every place on the booking is settled.")
