"""Celery tasks of the bookings app. Each takes ids, loads fresh state, calls a service and is safe to run twice.

Email tasks send through ``bookings.services.emails.send_once`` (a keyed ledger), so a retry or a duplicate
delivery sends nothing twice; SMTP and network failures retry with jittered exponential backoff.
Periodic tasks are scheduled by name in ``portal/celery.py``.
"""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

logger = logging.getLogger(__name__)

EMAIL_RETRY = {
    "autoretry_for": (SMTPException, OSError, OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


# --- bookings-core ------------------------------------------------------------------------------------


@shared_task(name="bookings.tasks.release_expired_holds")
def release_expired_holds() -> int:
    """Cancel open bookings whose hold ran out and give their places back (every minute)."""
    from .services.holds import release_expired_holds as release

    released = release()
    if released:
        logger.info("Released the expired holds of %s booking(s)", released)
    return released


@shared_task(name="bookings.tasks.send_approval_request", **EMAIL_RETRY)
def send_approval_request(booking_id: int) -> int:
    """Ask the school's approvers to decide a booking."""
    from .services.emails import send_approval_request as send

    return send(booking_id=booking_id)


@shared_task(name="bookings.tasks.send_approval_outcome", **EMAIL_RETRY)
def send_approval_outcome(booking_id: int) -> int:
    """Tell the booker that the approver approved or declined their booking."""
    from .services.emails import send_approval_outcome as send

    return send(booking_id=booking_id)


@shared_task(name="bookings.tasks.send_hold_expired", **EMAIL_RETRY)
def send_hold_expired(booking_id: int) -> int:
    """Tell the booker that a booking waiting for approval ran out of time and its places were released."""
    from .services.emails import send_hold_expired as send

    return send(booking_id=booking_id)


@shared_task(name="bookings.tasks.send_booking_confirmation", **EMAIL_RETRY)
def send_booking_confirmation(booking_id: int) -> int:
    """Confirm a booking to the booker and to each delegate (with calendar files)."""
    from .services.emails import send_booking_confirmation as send

    return send(booking_id=booking_id)


# --- bookings-flows: waiting lists, cancellations, subscriptions, personal data -----------------------


@shared_task(name="bookings.tasks.offer_waiting_list_places")
def offer_waiting_list_places(course_date_id: int) -> int:
    """Offer the free places of a course date to the first entries of its waiting list."""
    from .services.waiting_list import offer_places

    return len(offer_places(course_date_id=course_date_id))


@shared_task(name="bookings.tasks.expire_waiting_list_offers")
def expire_waiting_list_offers() -> dict:
    """Lapse unanswered offers (their places pass on) and offer any free places still waiting (periodic)."""
    from .services.waiting_list import expire_offers, offer_free_places_everywhere

    return {"expired": expire_offers(), "offered": offer_free_places_everywhere()}


@shared_task(name="bookings.tasks.send_waiting_list_offer", **EMAIL_RETRY)
def send_waiting_list_offer(entry_id: int) -> int:
    from .services.waiting_list import notify_offer

    return notify_offer(entry_id=entry_id)


@shared_task(name="bookings.tasks.send_waiting_list_offer_expired", **EMAIL_RETRY)
def send_waiting_list_offer_expired(entry_id: int) -> int:
    from .services.waiting_list import notify_offer_expired

    return notify_offer_expired(entry_id=entry_id)


@shared_task(name="bookings.tasks.send_waiting_list_closed", **EMAIL_RETRY)
def send_waiting_list_closed(entry_id: int) -> int:
    from .services.waiting_list import notify_list_closed

    return notify_list_closed(entry_id=entry_id)


@shared_task(name="bookings.tasks.send_line_cancelled", **EMAIL_RETRY)
def send_line_cancelled(line_id: int) -> int:
    from .services.cancellations import notify_line_cancelled

    return notify_line_cancelled(line_id=line_id)


@shared_task(name="bookings.tasks.send_charge_waived", **EMAIL_RETRY)
def send_charge_waived(line_id: int) -> int:
    from .services.cancellations import notify_charge_waived

    return notify_charge_waived(line_id=line_id)


@shared_task(name="bookings.tasks.send_course_date_cancelled", **EMAIL_RETRY)
def send_course_date_cancelled(course_date_id: int, booking_id: int) -> int:
    """Tell a school and its delegates that the council cancelled a course date they were booked on."""
    from .services.cancellations import notify_course_date_cancelled

    return notify_course_date_cancelled(course_date_id=course_date_id, booking_id=booking_id)


@shared_task(name="bookings.tasks.send_substitution", **EMAIL_RETRY)
def send_substitution(line_id: int) -> int:
    """Confirm a substituted place to the new delegate (with a calendar entry) and tell the booker."""
    from .services.substitutions import notify_substitution

    return notify_substitution(line_id=line_id)


@shared_task(name="bookings.tasks.run_subscription_buyback")
def run_subscription_buyback() -> dict:
    """Offer renewals as buy-back windows open, renew automatically where due, expire ended terms (daily)."""
    from .services.subscriptions import run_buyback

    counts = run_buyback()
    logger.info("Subscription buy-back round: %s", counts)
    return counts


@shared_task(name="bookings.tasks.send_renewal_offer", **EMAIL_RETRY)
def send_renewal_offer(subscription_id: int) -> int:
    from .services.subscriptions import notify_renewal_offer

    return notify_renewal_offer(subscription_id=subscription_id)


@shared_task(name="bookings.tasks.send_subscription_renewed", **EMAIL_RETRY)
def send_subscription_renewed(subscription_id: int) -> int:
    from .services.subscriptions import notify_renewed

    return notify_renewed(subscription_id=subscription_id)


@shared_task(name="bookings.tasks.send_renewal_needs_purchase_order", **EMAIL_RETRY)
def send_renewal_needs_purchase_order(subscription_id: int) -> int:
    """Tell the approvers a subscription was not renewed automatically: the school requires a PO number."""
    from .services.subscriptions import notify_renewal_needs_purchase_order

    return notify_renewal_needs_purchase_order(subscription_id=subscription_id)


@shared_task(name="bookings.tasks.erase_delegate_needs")
def erase_delegate_needs() -> int:
    """Blank delegates' access and dietary needs once the retention period after the course has passed (daily)."""
    from .services.personal_data import erase_expired_needs

    erased = erase_expired_needs()
    if erased:
        logger.info("Erased the access and dietary needs of %s delegate(s)", erased)
    return erased
