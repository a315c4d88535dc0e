"""Pricing a basket item or a booking line for a school: the bookings side of ``catalogue.pricing``.

The price engine is pure; here we feed it the service's rules and the school as a customer of the
providing council, including the SLAs the school holds (subscriber prices).
"""

from __future__ import annotations

from decimal import Decimal

from catalogue.models import CourseDate, PriceRule, ServicePage
from catalogue.pricing import Quote, VatTreatment, customer_for, quote
from portal.models import School

from ..models import PaymentRoute
from ..selectors import active_subscription_service_ids

ZERO = Decimal("0.00")


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


def vat_for_route(*, route: str, vat_treatment: str, vat_rate: Decimal, vat: Decimal) -> tuple[str, Decimal, Decimal]:
    """The VAT treatment, rate and amount a line carries once its payment route is known.

    An internal recharge is a journal inside one council (its own maintained school), not a supply to another
    body: it is outside the scope of VAT, and billing raises it without VAT. Every other route keeps the VAT
    that was quoted. The one place this is decided, so booking totals, approval and the journal agree.
    """
    if route == PaymentRoute.RECHARGE:
        return VatTreatment.OUTSIDE_SCOPE, Decimal("0"), ZERO
    return vat_treatment, vat_rate, vat
