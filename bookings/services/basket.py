"""Filling a school user's basket: course places with named delegates, SLA terms and one-off services.

Each ``add_*`` checks what a school would be told at the counter (the date is full, the delegate is
already booked, the term is not on sale, no price applies to this school) and raises ``ValidationError``
keyed by form field, so the page can show the message next to the right field. The price is quoted when the
item is added and stored on it; checkout quotes again and shows any difference.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import dateformat, timezone

from catalogue.models import CourseDate, CourseDateStatus, OneOffServicePage, ServicePage, SubscriptionServicePage
from catalogue.pricing import NoPriceError, format_money
from portal.models import School

from ..models import (
    PLACE_TAKING_STATUSES,
    Basket,
    BasketItem,
    BookingLine,
    ItemKind,
    Subscription,
    SubscriptionStatus,
)
from .quotes import quote_for

FULL = "full"  # ValidationError code: the view offers the waiting list
MAX_ONE_OFF_QUANTITY = Decimal("365")


def get_basket(*, school: School, owner) -> Basket:
    """The user's basket for the school, made on first use (one per user and school, kept across logins)."""
    from portal.access import require_school_member

    require_school_member(owner, school)
    basket, _ = Basket.objects.get_or_create(school=school, owner=owner)
    return basket


def _when(course_date: CourseDate) -> str:
    return dateformat.format(timezone.localtime(course_date.starts_at), "j M Y")


def describe_course_place(*, course_date: CourseDate, delegate_name: str) -> str:
    where = course_date.venue.town if course_date.venue_id else "online"
    text = f"{course_date.service.title} — {_when(course_date)}, {where}"
    return f"{text} ({delegate_name})" if delegate_name else text


def describe_subscription(*, service: SubscriptionServicePage, term_start: date) -> str:
    end = service.term_end(term_start)
    return f"{service.title}, {term_start:%-d %b %Y} to {end:%-d %b %Y}"


def describe_one_off(*, service: OneOffServicePage, quantity: Decimal) -> str:
    amount = f"{quantity.normalize():f}"
    return f"{service.title} — {amount} {service.unit_label(quantity)}"


def _priced_item(
    *, basket: Basket, service: ServicePage, quantity: Decimal, course_date=None, description: str, **fields
):
    try:
        priced = quote_for(
            school=basket.school, service=service, quantity=quantity, course_date=course_date, description=description
        )
    except NoPriceError as exc:
        raise ValidationError(str(exc), code="no_price") from exc
    item = BasketItem(
        basket=basket,
        service=service,
        course_date=course_date,
        quantity=quantity,
        quoted_net=priced.net,
        quoted_vat=priced.vat,
        quoted_gross=priced.gross,
        quoted_explanation=priced.explanation,
        **fields,
    )
    item.full_clean()
    item.save()
    Basket.objects.filter(pk=basket.pk).update(updated_at=timezone.now())
    return item


def _require_live(service: ServicePage) -> None:
    if not service.live:
        raise ValidationError("This service is no longer offered.", code="not_offered")


@transaction.atomic
def add_course_place(
    *,
    basket: Basket,
    course_date: CourseDate,
    delegate_name: str,
    delegate_email: str,
    delegate_role: str = "",
    access_needs: str = "",
    dietary_needs: str = "",
) -> BasketItem:
    """Put one place on ``course_date`` for a named delegate in the basket."""
    course = course_date.service
    _require_live(course)
    delegate_name = delegate_name.strip()
    delegate_email = delegate_email.strip().lower()
    errors: dict[str, str] = {}
    if course.delegates_must_be_named and not delegate_name:
        errors["delegate_name"] = "Enter the name of the person who will attend."
    if course.delegates_must_be_named and not delegate_email:
        errors["delegate_email"] = "Enter the email address of the person who will attend."
    elif delegate_email:
        try:
            validate_email(delegate_email)
        except ValidationError:
            errors["delegate_email"] = "Enter an email address in the correct format, like name@example.org."
    if errors:
        raise ValidationError(errors)

    if course_date.status == CourseDateStatus.CANCELLED:
        raise ValidationError({"course_date": "This date has been cancelled. Choose another date."})
    now = timezone.now()
    if course_date.booking_opens_at and now < course_date.booking_opens_at:
        opens = dateformat.format(timezone.localtime(course_date.booking_opens_at), "j M Y")
        raise ValidationError({"course_date": f"Booking for this date opens on {opens}."})
    if now >= (course_date.booking_closes_at or course_date.starts_at):
        raise ValidationError({"course_date": "Booking for this date has closed. Choose another date."})

    same_date = basket.items.filter(course_date=course_date)
    if course_date.places_left <= same_date.count():
        message = (
            "This date is full. You can join its waiting list."
            if course_date.places_left == 0
            else f"Only {course_date.places_left} place(s) are left on this date and they are already in your basket."
        )
        raise ValidationError({"course_date": ValidationError(message, code=FULL)})
    if delegate_email:
        if same_date.filter(delegate_email=delegate_email).exists():
            raise ValidationError({"delegate_email": "This person already has a place on this date in your basket."})
        if BookingLine.objects.filter(
            course_date=course_date, status__in=PLACE_TAKING_STATUSES, delegate__email__iexact=delegate_email
        ).exists():
            raise ValidationError({"delegate_email": "This person is already booked on this date."})

    return _priced_item(
        basket=basket,
        service=course,
        quantity=Decimal("1"),
        course_date=course_date,
        description=describe_course_place(course_date=course_date, delegate_name=delegate_name),
        kind=ItemKind.COURSE_PLACE,
        delegate_name=delegate_name,
        delegate_email=delegate_email,
        delegate_role=delegate_role.strip(),
        delegate_access_needs=access_needs.strip(),
        delegate_dietary_needs=dietary_needs.strip(),
    )


def terms_on_sale(*, service: SubscriptionServicePage, today: date | None = None) -> list[date]:
    """The terms a school can buy today (the term whose buy-back window is open), as start dates."""
    start = service.term_on_sale(today or timezone.localdate())
    return [start] if start else []


@transaction.atomic
def add_subscription(*, basket: Basket, service: SubscriptionServicePage, term_start: date) -> BasketItem:
    """Put the SLA for the term starting ``term_start`` in the basket."""
    _require_live(service)
    if term_start not in terms_on_sale(service=service):
        raise ValidationError({"term_start": "This term is not on sale. Choose a term whose buy-back window is open."})
    if (
        Subscription.objects.filter(school=basket.school, service=service, term_start=term_start)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .exists()
    ):
        raise ValidationError({"term_start": "Your school already has this subscription for this term."})
    if basket.items.filter(service_id=service.pk, term_start=term_start).exists():
        raise ValidationError({"term_start": "This subscription is already in your basket."})
    return _priced_item(
        basket=basket,
        service=service,
        quantity=Decimal("1"),
        description=describe_subscription(service=service, term_start=term_start),
        kind=ItemKind.SUBSCRIPTION,
        term_start=term_start,
    )


def parse_quantity(value) -> Decimal:
    """A quantity typed by a person: a positive number with at most two decimal places, up to 365."""
    try:
        quantity = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({"quantity": "Enter the quantity as a number, like 2 or 1.5."}) from None
    if not quantity.is_finite() or quantity <= 0:
        raise ValidationError({"quantity": "The quantity must be more than 0."})
    if quantity > MAX_ONE_OFF_QUANTITY:
        raise ValidationError({"quantity": f"The quantity must be {MAX_ONE_OFF_QUANTITY} or less."})
    if quantity != quantity.quantize(Decimal("0.01")):
        raise ValidationError({"quantity": "The quantity can have at most two decimal places."})
    return quantity.quantize(Decimal("0.01"))


@transaction.atomic
def add_one_off(*, basket: Basket, service: OneOffServicePage, quantity) -> BasketItem:
    """Put ``quantity`` units (days, hours, items) of a one-off service in the basket."""
    _require_live(service)
    quantity = parse_quantity(quantity)
    if service.unit in ("day", "half_day") and (quantity * 2) != (quantity * 2).to_integral_value():
        raise ValidationError({"quantity": "Book whole or half days, like 1, 1.5 or 2."})
    if service.unit in ("item",) and quantity != quantity.to_integral_value():
        raise ValidationError({"quantity": "Enter a whole number of items."})
    return _priced_item(
        basket=basket,
        service=service,
        quantity=quantity,
        description=describe_one_off(service=service, quantity=quantity),
        kind=ItemKind.ONE_OFF,
    )


@transaction.atomic
def remove_item(*, basket: Basket, item_id: int) -> None:
    """Take an item out of the basket (an item of another basket is treated as not there)."""
    deleted, _ = BasketItem.objects.filter(basket=basket, pk=item_id).delete()
    if not deleted:
        raise ValidationError("That item is not in your basket.")


def item_description(item: BasketItem) -> str:
    """How an item reads in the basket and on the booking line (uses ``item.specific_service`` when loaded)."""
    if item.kind == ItemKind.COURSE_PLACE:
        return describe_course_place(course_date=item.course_date, delegate_name=item.delegate_name)
    service = getattr(item, "specific_service", None) or item.service.specific
    if item.kind == ItemKind.SUBSCRIPTION:
        return describe_subscription(service=service, term_start=item.term_start)
    return describe_one_off(service=service, quantity=item.quantity)


def price_change_message(
    *, was: Decimal | None, now: Decimal, was_gross: Decimal | None = None, now_gross: Decimal | None = None
) -> str:
    """What checkout says about a price that changed since the item was added (net, and the total if VAT moved)."""
    net_changed = was is not None and was != now
    # The total with VAT is worth a mention only when the VAT itself changed, not merely with the net.
    gross_changed = (
        was is not None and was_gross is not None and now_gross is not None and (was_gross - was) != (now_gross - now)
    )
    net_words = f"from {format_money(was)} to {format_money(now)}" if net_changed else ""
    gross_words = f"from {format_money(was_gross)} to {format_money(now_gross)}" if gross_changed else ""
    if net_changed and gross_changed:
        return f"The price has changed {net_words} (with VAT {gross_words}) since you added this."
    if gross_changed:
        return f"The price with VAT has changed {gross_words} since you added this."
    return f"The price has changed {net_words} since you added this."
