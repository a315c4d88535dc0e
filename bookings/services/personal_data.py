"""Delegates' personal data: erasing access and dietary needs after the course, and a user's own data export.

Access and dietary needs can reveal health or religion (special category data), so they are kept only as
long as the course needs them: ``BOOKINGS_NEEDS_RETENTION_DAYS`` (30) after the course ends, or after the
place is cancelled, a daily task blanks them (the name, email and attendance stay: they support the invoice
and the training record). What the privacy notice (/privacy/) promises is exactly this.

The export gives a signed-in user everything the portal holds about them, as JSON: their account, roles,
requests, baskets, the bookings they made, the places booked for them and their waiting-list entries.
Other people's needs are never in it, even where the user typed them in for a colleague.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal.models import CouncilMembership, JoinRequest, SchoolMembership, SentEmail

from ..models import Basket, BasketItem, Booking, BookingLine, Delegate, LineStatus, StatusChange, WaitingListEntry

DEFAULT_RETENTION_DAYS = 30


def needs_retention_days() -> int:
    return int(getattr(settings, "BOOKINGS_NEEDS_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def erase_expired_needs(*, now: datetime | None = None) -> int:
    """Blank the access and dietary needs of delegates whose course ended, or whose place was cancelled or
    handed to a substitute, more than the retention period ago; how many delegates were erased.

    One UPDATE per table, idempotent (already erased rows are left alone), so it needs no transaction.
    Basket items for dates long past lose their needs too: nobody will book them now.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=needs_retention_days())
    gone = Q(line__status=LineStatus.CANCELLED, line__cancelled_at__lte=cutoff) | Q(
        line__status=LineStatus.SUBSTITUTED, line__updated_at__lte=cutoff
    )
    due = Delegate.objects.filter(needs_erased_at__isnull=True).filter(Q(line__course_date__ends_at__lte=cutoff) | gone)
    erased = due.update(access_needs="", dietary_needs="", needs_erased_at=now)
    BasketItem.objects.filter(course_date__ends_at__lte=cutoff).exclude(
        delegate_access_needs="", delegate_dietary_needs=""
    ).update(delegate_access_needs="", delegate_dietary_needs="")
    return erased


# --- A user's own data --------------------------------------------------------------------------------


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _line(line: BookingLine) -> dict:
    delegate = getattr(line, "delegate", None)
    return {
        "description": line.description,
        "council": line.council.name,
        "status": line.get_status_display(),
        "course_starts_at": _when(line.course_date.starts_at) if line.course_date_id else None,
        "quantity": str(line.quantity),
        "net": _money(line.net),
        "vat": _money(line.vat),
        "gross": _money(line.gross),
        "payment_route": line.get_payment_route_display() if line.payment_route else None,
        "cancellation_charge": _money(line.cancellation_charge),
        "delegate_name": delegate.name if delegate else None,
        "delegate_email": delegate.email if delegate else None,
    }


def export_user_data(*, user) -> dict:
    """Everything held about ``user``, as plain JSON-ready values."""
    email = user.email.lower()
    bookings = (
        Booking.objects.filter(booked_by=user)
        .select_related("school")
        .prefetch_related("lines__council", "lines__course_date", "lines__delegate")
        .order_by("created_at", "pk")
    )
    delegate_places = (
        Delegate.objects.filter(email__iexact=email)
        .select_related("line__booking__school", "line__course_date", "line__council")
        .order_by("line__created_at", "pk")
    )
    baskets = Basket.objects.filter(owner=user).select_related("school").prefetch_related("items")
    return {
        "generated_at": _when(timezone.now()),
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "job_title": user.job_title,
            "joined": _when(user.date_joined),
            "last_signed_in": _when(user.last_login),
        },
        "school_memberships": [
            {"school": m.school.name, "urn": m.school.urn, "role": m.get_role_display(), "since": _when(m.created_at)}
            for m in SchoolMembership.objects.filter(user=user).select_related("school")
        ],
        "council_memberships": [
            {"council": m.council.name, "role": m.get_role_display(), "since": _when(m.created_at)}
            for m in CouncilMembership.objects.filter(user=user).select_related("council")
        ],
        "join_requests": [
            {
                "school": r.school.name,
                "status": r.get_status_display(),
                "message": r.message,
                "made": _when(r.created_at),
                "decided": _when(r.decided_at),
            }
            for r in JoinRequest.objects.filter(user=user).select_related("school")
        ],
        "baskets": [
            {
                "school": basket.school.name,
                "items": [
                    {
                        "kind": item.get_kind_display(),
                        "service_id": item.service_id,
                        "quantity": str(item.quantity),
                        "quoted_net": _money(item.quoted_net),
                        "delegate_name": item.delegate_name,
                        "delegate_email": item.delegate_email,
                        # Needs typed in for a colleague are the colleague's data, not the user's.
                        **(
                            {
                                "access_needs": item.delegate_access_needs,
                                "dietary_needs": item.delegate_dietary_needs,
                            }
                            if item.delegate_email.lower() == email
                            else {}
                        ),
                    }
                    for item in basket.items.all()
                ],
            }
            for basket in baskets
        ],
        "bookings_made": [
            {
                "reference": booking.reference,
                "school": booking.school.name,
                "status": booking.get_status_display(),
                "made": _when(booking.created_at),
                "purchase_order_number": booking.po_number,
                "lines": [_line(line) for line in booking.lines.all()],
            }
            for booking in bookings
        ],
        "places_booked_for_you": [
            {
                "booking_reference": delegate.line.booking.reference,
                "school": delegate.line.booking.school.name,
                "course": delegate.line.description,
                "council": delegate.line.council.name,
                "starts_at": _when(delegate.line.course_date.starts_at) if delegate.line.course_date_id else None,
                "status": delegate.line.get_status_display(),
                "name": delegate.name,
                "role": delegate.role,
                "access_needs": delegate.access_needs,
                "dietary_needs": delegate.dietary_needs,
                "needs_erased_at": _when(delegate.needs_erased_at),
            }
            for delegate in delegate_places
        ],
        "waiting_lists": [
            {
                "course": entry.course_date.service.title,
                "starts_at": _when(entry.course_date.starts_at),
                "school": entry.school.name,
                "status": entry.get_status_display(),
                "delegate_name": entry.delegate_name,
                "delegate_email": entry.delegate_email,
                "joined": _when(entry.created_at),
            }
            for entry in WaitingListEntry.objects.filter(Q(requested_by=user) | Q(delegate_email__iexact=email))
            .select_related("course_date__service", "school")
            .order_by("created_at", "pk")
        ],
        "booking_decisions_and_changes_by_you": [
            {
                "booking_reference": change.booking.reference,
                "from": change.from_status,
                "to": change.to_status,
                "at": _when(change.at),
                "reason": change.reason,
            }
            for change in StatusChange.objects.filter(by=user).select_related("booking").order_by("at", "pk")
        ],
        "emails_sent_to_you": [
            {"subject": sent.subject, "sent_at": _when(sent.sent_at)}
            for sent in SentEmail.objects.filter(recipient__iexact=email).order_by("sent_at", "pk")
        ],
    }
