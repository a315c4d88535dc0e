"""Booking emails, each sent once: to the approver, to the booker, to every delegate (with a calendar file).

Every email has a key (``booking:42:confirmation:delegate:17``) written to portal's ``SentEmail`` ledger in
the same transaction as the send, the way ``portal.emails.send_email_once`` does it (a second run of the
task finds the key and sends nothing; a failed send rolls the key back so the retry sends it). Ours takes
attachments, which the course confirmations need (an .ics calendar entry).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vText

from portal.models import SchoolMembership, SchoolRole, SentEmail

from ..models import Booking, BookingLine, BookingStatus, ItemKind, LineStatus

Attachment = tuple[str, bytes, str]  # filename, content, MIME type


def render(template: str, context: dict) -> tuple[str, str]:
    """Subject and plain-text body from ``bookings/emails/<template>_subject.txt`` and ``_body.txt``."""
    context = {"SITE_NAME": settings.WAGTAIL_SITE_NAME, "SITE_URL": settings.SITE_URL.rstrip("/"), **context}
    subject = " ".join(render_to_string(f"bookings/emails/{template}_subject.txt", context).split())
    body = render_to_string(f"bookings/emails/{template}_body.txt", context).strip() + "\n"
    return subject, body


def send_once(*, key: str, to: str, subject: str, body: str, attachments: Iterable[Attachment] = ()) -> bool:
    """Send unless an email with ``key`` went before; True when this call sent it (see the module docstring)."""
    with transaction.atomic():
        _, created = SentEmail.objects.get_or_create(key=key, defaults={"recipient": to, "subject": subject[:255]})
        if not created:
            return False
        message = EmailMessage(subject=subject, body=body, to=[to])
        for attachment in attachments:
            message.attach(*attachment)
        message.send()
    return True


def booking_url(booking: Booking) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("bookings:detail", kwargs={"reference": booking.reference})


def _load(booking_id: int) -> Booking:
    return (
        Booking.objects.select_related("school", "booked_by", "approved_by")
        .prefetch_related("lines__delegate", "lines__council", "lines__course_date__venue")
        .get(pk=booking_id)
    )


def approvers_of(school_id: int) -> list:
    memberships = SchoolMembership.objects.filter(school_id=school_id, role=SchoolRole.APPROVER).select_related("user")
    return [m.user for m in memberships if m.user.is_active]


def send_approval_request(*, booking_id: int) -> int:
    """Ask the school's approvers to decide a booking; how many emails this call sent."""
    booking = _load(booking_id)
    if booking.status != BookingStatus.AWAITING_APPROVAL:
        return 0
    sent = 0
    for approver in approvers_of(booking.school_id):
        subject, body = render(
            "approval_request",
            {"booking": booking, "approver": approver, "lines": list(booking.lines.all()), "url": booking_url(booking)},
        )
        sent += send_once(
            key=f"booking:{booking.pk}:approval-request:{approver.pk}", to=approver.email, subject=subject, body=body
        )
    return sent


def send_approval_outcome(*, booking_id: int) -> int:
    """Tell the booker whether their booking was approved or declined."""
    booking = _load(booking_id)
    if booking.approved_at:
        outcome = "approved"
    elif booking.status == BookingStatus.CANCELLED and booking.declined_reason:
        outcome = "declined"
    else:
        return 0
    subject, body = render("approval_outcome", {"booking": booking, "outcome": outcome, "url": booking_url(booking)})
    return int(
        send_once(
            key=f"booking:{booking.pk}:approval-{outcome}", to=booking.booked_by.email, subject=subject, body=body
        )
    )


def send_hold_expired(*, booking_id: int) -> int:
    """Tell the booker that their booking was not decided in time and its places were released."""
    booking = _load(booking_id)
    if booking.status != BookingStatus.CANCELLED:
        return 0
    subject, body = render("hold_expired", {"booking": booking, "url": booking_url(booking)})
    return int(
        send_once(key=f"booking:{booking.pk}:hold-expired", to=booking.booked_by.email, subject=subject, body=body)
    )


def course_calendar(line: BookingLine) -> bytes:
    """An iCalendar file for one course place (UTC times; the place and how to join in the description)."""
    course_date = line.course_date
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.WAGTAIL_SITE_NAME}//Bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-line-{line.pk}@{settings.SITE_URL.split('://')[-1].split('/')[0].split(':')[0]}")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", course_date.starts_at)
    event.add("dtend", course_date.ends_at)
    event.add("summary", course_date.service.title)
    if course_date.venue_id:
        event.add("location", vText(", ".join(course_date.venue.address_lines)))
    description = f"Booking {line.booking.reference} with {line.council.name}."
    if course_date.online_details:
        description += f"\n{course_date.online_details}"
    event.add("description", description)
    calendar.add_component(event)
    return calendar.to_ical()


def send_booking_confirmation(*, booking_id: int) -> int:
    """Confirm a booking to the booker (everything) and to each delegate (their place, with a calendar file)."""
    booking = _load(booking_id)
    if booking.status != BookingStatus.CONFIRMED:
        return 0
    lines = [line for line in booking.lines.all() if line.status == LineStatus.BOOKED]
    places = [line for line in lines if line.kind == ItemKind.COURSE_PLACE]
    calendars = {line.pk: course_calendar(line) for line in places}
    sent = 0
    subject, body = render("confirmation_booker", {"booking": booking, "lines": lines, "url": booking_url(booking)})
    sent += send_once(
        key=f"booking:{booking.pk}:confirmation:booker",
        to=booking.booked_by.email,
        subject=subject,
        body=body,
        attachments=[(f"{booking.reference}-{line.pk}.ics", calendars[line.pk], "text/calendar") for line in places],
    )
    for line in places:
        delegate = getattr(line, "delegate", None)
        if not delegate or not delegate.email:
            continue
        subject, body = render("confirmation_delegate", {"booking": booking, "line": line, "delegate": delegate})
        sent += send_once(
            key=f"booking:{booking.pk}:confirmation:line:{line.pk}",
            to=delegate.email,
            subject=subject,
            body=body,
            attachments=[(f"{booking.reference}-{line.pk}.ics", calendars[line.pk], "text/calendar")],
        )
    return sent
