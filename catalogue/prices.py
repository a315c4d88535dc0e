"""What a service costs, as its page shows it: the public price table and the signed-in school's "Your price".

Selectors over the price engine (``catalogue/pricing.py``). A school's price depends on which SLAs it holds
(subscriber prices); subscriptions live in the bookings app, which sits above the catalogue, so it registers
a lookup here (``register_subscriptions_lookup``) instead of being imported. Until it does, no school holds
any SLA and subscriber prices never apply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from catalogue.models import PriceRule, ServiceKind
from catalogue.pricing import (
    VAT_LABELS,
    NoPriceError,
    Quote,
    RuleSpec,
    customer_for,
    describe_rule,
    describe_who,
    format_money,
    quote,
)
from portal.models import SchoolMembership

SubscriptionsLookup = Callable[[int], Iterable[int]]
_subscriptions_lookup: SubscriptionsLookup | None = None

# The GET parameter by which a member of several schools picks the school to price for.
SCHOOL_PARAM = "price_for"


def register_subscriptions_lookup(lookup: SubscriptionsLookup | None) -> None:
    """Tell the catalogue how to find the SLA service ids a school holds (given the school's id)."""
    global _subscriptions_lookup
    _subscriptions_lookup = lookup


def subscriptions_of(school_id: int) -> frozenset[int]:
    return frozenset(_subscriptions_lookup(school_id)) if _subscriptions_lookup else frozenset()


@dataclass(frozen=True)
class PriceRow:
    who: str
    price: str
    label: str


@dataclass(frozen=True)
class SchoolChoice:
    id: int
    name: str


@dataclass(frozen=True)
class YourPrice:
    school: SchoolChoice
    schools: list[SchoolChoice]
    quote: Quote | None
    error: str
    unit: str

    @property
    def net(self) -> str:
        return format_money(self.quote.net) if self.quote else ""

    @property
    def vat(self) -> str:
        return format_money(self.quote.vat) if self.quote else ""

    @property
    def gross(self) -> str:
        return format_money(self.quote.gross) if self.quote else ""

    @property
    def explanation(self) -> str:
        return self.quote.explanation if self.quote else ""

    @property
    def vat_label(self) -> str:
        return self.quote.lines[0].vat_label if self.quote else ""

    @property
    def has_vat(self) -> bool:
        return bool(self.quote and self.quote.vat)


def rule_specs(*, service) -> list[RuleSpec]:
    """The service's price rules as engine specs, in price-table order (one query)."""
    rules = PriceRule.objects.filter(service_id=service.pk).select_related("subscriber_service")
    return [rule.to_spec() for rule in rules.order_by("sort_order", "id")]


def price_table(*, specs: list[RuleSpec]) -> list[PriceRow]:
    return [PriceRow(who=describe_who(spec), price=describe_rule(spec), label=spec.label) for spec in specs]


def vat_label(service) -> str:
    return VAT_LABELS.get(service.vat_treatment, "")


def unit_of(service) -> str:
    """What one priced unit of the service is, for "Your price (a place)" and the like."""
    if service.kind == ServiceKind.COURSE:
        return "a place"
    if service.kind == ServiceKind.SUBSCRIPTION:
        return "a year"
    unit = getattr(service, "unit", "day")
    return {"day": "a day", "half_day": "a half day", "hour": "an hour", "item": "an item"}.get(unit, "a day")


def your_price(*, service, user, specs: list[RuleSpec], school_id: int | str | None = None) -> YourPrice | None:
    """The price for the user's school, or None when the user is not signed in or belongs to no school.

    Only the user's own schools can be priced: a ``school_id`` that is not one of them is ignored.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    memberships = list(
        SchoolMembership.objects.filter(user=user).select_related("school").order_by("school__name", "school_id")
    )
    if not memberships:
        return None
    schools = [m.school for m in memberships]
    chosen = next((s for s in schools if str(s.pk) == str(school_id)), schools[0])
    customer = customer_for(school=chosen, council=service.council, subscriptions=subscriptions_of(chosen.pk))
    priced: Quote | None = None
    error = ""
    try:
        priced = quote(
            rules=specs,
            customer=customer,
            vat_treatment=service.vat_treatment,
            quantity=1,
            description=service.title,
        )
    except NoPriceError as exc:
        error = str(exc)
    return YourPrice(
        school=SchoolChoice(chosen.pk, chosen.name),
        schools=[SchoolChoice(s.pk, s.name) for s in schools],
        quote=priced,
        error=error,
        unit=unit_of(service),
    )


def service_prices(*, service, request) -> dict:
    """Everything the service page's price section needs (see templates/catalogue/includes/prices.html)."""
    specs = rule_specs(service=service)
    return {
        "price_rows": price_table(specs=specs),
        "vat_label": vat_label(service),
        "your_price": your_price(
            service=service, user=request.user, specs=specs, school_id=request.GET.get(SCHOOL_PARAM)
        ),
        "school_param": SCHOOL_PARAM,
        "unit": unit_of(service),
        "request": request,
    }
