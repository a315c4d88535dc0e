"""Pricing a basket item or a booking line for a school: the bookings side of ``catalogue.pricing``.

The price engine is pure; here we feed it the service's rules and the school as a customer of the
providing council, including the SLAs the school holds (subscriber prices).
"""

from __future__ import annotations

from decimal import Decimal

from catalogue.models import CourseDate, PriceRule, ServicePage
from catalogue.pricing import Quote, customer_for, quote
from portal.models import School

from ..selectors import active_subscription_service_ids


def rule_specs(*, service: ServicePage) -> list:
    rules = PriceRule.objects.filter(service_id=service.pk).select_related("subscriber_service")
    return [rule.to_spec() for rule in rules.order_by("sort_order", "id")]


def quote_for(
    *,
    school: School,
    service: ServicePage,
    quantity: Decimal | int = 1,
    course_date: CourseDate | None = None,
    description: str = "",
    subscriptions: frozenset[int] | None = None,
) -> Quote:
    """The school's price for ``quantity`` of the service (a course date's override wins). Raises NoPriceError."""
    if subscriptions is None:
        subscriptions = active_subscription_service_ids(school.pk)
    return quote(
        rules=rule_specs(service=service),
        customer=customer_for(school=school, council=service.council, subscriptions=subscriptions),
        vat_treatment=service.vat_treatment,
        quantity=quantity,
        description=description or service.title,
        price_override=course_date.price_override if course_date is not None else None,
    )
