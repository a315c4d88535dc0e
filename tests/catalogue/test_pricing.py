"""The price engine (catalogue/pricing.py): rule kinds, conditions, specificity, rounding, VAT and messages."""

from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalogue.pricing import (
    VAT_LABELS,
    Customer,
    NoPriceError,
    Quote,
    RuleSpec,
    customer_for,
    describe_rule,
    describe_who,
    format_money,
    quote,
    select_rule,
)

PRIMARY_212 = Customer(customer_type="own_maintained", phase="primary", number_on_roll=212)


def rule(id=None, kind="flat", **kwargs):  # noqa: A002
    """A RuleSpec with the given fields; money given as strings becomes Decimal."""
    for name in ("amount", "rate_per_pupil", "minimum", "maximum"):
        if isinstance(kwargs.get(name), str):
            kwargs[name] = D(kwargs[name])
    return RuleSpec(id=id, kind=kind, **kwargs)


def price(rules, customer=PRIMARY_212, vat="exempt", **kwargs) -> Quote:
    return quote(rules=rules, customer=customer, vat_treatment=vat, description="Test service", **kwargs)


# --- each rule kind -------------------------------------------------------------------------------------

KIND_CASES = [
    # (rules, customer, quantity, expected net, expected explanation)
    ([rule(1, "flat", amount="95")], PRIMARY_212, 1, "95.00", "Flat fee £95.00"),
    ([rule(1, "flat", amount="95")], PRIMARY_212, 3, "285.00", "£95.00 × 3"),
    ([rule(1, "day_rate", amount="450")], PRIMARY_212, D("2.5"), "1125.00", "£450.00 a day × 2.5 days"),
    ([rule(1, "day_rate", amount="450")], PRIMARY_212, 1, "450.00", "£450.00 a day × 1 day"),
    ([rule(1, "day_rate", amount="450")], PRIMARY_212, D("0.5"), "225.00", "£450.00 a day × 0.5 days"),
    (
        [rule(1, "per_pupil", rate_per_pupil="3.10", phase="primary")],
        PRIMARY_212,
        1,
        "657.20",
        "£3.10 × 212 pupils, primary rate",
    ),
    (
        [
            rule(1, "band", amount="600", pupils_from=0, pupils_to=100),
            rule(2, "band", amount="900", pupils_from=101, pupils_to=250),
        ],
        PRIMARY_212,
        1,
        "900.00",
        "Band 101–250 pupils",
    ),
    (
        [rule(1, "band", amount="1200", pupils_from=251)],
        Customer("academy", "secondary", 1100),
        1,
        "1200.00",
        "Band 251 pupils or more",
    ),
    (
        [rule(1, "band", amount="500", pupils_to=100)],
        Customer("academy", "primary", 100),
        1,
        "500.00",
        "Band up to 100 pupils",
    ),
]


@pytest.mark.parametrize(("rules", "customer", "quantity", "net", "explanation"), KIND_CASES)
def test_each_rule_kind_prices_and_explains(rules, customer, quantity, net, explanation):
    """Flat, day-rate, per-pupil and band rules charge the documented amount and explain it in plain English."""
    result = price(rules, customer, quantity=quantity)
    (line,) = result.lines
    assert line.net == D(net)
    assert result.net == D(net)
    assert line.explanation == explanation


def test_band_edges_are_inclusive():
    """A school on a band's boundary falls in that band; one pupil more moves it to the next."""
    bands = [
        rule(1, "band", amount="600", pupils_from=0, pupils_to=100),
        rule(2, "band", amount="900", pupils_from=101, pupils_to=250),
    ]
    assert price(bands, Customer("academy", "primary", 100)).net == D("600.00")
    assert price(bands, Customer("academy", "primary", 101)).net == D("900.00")
    assert price(bands, Customer("academy", "primary", 250)).net == D("900.00")
    with pytest.raises(NoPriceError, match="251 pupils"):
        price(bands, Customer("academy", "primary", 251))


# --- minimum and maximum ----------------------------------------------------------------------------------

CLAMP_CASES = [
    (98, "450.00", "Minimum charge £450.00 applies (£3.10 × 98 pupils = £303.80)"),
    (146, "452.60", "£3.10 × 146 pupils, primary rate"),  # just over the minimum
    (145, "450.00", "Minimum charge £450.00 applies (£3.10 × 145 pupils = £449.50)"),
    (645, "1999.50", "£3.10 × 645 pupils, primary rate"),
    (900, "2000.00", "Maximum charge £2,000.00 applies (£3.10 × 900 pupils = £2,790.00)"),
    (1, "450.00", "Minimum charge £450.00 applies (£3.10 × 1 pupil = £3.10)"),
]


@pytest.mark.parametrize(("nor", "net", "explanation"), CLAMP_CASES)
def test_per_pupil_is_clamped_to_minimum_and_maximum(nor, net, explanation):
    """A per-pupil price below the minimum or above the maximum is raised or lowered to it, and says so."""
    rules = [rule(7, "per_pupil", rate_per_pupil="3.10", minimum="450", maximum="2000", phase="primary")]
    (line,) = price(rules, Customer("own_maintained", "primary", nor)).lines
    assert (line.net, line.explanation) == (D(net), explanation)


# --- rounding ---------------------------------------------------------------------------------------------

ROUNDING_CASES = [
    # rate, pupils, expected: 0.125 × 3 = 0.375 → 0.38 (half up), × 1 = 0.125 → 0.13
    ("0.125", 3, "0.38"),
    ("0.125", 1, "0.13"),
    ("0.125", 2, "0.25"),
    ("0.125", 5, "0.63"),
    ("1.005", 1, "1.01"),
    ("2.345", 10, "23.45"),
    ("0.0049", 1, "0.00"),
    ("0.005", 1, "0.01"),
]


@pytest.mark.parametrize(("rate", "nor", "expected"), ROUNDING_CASES)
def test_per_pupil_rounds_half_pennies_up(rate, nor, expected):
    """Per-pupil amounts are rounded to the penny, half a penny going up (not to even)."""
    result = price([rule(1, "per_pupil", rate_per_pupil=rate)], Customer("academy", "primary", nor))
    assert result.net == D(expected)
    assert result.net.as_tuple().exponent == -2


def test_sub_penny_rate_is_shown_with_its_digits():
    """A rate of £0.125 a pupil is explained as £0.125, not rounded in the text."""
    (line,) = price([rule(1, "per_pupil", rate_per_pupil="0.125")], Customer("academy", "primary", 3)).lines
    assert line.explanation == "£0.125 × 3 pupils"


VAT_ROUNDING_CASES = [
    # net, treatment, vat: 20% of 0.03 = 0.006 → 0.01; of 0.02 = 0.004 → 0.00; of 0.125→ net 0.13 → 0.026 → 0.03
    ("0.03", "standard", "0.01"),
    ("0.02", "standard", "0.00"),
    ("10.025", "standard", "2.01"),  # net rounds to 10.03 first, 20% = 2.006 → 2.01
    ("99.99", "standard", "20.00"),
    ("1234.56", "standard", "246.91"),
]


@pytest.mark.parametrize(("amount", "vat", "expected_vat"), VAT_ROUNDING_CASES)
def test_vat_is_rounded_half_up_per_line(amount, vat, expected_vat):
    """VAT is net × rate rounded half up to the penny, and gross is net plus that VAT."""
    (line,) = price([rule(1, "flat", amount=amount)], vat=vat).lines
    assert line.vat == D(expected_vat)
    assert line.gross == line.net + line.vat


# --- VAT treatments ---------------------------------------------------------------------------------------

VAT_CASES = [
    ("exempt", "0", "0.00", "1200.00", "Exempt"),
    ("standard", "0.20", "240.00", "1440.00", "20%"),
    ("zero", "0", "0.00", "1200.00", "0%"),
    ("outside_scope", "0", "0.00", "1200.00", "Outside the scope of VAT"),
]


@pytest.mark.parametrize(("treatment", "rate", "vat", "gross", "label"), VAT_CASES)
def test_vat_by_treatment(treatment, rate, vat, gross, label):
    """Each VAT treatment applies its rate and prints its label."""
    (line,) = price([rule(1, "flat", amount="1200")], vat=treatment).lines
    assert (line.vat_rate, line.vat, line.gross, line.vat_label) == (D(rate), D(vat), D(gross), label)
    assert VAT_LABELS[treatment] == label


def test_unknown_vat_treatment_is_refused():
    """A VAT treatment the engine does not know is an error, not a silent zero rate."""
    with pytest.raises(ValueError, match="VAT treatment"):
        price([rule(1, "flat", amount="10")], vat="reduced")


# --- conditions -------------------------------------------------------------------------------------------

CONDITION_CASES = [
    # (rule kwargs, customer, applies?)
    ({"phase": "primary"}, Customer("academy", "primary", 200), True),
    ({"phase": "primary"}, Customer("academy", "secondary", 200), False),
    ({"customer_type": "academy"}, Customer("academy", "primary", 200), True),
    ({"customer_type": "academy"}, Customer("own_maintained", "primary", 200), False),
    ({"customer_type": "own_maintained"}, Customer("own_maintained", "primary", 200), True),
    ({"customer_type": "other_council"}, Customer("own_maintained", "primary", 200), False),
    ({"customer_type": "independent"}, Customer("independent", "primary", 200), True),
    ({"subscriber_service_id": 5}, Customer("academy", "primary", 200, frozenset({5})), True),
    ({"subscriber_service_id": 5}, Customer("academy", "primary", 200, frozenset({6})), False),
    ({"pupils_from": 100}, Customer("academy", "primary", 99), False),
    ({"pupils_from": 100}, Customer("academy", "primary", None), False),
    ({"pupils_to": 100}, Customer("academy", "primary", 100), True),
]


@pytest.mark.parametrize(("conditions", "customer", "applies"), CONDITION_CASES)
def test_each_condition_limits_who_a_rule_prices(conditions, customer, applies):
    """A rule prices a customer only when every condition it sets matches them."""
    rules = [rule(1, "flat", amount="50", **conditions), rule(2, "flat", amount="80")]
    expected = D("50.00") if applies else D("80.00")
    assert price(rules, customer).net == expected


# --- specificity and tie-breaks ---------------------------------------------------------------------------

SPECIFICITY_RULES = [
    rule(1, "flat", amount="100"),
    rule(2, "flat", amount="120", phase="primary"),
    rule(3, "flat", amount="140", customer_type="academy"),
    rule(4, "flat", amount="150", customer_type="academy", phase="primary"),
    rule(5, "flat", amount="160", subscriber_service_id=9, subscriber_service_name="HR Advice"),
]

SPECIFICITY_CASES = [
    (Customer("own_maintained", "secondary", 500), 1),
    (Customer("own_maintained", "primary", 200), 2),
    (Customer("academy", "secondary", 900), 3),
    (Customer("academy", "primary", 200), 4),
    (Customer("academy", "primary", 200, frozenset({9})), 5),
    (Customer("own_maintained", "nursery", 40, frozenset({9})), 5),
]


@pytest.mark.parametrize(("customer", "rule_id"), SPECIFICITY_CASES)
def test_most_specific_rule_wins_even_when_dearer(customer, rule_id):
    """Subscriber beats customer type beats phase beats no condition, whatever the amounts."""
    assert price(SPECIFICITY_RULES, customer).lines[0].rule_id == rule_id


def test_subscriber_price_explains_the_sla():
    """A subscriber price names the SLA that earns it."""
    customer = Customer("academy", "primary", 200, frozenset({9}))
    rules = [
        rule(1, "flat", amount="95"),
        rule(2, "flat", amount="60", subscriber_service_id=9, subscriber_service_name="HR Advice"),
    ]
    (line,) = price(rules, customer).lines
    assert line.net == D("60.00")
    assert line.explanation == "Subscriber price for holders of the HR Advice SLA: flat fee £60.00"


@pytest.mark.parametrize("name", ["HR Advice SLA", "HR Advice sla", "HR Advice"])
def test_an_sla_named_with_sla_is_not_called_sla_sla(name):
    """Most SLAs are called "… SLA" already; the explanation does not add a second one."""
    customer = Customer("academy", "primary", 200, frozenset({9}))
    rules = [rule(1, "flat", amount="60", subscriber_service_id=9, subscriber_service_name=name)]
    (line,) = price(rules, customer).lines
    assert "SLA SLA" not in line.explanation.upper()
    assert line.explanation.startswith(f"Subscriber price for holders of the {name}")


def test_equally_specific_rules_go_to_the_cheapest_for_the_school():
    """Two rules as specific as each other: the school gets the cheaper one."""
    rules = [
        rule(1, "per_pupil", rate_per_pupil="3.10", phase="primary"),  # 212 × 3.10 = 657.20
        rule(2, "band", amount="600", phase="primary", pupils_from=101, pupils_to=250),
        rule(3, "flat", amount="700", phase="primary"),
    ]
    result = price(rules)
    assert (result.lines[0].rule_id, result.net) == (2, D("600.00"))


def test_exact_ties_are_deterministic_by_rule_id():
    """Equal rules at equal price pick the lowest id, whatever order they come in."""
    rules = [
        rule(8, "flat", amount="50", label="b"),
        rule(3, "flat", amount="50", label="a"),
        rule(None, "flat", amount="50"),
    ]
    assert price(rules).lines[0].rule_id == 3
    assert price(list(reversed(rules))).lines[0].rule_id == 3
    assert (
        select_rule(
            rules=[rule(None, "flat", amount="50", label="z"), rule(None, "flat", amount="50", label="y")],
            customer=PRIMARY_212,
        ).label
        == "y"
    )


def test_day_rate_tie_break_considers_the_quantity():
    """Ties are priced at the quantity asked for (the cheaper rule at 2 days wins)."""
    rules = [rule(1, "day_rate", amount="400"), rule(2, "day_rate", amount="380")]
    assert price(rules, quantity=2).lines[0].rule_id == 2


# --- price override ---------------------------------------------------------------------------------------


def test_course_date_price_override_replaces_the_rules():
    """A course date's price override is charged instead of any rule, and the explanation says so."""
    rules = [rule(1, "flat", amount="95")]
    (line,) = price(rules, price_override=D("120"), quantity=2).lines
    assert (line.unit_net, line.net, line.rule_id) == (D("120.00"), D("240.00"), None)
    assert line.explanation == "Price set for this course date: £120.00 × 2"


def test_price_override_needs_no_rules():
    """A course date priced by its override can be quoted even when the service has no rules."""
    assert price([], price_override=D("0")).gross == D("0.00")


def test_negative_override_is_refused():
    """An override below zero is an error."""
    with pytest.raises(ValueError, match="negative"):
        price([], price_override=D("-1"))


# --- quantities -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -1, D("-0.5")])
def test_quantity_must_be_positive(bad):
    """Zero or negative quantities are refused with a clear message."""
    with pytest.raises(ValueError, match="more than zero"):
        price([rule(1, "flat", amount="10")], quantity=bad)


def test_float_quantities_are_refused():
    """Floats never enter money arithmetic."""
    with pytest.raises(TypeError, match="never float"):
        price([rule(1, "flat", amount="10")], quantity=0.5)


# --- NoPriceError -----------------------------------------------------------------------------------------

NO_PRICE_CASES = [
    ([], PRIMARY_212, "No price has been set for this service yet"),
    (
        [rule(1, "per_pupil", rate_per_pupil="3.10")],
        Customer("academy", "primary", None),
        "depends on the number of pupils on roll, and we do not hold that number",
    ),
    (
        [rule(1, "band", amount="500", pupils_from=1, pupils_to=99)],
        Customer("academy", "primary", None),
        "depends on the number of pupils on roll",
    ),
    (
        [rule(1, "flat", amount="50", customer_type="own_maintained")],
        Customer("academy", "secondary", 900),
        r"None of this service's prices applies to an academy \(secondary phase, 900 pupils\)",
    ),
    (
        [rule(1, "flat", amount="50", phase="primary")],
        Customer("independent", "special", None),
        r"applies to an independent school \(special school phase\)",
    ),
]


@pytest.mark.parametrize(("rules", "customer", "message"), NO_PRICE_CASES)
def test_no_applicable_rule_gives_a_clear_message(rules, customer, message):
    """When no rule applies the error says why in words a school understands."""
    with pytest.raises(NoPriceError, match=message):
        price(rules, customer)


def test_missing_pupil_number_falls_back_to_a_flat_price():
    """Per-pupil rules are skipped (not an error) when a flat rule can price a school without a number on roll."""
    rules = [rule(1, "per_pupil", rate_per_pupil="3.10"), rule(2, "flat", amount="400")]
    assert price(rules, Customer("academy", "primary", None)).net == D("400.00")


# --- customers ---------------------------------------------------------------------------------------------

CUSTOMER_CASES = [
    ("maintained", "860", "860", "own_maintained"),
    ("maintained", "893", "860", "other_council"),
    ("academy", "860", "860", "academy"),
    ("academy", "330", "860", "academy"),
    ("independent", "860", "860", "independent"),
    ("other", "860", "860", "independent"),
    ("other", "330", "860", "other_council"),
]


@pytest.mark.parametrize(("route", "school_la", "council_la", "expected"), CUSTOMER_CASES)
def test_customer_type_depends_on_funding_route_and_council(route, school_la, council_la, expected):
    """A school's price category follows its funding route and whether the providing council maintains it."""
    school = SimpleNamespace(funding_route=route, la_code=school_la, phase="primary", number_on_roll=150)
    council = SimpleNamespace(la_code=council_la)
    customer = customer_for(school=school, council=council, subscriptions=[4, 4, 7])
    assert customer == Customer(expected, "primary", 150, frozenset({4, 7}))


# --- formatting and the price table -----------------------------------------------------------------------

MONEY_CASES = [
    (D("1234.5"), "£1,234.50"),
    (D("0"), "£0.00"),
    (D("0.005"), "£0.01"),
    (D("-12.3"), "-£12.30"),
    (D("1000000"), "£1,000,000.00"),
    (7, "£7.00"),
    (None, ""),
]


@pytest.mark.parametrize(("value", "text"), MONEY_CASES)
def test_format_money(value, text):
    """Money is shown with a pound sign, thousands separators and two places."""
    assert format_money(value) == text


DESCRIBE_CASES = [
    (rule(1, "flat", amount="95"), "All schools", "£95.00"),
    (rule(1, "day_rate", amount="450", customer_type="academy"), "Academies", "£450.00 a day"),
    (
        rule(1, "per_pupil", rate_per_pupil="3.10", minimum="450", maximum="2000", phase="primary"),
        "Primary schools",
        "£3.10 per pupil on roll (minimum £450.00, maximum £2,000.00)",
    ),
    (
        rule(1, "band", amount="900", pupils_from=101, pupils_to=250, phase="secondary", customer_type="other_council"),
        "Secondary schools (schools of other councils)",
        "£900.00 for 101–250 pupils",
    ),
    (
        rule(1, "flat", amount="60", subscriber_service_id=3, subscriber_service_name="HR Advice"),
        "All schools, holding the HR Advice SLA",
        "£60.00",
    ),
    (rule(1, "flat", amount="60", pupils_from=500), "All schools", "£60.00, for 500 pupils or more on roll"),
]


@pytest.mark.parametrize(("spec", "who", "what"), DESCRIBE_CASES)
def test_price_table_describes_each_rule(spec, who, what):
    """Each rule reads in plain English in the public price table."""
    assert (describe_who(spec), describe_rule(spec)) == (who, what)


# --- properties -------------------------------------------------------------------------------------------

money = st.decimals(min_value=D("0"), max_value=D("100000"), places=2, allow_nan=False, allow_infinity=False)
rates = st.decimals(min_value=D("0"), max_value=D("50"), places=3, allow_nan=False, allow_infinity=False)
treatments = st.sampled_from(sorted(VAT_LABELS))
phases = st.sampled_from(["nursery", "primary", "secondary", "special", "all_through", "pru"])
customer_types = st.sampled_from(["own_maintained", "academy", "other_council", "independent"])
quantities = st.one_of(st.integers(min_value=1, max_value=500), st.sampled_from([D("0.5"), D("1.5"), D("2.5")]))


@st.composite
def rule_specs(draw, id_):
    kind = draw(st.sampled_from(["flat", "per_pupil", "band", "day_rate"]))
    low = draw(st.none() | st.integers(0, 1500))
    high = draw(st.none() | st.integers(low or 0, 3000))
    minimum = draw(st.none() | money)
    maximum = draw(st.none() | money.filter(lambda m: minimum is None or m >= minimum))
    return RuleSpec(
        id=id_,
        kind=kind,
        label=f"rule {id_}",
        amount=draw(money),
        rate_per_pupil=draw(rates),
        minimum=minimum if kind == "per_pupil" else None,
        maximum=maximum if kind == "per_pupil" else None,
        pupils_from=low if kind == "band" else None,
        pupils_to=high if kind == "band" else None,
        phase=draw(st.none() | phases),
        customer_type=draw(
            st.sampled_from(["any", "any", "own_maintained", "academy", "other_council", "independent"])
        ),
        subscriber_service_id=draw(st.none() | st.sampled_from([1, 2])),
    )


@st.composite
def customers(draw):
    return Customer(
        customer_type=draw(customer_types),
        phase=draw(phases),
        number_on_roll=draw(st.none() | st.integers(0, 3000)),
        subscriptions=frozenset(draw(st.sets(st.sampled_from([1, 2, 3])))),
    )


def two_places(value: D) -> bool:
    return value.as_tuple().exponent == -2


@given(
    rules=st.lists(st.integers(1, 10**6), min_size=1, max_size=6, unique=True).flatmap(
        lambda ids: st.tuples(*[rule_specs(i) for i in ids])
    ),
    customer=customers(),
    treatment=treatments,
    quantity=quantities,
    override=st.none() | money,
)
def test_quotes_always_add_up(rules, customer, treatment, quantity, override):
    """For any rules and school: net + VAT = gross per line and in total, totals sum the lines, 2 places."""
    try:
        result = quote(
            rules=rules,
            customer=customer,
            vat_treatment=treatment,
            quantity=quantity,
            description="x",
            price_override=override,
        )
    except NoPriceError as exc:
        assert str(exc)
        return
    for line in result.lines:
        assert line.net + line.vat == line.gross
        assert all(two_places(v) for v in (line.unit_net, line.net, line.vat, line.gross))
        assert line.explanation
    assert result.net == sum(line.net for line in result.lines)
    assert result.vat == sum(line.vat for line in result.lines)
    assert result.gross == sum(line.gross for line in result.lines)
    assert result.net + result.vat == result.gross
    assert all(two_places(v) for v in (result.net, result.vat, result.gross))


@given(
    rate=rates,
    nor=st.integers(0, 5000),
    minimum=st.none() | money,
    span=st.none() | money,
    treatment=treatments,
)
def test_per_pupil_stays_within_minimum_and_maximum(rate, nor, minimum, span, treatment):
    """A per-pupil charge is never below its minimum nor above its maximum, and equals rate × NOR otherwise."""
    maximum = None if span is None else (minimum or D("0")) + span
    spec = RuleSpec(id=1, kind="per_pupil", rate_per_pupil=rate, minimum=minimum, maximum=maximum)
    result = quote(rules=[spec], customer=Customer("academy", "primary", nor), vat_treatment=treatment, description="x")
    net = result.net
    if minimum is not None:
        assert net >= minimum
    if maximum is not None:
        assert net <= maximum
    raw = (rate * nor).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    if (minimum is None or raw >= minimum) and (maximum is None or raw <= maximum):
        assert net == raw
