"""SLA subscriptions: made when a booking confirms them, renewed each year through the buy-back window.

The year of an SLA (financial or academic) and its buy-back window come from the service
(``SubscriptionServicePage.term_on_sale`` / ``buyback_window``). Once a day :func:`run_buyback`:

1. offers renewal to each school whose subscription ends just before a term now on sale (once per
   subscription, ``renewal_offered_at``): an automatic renewal is announced with the date it will happen and
   how to opt out; otherwise the school is invited to buy the next year;
2. renews automatically, on the last day of the window, the subscriptions whose service renews
   automatically (``auto_renew``) and whose school did not opt out: a confirmed booking for the next term,
   priced as any checkout, invoiced (or recharged where the school paid that way before);
3. marks subscriptions whose term has ended as expired.

A school holding an active subscription gets the subscriber price on matching courses
(``selectors.active_subscription_service_ids`` feeds the pricing Customer).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from catalogue.models import SubscriptionServicePage
from portal.access import is_school_approver, is_school_member
from portal.models import SchoolMembership, SchoolRole

from ..models import (
    Booking,
    ItemKind,
    LineStatus,
    PaymentRoute,
    Subscription,
    SubscriptionStatus,
)
from ..selectors import payment_routes_for
from ..states import record_event
from .emails import render, send_once

logger = logging.getLogger(__name__)

PURCHASE_ORDER_REFUSAL = (
    "Your school requires a purchase order number for every booking, so subscriptions cannot renew "
    "automatically: buy next year's subscription with a purchase order number instead."
)
PURCHASE_ORDER_HOLD_BACK = (
    "Not renewed automatically: the school requires a purchase order number for every booking and none was "
    "given for next year. Automatic renewal turned off; the approvers were asked to buy next year's "
    "subscription with a purchase order number."
)


# --- Made on confirmation -----------------------------------------------------------------------------


def _previous_term(*, school_id: int, service_id: int, term_start: date) -> Subscription | None:
    return (
        Subscription.objects.filter(
            school_id=school_id,
            service_id=service_id,
            term_end=term_start - timedelta(days=1),
            renewed_by__isnull=True,
        )
        .exclude(status=SubscriptionStatus.CANCELLED)
        .first()
    )


def create_subscriptions_for(*, booking: Booking) -> list[Subscription]:
    """One active subscription per booked SLA line of a confirmed booking; safe to call twice.

    Called by checkout's ``confirm_booking`` inside the confirming transaction. A line whose school already
    holds that SLA for the term (a renewal raced a purchase) makes no second subscription: it is put on the
    booking's audit trail for the council to credit, rather than failing a confirmation that was paid for.
    """
    made: list[Subscription] = []
    lines = booking.lines.filter(kind=ItemKind.SUBSCRIPTION, status=LineStatus.BOOKED).order_by("pk")
    for line in lines:
        if Subscription.objects.filter(booking_line=line).exists():
            continue
        service = SubscriptionServicePage.objects.get(pk=line.service_id)
        live = Subscription.objects.filter(
            school_id=booking.school_id, service=service, term_start=line.term_start
        ).exclude(status=SubscriptionStatus.CANCELLED)
        if live.exists():
            logger.warning("Booking %s line %s: the school already holds this SLA term", booking.reference, line.pk)
            record_event(line, reason="The school already holds this subscription for this term; no second one made.")
            continue
        subscription = Subscription(
            school_id=booking.school_id,
            service=service,
            term_start=line.term_start,
            term_end=line.term_end,
            status=SubscriptionStatus.ACTIVE,
            booking_line=line,
            auto_renew=service.auto_renew,
            renewal_of=_previous_term(school_id=booking.school_id, service_id=service.pk, term_start=line.term_start),
        )
        subscription.full_clean(exclude=["school", "service", "booking_line", "renewal_of"])
        subscription.save()
        made.append(subscription)
    return made


# --- The school's choice ------------------------------------------------------------------------------


@transaction.atomic
def set_auto_renew(*, subscription: Subscription, by, auto_renew: bool) -> Subscription:
    """The school's approver opts in or out of automatic renewal (while the subscription is live)."""
    subscription = Subscription.objects.select_for_update().select_related("service", "school").get(pk=subscription.pk)
    if not is_school_approver(by, subscription.school):
        raise PermissionDenied("Only the school's approver can change how its subscriptions renew.")
    if subscription.status != SubscriptionStatus.ACTIVE:
        raise ValidationError("Only an active subscription can be renewed.")
    if Subscription.objects.filter(renewal_of=subscription).exists():
        raise ValidationError("This subscription has already been renewed for next year.")
    if auto_renew and not subscription.service.auto_renew:
        raise ValidationError("This service does not renew automatically: buy next year's subscription instead.")
    if auto_renew and subscription.school.requires_purchase_order:
        raise ValidationError(PURCHASE_ORDER_REFUSAL)
    if subscription.auto_renew == auto_renew:
        return subscription
    subscription.auto_renew = auto_renew
    subscription.full_clean(exclude=["school", "service", "booking_line", "renewal_of"])
    subscription.save(update_fields=["auto_renew", "updated_at"])
    if subscription.booking_line_id:
        who = by.get_full_name() or by.email
        record_event(
            subscription.booking_line,
            by=by,
            reason=f"Automatic renewal turned {'on' if auto_renew else 'off'} by {who}.",
        )
    return subscription


# --- The yearly round ---------------------------------------------------------------------------------


def renewal_date(subscription: Subscription) -> date:
    """The day an automatic renewal happens: the last day of the next term's buy-back window."""
    next_start = subscription.term_end + timedelta(days=1)
    return subscription.service.buyback_window(next_start)[1]


def _renewed(subscription: Subscription) -> bool:
    next_start = subscription.term_end + timedelta(days=1)
    return (
        Subscription.objects.filter(
            school_id=subscription.school_id, service_id=subscription.service_id, term_start=next_start
        )
        .exclude(status=SubscriptionStatus.CANCELLED)
        .exists()
    )


def offer_renewals(*, today: date | None = None) -> int:
    """Open the buy-back window for subscribers: offer each current subscriber the next term (once)."""
    today = today or timezone.localdate()
    offered = 0
    for service in SubscriptionServicePage.objects.live().order_by("pk"):
        next_start = service.term_on_sale(today)
        if next_start is None:
            continue
        current = Subscription.objects.filter(
            service=service,
            status=SubscriptionStatus.ACTIVE,
            term_end=next_start - timedelta(days=1),
            renewal_offered_at__isnull=True,
        ).order_by("pk")
        for subscription in current:
            with transaction.atomic():
                updated = Subscription.objects.filter(pk=subscription.pk, renewal_offered_at__isnull=True).update(
                    renewal_offered_at=timezone.now(), updated_at=timezone.now()
                )
                if updated and not _renewed(subscription):
                    _enqueue("send_renewal_offer", subscription.pk)
                    offered += 1
    return offered


def _renewal_booker(subscription: Subscription):
    """Who the renewal booking is in the name of: the last booker if still at the school, else an approver."""
    line = subscription.booking_line
    if line is not None:
        booker = line.booking.booked_by
        if booker.is_active and is_school_member(booker, subscription.school, role=SchoolRole.BOOKER):
            return booker
    membership = (
        SchoolMembership.objects.filter(school=subscription.school, role=SchoolRole.APPROVER, user__is_active=True)
        .select_related("user")
        .order_by("created_at")
        .first()
    )
    return membership.user if membership else None


def _renewal_route(subscription: Subscription) -> str:
    """Pay as last year (recharge stays recharge) unless that was by card: nobody is there to pay now."""
    allowed = dict(payment_routes_for(school=subscription.school, council=subscription.service.council))
    previous = subscription.booking_line.payment_route if subscription.booking_line_id else ""
    if previous and previous != PaymentRoute.CARD and previous in allowed:
        return previous
    return PaymentRoute.INVOICE


@transaction.atomic
def renew(*, subscription: Subscription, today: date | None = None) -> Subscription | None:
    """Renew one subscription for the next term as a confirmed booking; None when it cannot be (logged)."""
    from .checkout import CheckoutUnavailable, LineSpec, confirm_booking, create_booking, set_payment_routes

    today = today or timezone.localdate()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("service", "service__council", "school", "booking_line__booking__booked_by")
        .get(pk=subscription.pk)
    )
    service = subscription.service
    if not (subscription.status == SubscriptionStatus.ACTIVE and subscription.auto_renew and service.auto_renew):
        return None
    if _renewed(subscription):
        return None
    if subscription.school.requires_purchase_order:
        _hold_back_for_purchase_order(subscription)
        return None
    booker = _renewal_booker(subscription)
    if booker is None:
        logger.warning("Subscription %s not renewed: the school has nobody to book in the name of", subscription.pk)
        return None
    next_start = subscription.term_end + timedelta(days=1)
    try:
        booking = create_booking(
            school=subscription.school,
            booked_by=booker,
            specs=[LineSpec(kind=ItemKind.SUBSCRIPTION, service=service, term_start=next_start)],
            hold_until=timezone.now() + timedelta(hours=1),
            reason="Renewed automatically: the school did not opt out during buy-back.",
            today=today,
        )
    except CheckoutUnavailable as exc:
        logger.warning("Subscription %s not renewed: %s", subscription.pk, exc)
        return None
    # The route also decides the VAT (a recharge carries none): checkout's one function for it.
    set_payment_routes(lines=list(booking.lines.all()), routes={service.council_id: _renewal_route(subscription)})
    confirm_booking(booking=booking, reason=f"Renewed automatically for the year from {next_start:%-d %B %Y}.")
    renewal = Subscription.objects.filter(booking_line__booking=booking).first()
    if renewal is not None:
        _enqueue("send_subscription_renewed", renewal.pk)
    return renewal


def _hold_back_for_purchase_order(subscription: Subscription) -> None:
    """A school that requires a PO number is never renewed without one: nobody has given a PO for next year,
    and an invoice without it would be refused. Automatic renewal stops (so the school's page says so and
    the daily round does not try again), the audit trail says why, and the approvers are asked to buy."""
    subscription.auto_renew = False
    subscription.full_clean(exclude=["school", "service", "booking_line", "renewal_of"])
    subscription.save(update_fields=["auto_renew", "updated_at"])
    if subscription.booking_line_id:
        record_event(subscription.booking_line, reason=PURCHASE_ORDER_HOLD_BACK)
    logger.info("Subscription %s not renewed: the school requires a purchase order number", subscription.pk)
    _enqueue("send_renewal_needs_purchase_order", subscription.pk)


def renew_due(*, today: date | None = None) -> int:
    """Renew every automatically renewing subscription whose renewal day has come; how many were renewed."""
    today = today or timezone.localdate()
    candidates = (
        Subscription.objects.filter(
            status=SubscriptionStatus.ACTIVE,
            auto_renew=True,
            service__auto_renew=True,
            renewal_offered_at__isnull=False,
            term_end__gte=today - timedelta(days=1),
        )
        .select_related("service")
        .order_by("pk")
    )
    renewed = 0
    for subscription in candidates:
        if renewal_date(subscription) > today:
            continue
        try:
            renewed += renew(subscription=subscription, today=today) is not None
        except Exception:
            logger.exception("Could not renew subscription %s", subscription.pk)
    return renewed


def expire_ended(*, today: date | None = None) -> int:
    today = today or timezone.localdate()
    return Subscription.objects.filter(status=SubscriptionStatus.ACTIVE, term_end__lt=today).update(
        status=SubscriptionStatus.EXPIRED, updated_at=timezone.now()
    )


def run_buyback(*, today: date | None = None) -> dict[str, int]:
    """The daily round (see the module docstring); counts for the log."""
    today = today or timezone.localdate()
    return {
        "offered": offer_renewals(today=today),
        "renewed": renew_due(today=today),
        "expired": expire_ended(today=today),
    }


# --- Emails -------------------------------------------------------------------------------------------


def _enqueue(task_name: str, *args) -> None:
    from .. import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(*args))


def _approvers(subscription: Subscription) -> list:
    memberships = SchoolMembership.objects.filter(
        school=subscription.school, role=SchoolRole.APPROVER, user__is_active=True
    ).select_related("user")
    return [membership.user for membership in memberships]


def _subscription_for_email(subscription_id: int) -> Subscription | None:
    return (
        Subscription.objects.select_related("service", "service__council", "school", "booking_line__booking")
        .filter(pk=subscription_id)
        .first()
    )


def notify_renewal_offer(*, subscription_id: int) -> int:
    """Tell the school's approvers that next year's subscription is on sale (or will renew on a given day)."""
    subscription = _subscription_for_email(subscription_id)
    if subscription is None or subscription.renewal_offered_at is None:
        return 0
    next_start = subscription.term_end + timedelta(days=1)
    needs_po = subscription.school.requires_purchase_order
    automatic = subscription.auto_renew and subscription.service.auto_renew and not needs_po
    context = {
        "subscription": subscription,
        "next_start": next_start,
        "next_end": subscription.service.term_end(next_start),
        "automatic": automatic,
        "needs_purchase_order": needs_po and subscription.service.auto_renew,
        "renewal_date": renewal_date(subscription),
    }
    return _email_approvers(subscription, "renewal_offer", context, key="renewal-offer")


def notify_renewed(*, subscription_id: int) -> int:
    subscription = _subscription_for_email(subscription_id)
    if subscription is None or subscription.renewal_of_id is None:
        return 0
    return _email_approvers(subscription, "subscription_renewed", {"subscription": subscription}, key="renewed")


def notify_renewal_needs_purchase_order(*, subscription_id: int) -> int:
    """Tell the approvers that the subscription did not renew automatically because a PO number is needed."""
    subscription = _subscription_for_email(subscription_id)
    if subscription is None or subscription.auto_renew or _renewed(subscription):
        return 0
    next_start = subscription.term_end + timedelta(days=1)
    context = {
        "subscription": subscription,
        "next_start": next_start,
        "next_end": subscription.service.term_end(next_start),
        "on_sale_until": subscription.service.buyback_window(next_start)[1],
    }
    return _email_approvers(subscription, "renewal_needs_po", context, key="renewal-needs-po")


def _email_approvers(subscription: Subscription, template: str, context: dict, *, key: str) -> int:
    """Send one email to each of the school's approvers, once each (keyed by subscription, ``key`` and approver)."""
    sent = 0
    for approver in _approvers(subscription):
        subject, body = render(template, {**context, "approver": approver})
        sent += send_once(
            key=f"subscription:{subscription.pk}:{key}:{approver.pk}", to=approver.email, subject=subject, body=body
        )
    return sent
