"""The price engine: one pure function that quotes a service's price for a school, exact to the penny.

Nothing here touches the database. Callers turn a service's ``PriceRule`` rows into :class:`RuleSpec` values
(``PriceRule.to_spec()``), describe the school as a :class:`Customer` (:func:`customer_for`) and call
:func:`quote`. The same function prices "Your price" on a service page, a basket line and an invoice line, so
the school always sees the amount it will be charged.

How a rule is chosen
--------------------
1. A rule *applies* when every condition it sets matches the customer:

   - ``phase``: the school's pricing phase (portal ``Phase`` codes); ``None`` means any phase;
   - ``customer_type``: own maintained / academy / other council / independent; ``"any"`` means anyone;
   - ``subscriber_service_id``: the school holds that SLA (its id is in ``Customer.subscriptions``);
   - a pupil range (``pupils_from``/``pupils_to``, inclusive, either end open): the school's number on roll
     is known and inside it. A ``band`` rule is defined by its range;
   - a ``per_pupil`` rule also needs the number on roll.

2. Among the rules that apply, the *most specific* wins. Specificity compares, in this order, whether the
   rule sets a subscriber condition, a customer-type condition and a phase condition (so a subscriber
   price beats a price for academies, which beats a primary rate, which beats an unconditional price).

3. Equally specific rules are broken in the school's favour: the cheapest net amount wins, because a
   council offers its best applicable price. Remaining ties go to the lowest rule id (rules without an id
   last), then the label, so the same inputs always give the same quote.

Amounts
-------
- ``flat``: ``amount`` × quantity (places, items);
- ``day_rate``: ``amount`` a day × quantity in days (half days allowed);
- ``band``: the band's ``amount`` (× quantity, normally 1);
- ``per_pupil``: ``rate_per_pupil`` × number on roll, rounded to the penny (half up), then raised to
  ``minimum`` or lowered to ``maximum`` where set (× quantity, normally 1).

A course date may carry a price override: it replaces whatever the rules would charge.

VAT is worked out per line: ``net × rate`` rounded half up to the penny; gross = net + VAT. A quote's totals
are the sums of its lines, so VAT plus net always equals gross, line by line and in total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")


class RuleKind:
    FLAT = "flat"
    PER_PUPIL = "per_pupil"
    BAND = "band"
    DAY_RATE = "day_rate"

    ALL = (FLAT, PER_PUPIL, BAND, DAY_RATE)


class CustomerType:
    ANY = "any"
    OWN_MAINTAINED = "own_maintained"
    ACADEMY = "academy"
    OTHER_COUNCIL = "other_council"
    INDEPENDENT = "independent"

    ALL = (ANY, OWN_MAINTAINED, ACADEMY, OTHER_COUNCIL, INDEPENDENT)


class VatTreatment:
    EXEMPT = "exempt"
    STANDARD = "standard"
    ZERO = "zero"
    OUTSIDE_SCOPE = "outside_scope"


VAT_RATES: dict[str, Decimal] = {
    VatTreatment.EXEMPT: Decimal("0"),
    VatTreatment.STANDARD: Decimal("0.20"),
    VatTreatment.ZERO: Decimal("0"),
    VatTreatment.OUTSIDE_SCOPE: Decimal("0"),
}

# How each treatment is printed against an invoice line or a price ("VAT: Exempt").
VAT_LABELS: dict[str, str] = {
    VatTreatment.EXEMPT: "Exempt",
    VatTreatment.STANDARD: "20%",
    VatTreatment.ZERO: "0%",
    VatTreatment.OUTSIDE_SCOPE: "Outside the scope of VAT",
}

# Phases as they read inside a sentence ("primary rate"); codes are portal.models.schools.Phase.
PHASE_WORDS: dict[str, str] = {
    "nursery": "nursery",
    "primary": "primary",
    "secondary": "secondary",
    "all_through": "all-through",
    "special": "special school",
    "pru": "pupil referral unit",
    "sixteen_plus": "16 plus",
    "not_applicable": "other",
}

# Phases as a group of schools, for the price table ("Primary schools").
PHASE_SCHOOLS: dict[str, str] = {
    "nursery": "nursery schools",
    "primary": "primary schools",
    "secondary": "secondary schools",
    "all_through": "all-through schools",
    "special": "special schools",
    "pru": "pupil referral units",
    "sixteen_plus": "16 plus providers",
    "not_applicable": "other settings",
}

# Customer types as the people a price is for ("rate for academies").
CUSTOMER_TYPE_WORDS: dict[str, str] = {
    CustomerType.OWN_MAINTAINED: "this council's maintained schools",
    CustomerType.ACADEMY: "academies",
    CustomerType.OTHER_COUNCIL: "schools of other councils",
    CustomerType.INDEPENDENT: "independent schools",
}

# One school, in words ("an academy"), for messages about a customer.
CUSTOMER_TYPE_SINGULAR: dict[str, str] = {
    CustomerType.OWN_MAINTAINED: "a maintained school of this council",
    CustomerType.ACADEMY: "an academy",
    CustomerType.OTHER_COUNCIL: "a school of another council",
    CustomerType.INDEPENDENT: "an independent school",
}


class NoPriceError(Exception):
    """No price rule of the service applies to this customer; the message says why, for the school to read."""


@dataclass(frozen=True)
class RuleSpec:
    """One price rule, detached from the database (see ``PriceRule.to_spec()``)."""

    id: int | None
    kind: str
    label: str = ""
    amount: Decimal | None = None
    rate_per_pupil: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    pupils_from: int | None = None
    pupils_to: int | None = None
    phase: str | None = None
    customer_type: str = CustomerType.ANY
    subscriber_service_id: int | None = None
    # The SLA's name, for "Subscriber price for holders of the HR Advice SLA"; optional.
    subscriber_service_name: str = ""


@dataclass(frozen=True)
class Customer:
    """What pricing needs to know about the school that buys."""

    customer_type: str
    phase: str
    number_on_roll: int | None = None
    subscriptions: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class QuoteLine:
    description: str
    quantity: Decimal
    unit_net: Decimal
    net: Decimal
    vat_treatment: str
    vat_rate: Decimal
    vat: Decimal
    gross: Decimal
    explanation: str
    rule_id: int | None

    @property
    def vat_label(self) -> str:
        return VAT_LABELS[self.vat_treatment]


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    net: Decimal
    vat: Decimal
    gross: Decimal

    @classmethod
    def of(cls, lines: Iterable[QuoteLine]) -> Quote:
        """A quote whose totals are the sums of its lines (the only way totals are made)."""
        lines = tuple(lines)
        return cls(
            lines=lines,
            net=sum((line.net for line in lines), ZERO),
            vat=sum((line.vat for line in lines), ZERO),
            gross=sum((line.gross for line in lines), ZERO),
        )

    @property
    def explanation(self) -> str:
        return "; ".join(line.explanation for line in self.lines)


# --- Money ------------------------------------------------------------------------------------------------


def to_pennies(value: Decimal) -> Decimal:
    """Round half up to the penny (the rounding councils' finance systems use)."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(value: Decimal | int | None) -> str:
    """£1,234.50 (a minus sign before the £ for negative amounts); an empty string for None."""
    if value is None:
        return ""
    amount = to_pennies(Decimal(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def format_rate(value: Decimal) -> str:
    """A per-pupil rate: pennies as money, sub-penny rates keep their digits (£0.125)."""
    value = Decimal(value)
    if value == to_pennies(value):
        return format_money(value)
    return f"£{value.normalize():f}"


def format_quantity(value: Decimal | int) -> str:
    """2, 2.5 — no trailing zeros."""
    value = Decimal(value)
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.normalize():f}"


def _plural(count: Decimal | int, one: str, many: str) -> str:
    return f"{format_quantity(count)} {one if Decimal(count) == 1 else many}"


# --- Customers --------------------------------------------------------------------------------------------


def customer_type_for(*, funding_route: str, school_la_code: str, council_la_code: str) -> str:
    """The price category of a school for a given providing council.

    Academies and free schools pay academy prices wherever they are; independent schools pay independent
    prices. A maintained school pays the "own maintained" price at its own council and the "other council"
    price elsewhere. Anything else (e.g. a non-maintained special school) is not maintained by the council,
    so it pays the other-council price outside its area and the independent price inside it.
    """
    if funding_route == "academy":
        return CustomerType.ACADEMY
    if funding_route == "independent":
        return CustomerType.INDEPENDENT
    own_area = bool(school_la_code) and school_la_code == council_la_code
    if funding_route == "maintained":
        return CustomerType.OWN_MAINTAINED if own_area else CustomerType.OTHER_COUNCIL
    return CustomerType.INDEPENDENT if own_area else CustomerType.OTHER_COUNCIL


def customer_for(*, school, council, subscriptions: Iterable[int] = ()) -> Customer:
    """Describe a portal ``School`` as a customer of a providing ``Council`` (duck-typed, no queries).

    ``subscriptions`` are the ids of the SLA services the school holds; the bookings app supplies them.
    """
    return Customer(
        customer_type=customer_type_for(
            funding_route=school.funding_route, school_la_code=school.la_code, council_la_code=council.la_code
        ),
        phase=school.phase,
        number_on_roll=school.number_on_roll,
        subscriptions=frozenset(subscriptions),
    )


# --- Rule selection ---------------------------------------------------------------------------------------


def _has_pupil_range(rule: RuleSpec) -> bool:
    return rule.kind == RuleKind.BAND or rule.pupils_from is not None or rule.pupils_to is not None


def _applies(rule: RuleSpec, customer: Customer) -> bool:
    if rule.phase is not None and rule.phase != customer.phase:
        return False
    if rule.customer_type != CustomerType.ANY and rule.customer_type != customer.customer_type:
        return False
    if rule.subscriber_service_id is not None and rule.subscriber_service_id not in customer.subscriptions:
        return False
    nor = customer.number_on_roll
    if rule.kind == RuleKind.PER_PUPIL and nor is None:
        return False
    if _has_pupil_range(rule):
        if nor is None:
            return False
        if rule.pupils_from is not None and nor < rule.pupils_from:
            return False
        if rule.pupils_to is not None and nor > rule.pupils_to:
            return False
    return True


def _specificity(rule: RuleSpec) -> tuple[bool, bool, bool]:
    return (
        rule.subscriber_service_id is not None,
        rule.customer_type != CustomerType.ANY,
        rule.phase is not None,
    )


@dataclass(frozen=True)
class _Priced:
    unit_net: Decimal
    explanation: str


def _qualifier(rule: RuleSpec) -> str:
    """ ", primary rate for academies" — which condition made this the price."""
    phase = PHASE_WORDS.get(rule.phase, rule.phase) if rule.phase else ""
    who = CUSTOMER_TYPE_WORDS.get(rule.customer_type, "") if rule.customer_type != CustomerType.ANY else ""
    if phase and who:
        return f", {phase} rate for {who}"
    if phase:
        return f", {phase} rate"
    if who:
        return f", rate for {who}"
    return ""


def _range_words(rule: RuleSpec) -> str:
    """ "101–250 pupils", "501 pupils or more", "up to 100 pupils"."""
    low, high = rule.pupils_from, rule.pupils_to
    if low is not None and high is not None:
        return f"{low:,}–{high:,} pupils"
    if low is not None:
        return f"{low:,} pupils or more"
    if high is not None:
        return f"up to {high:,} pupils"
    return "any number of pupils"


def _band_words(rule: RuleSpec) -> str:
    return f"Band {_range_words(rule)}"


def _require(value: Decimal | None, rule: RuleSpec, what: str) -> Decimal:
    if value is None:
        raise ValueError(f"Price rule {rule.id or rule.label!r} ({rule.kind}) has no {what}.")
    return Decimal(value)


def _price(rule: RuleSpec, customer: Customer, quantity: Decimal) -> _Priced:
    """The unit net amount a rule charges this customer, with the plain-English reason."""
    qualifier = _qualifier(rule)
    if rule.kind == RuleKind.FLAT:
        amount = to_pennies(_require(rule.amount, rule, "amount"))
        if quantity == 1:
            text = f"Flat fee {format_money(amount)}{qualifier}"
        else:
            text = f"{format_money(amount)} × {format_quantity(quantity)}{qualifier}"
        return _Priced(amount, text)
    if rule.kind == RuleKind.DAY_RATE:
        amount = to_pennies(_require(rule.amount, rule, "day rate"))
        days = _plural(quantity, "day", "days")
        return _Priced(amount, f"{format_money(amount)} a day × {days}{qualifier}")
    if rule.kind == RuleKind.BAND:
        amount = to_pennies(_require(rule.amount, rule, "amount"))
        text = f"{_band_words(rule)}{qualifier}"
        if quantity != 1:
            text += f", {format_money(amount)} × {format_quantity(quantity)}"
        return _Priced(amount, text)
    if rule.kind == RuleKind.PER_PUPIL:
        rate = _require(rule.rate_per_pupil, rule, "rate per pupil")
        nor = customer.number_on_roll
        assert nor is not None  # _applies() guarantees it
        raw = to_pennies(rate * nor)
        sum_text = f"{format_rate(rate)} × {_plural(nor, 'pupil', 'pupils')}"
        minimum = to_pennies(rule.minimum) if rule.minimum is not None else None
        maximum = to_pennies(rule.maximum) if rule.maximum is not None else None
        if minimum is not None and raw < minimum:
            return _Priced(
                minimum, f"Minimum charge {format_money(minimum)} applies ({sum_text} = {format_money(raw)})"
            )
        if maximum is not None and raw > maximum:
            return _Priced(
                maximum, f"Maximum charge {format_money(maximum)} applies ({sum_text} = {format_money(raw)})"
            )
        return _Priced(raw, f"{sum_text}{qualifier}")
    raise ValueError(f"Unknown price rule kind {rule.kind!r}.")


def _sla_name(rule: RuleSpec) -> str:
    """'the HR Advice SLA' (not 'the HR Advice SLA SLA' when the service's own name ends in SLA)."""
    name = " ".join(rule.subscriber_service_name.split())
    if not name:
        return "the matching SLA"
    return f"the {name}" if name.upper().endswith("SLA") else f"the {name} SLA"


def _with_subscriber_note(rule: RuleSpec, text: str) -> str:
    if rule.subscriber_service_id is None:
        return text
    sla = _sla_name(rule)
    return f"Subscriber price for holders of {sla}: {text[0].lower()}{text[1:]}"


def _applies_given_pupils(rule: RuleSpec, customer: Customer) -> bool:
    """Would the rule apply if the pupil-number conditions were met? (For the NoPriceError message.)"""
    relaxed = RuleSpec(**{**rule.__dict__, "kind": RuleKind.FLAT, "pupils_from": None, "pupils_to": None})
    return _applies(relaxed, customer)


def _no_price_message(rules: Sequence[RuleSpec], customer: Customer) -> str:
    if not rules:
        return "No price has been set for this service yet. Contact the council for a quote."
    needs_pupils = [
        rule
        for rule in rules
        if (rule.kind == RuleKind.PER_PUPIL or _has_pupil_range(rule)) and _applies_given_pupils(rule, customer)
    ]
    if needs_pupils and customer.number_on_roll is None:
        return (
            "This price depends on the number of pupils on roll, and we do not hold that number for your school. "
            "Contact the council for a quote."
        )
    phase = PHASE_WORDS.get(customer.phase, customer.phase)
    who = CUSTOMER_TYPE_SINGULAR.get(customer.customer_type, customer.customer_type)
    pupils = f", {customer.number_on_roll:,} pupils" if customer.number_on_roll is not None else ""
    return f"None of this service's prices applies to {who} ({phase} phase{pupils}). Contact the council for a quote."


def select_rule(*, rules: Sequence[RuleSpec], customer: Customer, quantity: Decimal | int = 1) -> RuleSpec:
    """The rule that prices this customer (see the module docstring); NoPriceError when none applies."""
    quantity = _as_quantity(quantity)
    applicable = [rule for rule in rules if _applies(rule, customer)]
    if not applicable:
        raise NoPriceError(_no_price_message(rules, customer))
    best_specificity = max(_specificity(rule) for rule in applicable)
    candidates = [rule for rule in applicable if _specificity(rule) == best_specificity]
    return min(
        candidates,
        key=lambda rule: (
            _price(rule, customer, quantity).unit_net,
            rule.id is None,
            rule.id or 0,
            rule.label,
        ),
    )


# --- Quoting ----------------------------------------------------------------------------------------------


def _as_quantity(quantity: Decimal | int) -> Decimal:
    if isinstance(quantity, float):
        raise TypeError("Quantities are Decimal or int, never float.")
    value = Decimal(quantity)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"The quantity must be more than zero (got {quantity}).")
    return value


def make_line(
    *,
    description: str,
    quantity: Decimal | int,
    unit_net: Decimal,
    vat_treatment: str,
    explanation: str,
    rule_id: int | None = None,
) -> QuoteLine:
    """One priced line: net = unit × quantity and VAT = net × rate, each rounded half up to the penny."""
    if vat_treatment not in VAT_RATES:
        raise ValueError(f"Unknown VAT treatment {vat_treatment!r}.")
    quantity = _as_quantity(quantity)
    unit_net = to_pennies(unit_net)
    net = to_pennies(unit_net * quantity)
    rate = VAT_RATES[vat_treatment]
    vat = to_pennies(net * rate)
    return QuoteLine(
        description=description,
        quantity=quantity,
        unit_net=unit_net,
        net=net,
        vat_treatment=vat_treatment,
        vat_rate=rate,
        vat=vat,
        gross=net + vat,
        explanation=explanation,
        rule_id=rule_id,
    )


def quote(
    *,
    rules: Sequence[RuleSpec],
    customer: Customer,
    vat_treatment: str,
    quantity: Decimal | int = 1,
    description: str,
    price_override: Decimal | None = None,
) -> Quote:
    """Price ``quantity`` of a service for a customer: a one-line quote (see the module docstring)."""
    quantity = _as_quantity(quantity)
    if price_override is not None:
        unit = to_pennies(price_override)
        if unit < 0:
            raise ValueError("A price override cannot be negative.")
        explanation = f"Price set for this course date: {format_money(unit)}"
        if quantity != 1:
            explanation += f" × {format_quantity(quantity)}"
        line = make_line(
            description=description,
            quantity=quantity,
            unit_net=unit,
            vat_treatment=vat_treatment,
            explanation=explanation,
        )
        return Quote.of([line])
    rule = select_rule(rules=rules, customer=customer, quantity=quantity)
    priced = _price(rule, customer, quantity)
    line = make_line(
        description=description,
        quantity=quantity,
        unit_net=priced.unit_net,
        vat_treatment=vat_treatment,
        explanation=_with_subscriber_note(rule, priced.explanation),
        rule_id=rule.id,
    )
    return Quote.of([line])


# --- The price table --------------------------------------------------------------------------------------


def describe_rule(rule: RuleSpec) -> str:
    """A rule in plain English for the public price table, e.g. "£3.10 per pupil (minimum £450.00)"."""
    if rule.kind == RuleKind.FLAT:
        text = f"{format_money(rule.amount)}"
    elif rule.kind == RuleKind.DAY_RATE:
        text = f"{format_money(rule.amount)} a day"
    elif rule.kind == RuleKind.BAND:
        text = f"{format_money(rule.amount)} for {_range_words(rule)}"
    elif rule.kind == RuleKind.PER_PUPIL:
        text = f"{format_rate(rule.rate_per_pupil)} per pupil on roll"
        limits = []
        if rule.minimum is not None:
            limits.append(f"minimum {format_money(rule.minimum)}")
        if rule.maximum is not None:
            limits.append(f"maximum {format_money(rule.maximum)}")
        if limits:
            text += f" ({', '.join(limits)})"
    else:
        raise ValueError(f"Unknown price rule kind {rule.kind!r}.")
    if rule.kind != RuleKind.BAND and (rule.pupils_from is not None or rule.pupils_to is not None):
        text += f", for {_range_words(rule)} on roll"
    return text


def describe_who(rule: RuleSpec) -> str:
    """Who a rule is for, in plain English, for the price table's first column."""
    parts = []
    if rule.phase:
        parts.append(PHASE_SCHOOLS.get(rule.phase, rule.phase))
    if rule.customer_type != CustomerType.ANY:
        parts.append(CUSTOMER_TYPE_WORDS.get(rule.customer_type, rule.customer_type))
    text = f"{parts[0]} ({parts[1]})" if len(parts) == 2 else (parts[0] if parts else "all schools")
    text = text[0].upper() + text[1:]
    if rule.subscriber_service_id is not None:
        sla = _sla_name(rule)
        text += f", holding {sla}"
    return text
