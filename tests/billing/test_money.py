"""Pence helpers, apportionment by largest remainder and VAT splits: exact to the penny."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.money import apportion, format_gbp, from_pence, quantize, round_pence, to_pence
from billing.vat import VatTreatment, split_gross, split_net, vat_label, vat_on_net, vat_rate

weights_strategy = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=12).filter(
    lambda ws: sum(ws) > 0
)
totals = st.integers(min_value=-10_000_000, max_value=10_000_000)


def test_to_pence_rounds_half_up_and_from_pence_has_two_places():
    """Pounds become whole pence with halves rounded away from zero; pence become two-place Decimals."""
    assert to_pence(Decimal("12.345")) == 1235
    assert to_pence("12.344") == 1234
    assert to_pence(Decimal("-0.005")) == -1
    assert to_pence(7) == 700
    assert from_pence(1235) == Decimal("12.35")
    assert str(from_pence(700)) == "7.00"
    assert quantize("2.675") == Decimal("2.68")
    assert round_pence(Decimal("832.5")) == 833


def test_floats_are_refused():
    """A float never becomes money: it has already lost the exact value."""
    with pytest.raises(TypeError):
        to_pence(0.1)
    with pytest.raises(TypeError):
        from_pence(1.0)
    with pytest.raises(TypeError):
        apportion(100, [1.5, 2])


def test_format_gbp():
    """Amounts print as pounds with thousands separators, negatives with a leading minus."""
    assert format_gbp(123456) == "£1,234.56"
    assert format_gbp(-1200) == "-£12.00"
    assert format_gbp(5) == "£0.05"


def test_apportion_known_cases():
    """Worked examples: leftover pennies go to the largest remainders, ties to the larger weight then earlier."""
    assert apportion(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion(-100, [1, 1, 1]) == [-34, -33, -33]
    assert apportion(10, [0, 5, 0, 5]) == [0, 5, 0, 5]
    assert apportion(1, [1, 2]) == [0, 1]
    assert apportion(0, [0, 0]) == [0, 0]
    # a 2.9% fee of £151.00 shared by councils selling £100, £50 and £1
    assert apportion(438, [10000, 5000, 100]) == [290, 145, 3]


def test_apportion_rejects_nonsense():
    """Negative weights, or a non-zero total over all-zero weights, are errors, not silent zeros."""
    with pytest.raises(ValueError):
        apportion(100, [1, -1])
    with pytest.raises(ValueError):
        apportion(100, [0, 0])


@given(total=totals, weights=weights_strategy)
def test_apportion_sums_to_total(total, weights):
    """Whatever the total and weights, the shares add up exactly to the total."""
    assert sum(apportion(total, weights)) == total


@given(total=totals, weights=weights_strategy)
def test_apportion_each_share_within_a_penny_of_exact(total, weights):
    """Each share is within one penny of its exact proportion, and zero weights get nothing."""
    weight_sum = sum(weights)
    for weight, share in zip(weights, apportion(total, weights), strict=True):
        exact = Fraction(total * weight, weight_sum)
        assert abs(share - exact) < 1
        if weight == 0:
            assert share == 0


@given(total=totals, weights=weights_strategy, data=st.data())
def test_apportion_is_order_independent_up_to_ties(total, weights, data):
    """Permuting the weights permutes the shares; only parts with equal weights may swap pennies."""
    permuted = data.draw(st.permutations(weights))
    original = sorted(zip(weights, apportion(total, weights), strict=True))
    shuffled = sorted(zip(permuted, apportion(total, permuted), strict=True))
    assert original == shuffled


@given(total=totals, weights=weights_strategy)
def test_apportion_negative_total_mirrors_positive(total, weights):
    """Splitting a refund mirrors splitting the payment: apportion(-t) == -apportion(t)."""
    assert apportion(-total, weights) == [-share for share in apportion(total, weights)]


def test_vat_labels_and_rates():
    """Each treatment prints the label a UK VAT invoice needs, exempt lines saying so."""
    assert vat_label(VatTreatment.STANDARD) == "20%"
    assert vat_label(VatTreatment.ZERO) == "0%"
    assert vat_label(VatTreatment.EXEMPT) == "Exempt"
    assert vat_label(VatTreatment.OUTSIDE_SCOPE) == "Outside the scope of VAT"
    assert vat_rate(VatTreatment.STANDARD) == Decimal("0.20")


def test_vat_on_net_rounds_half_up():
    """VAT on a line is rounded half up to the penny, symmetrically for credits."""
    assert vat_on_net(1234, Decimal("0.20")) == 247  # 246.8
    assert vat_on_net(1, Decimal("0.05")) == 0  # 0.05
    assert vat_on_net(10, Decimal("0.05")) == 1  # 0.5 rounds up
    assert vat_on_net(-10, Decimal("0.05")) == -1
    assert vat_on_net(-1234, Decimal("0.20")) == -247


@given(gross=st.integers(min_value=-10_000_000, max_value=10_000_000), treatment=st.sampled_from(VatTreatment))
def test_split_gross_sums_exactly(gross, treatment):
    """A VAT-inclusive amount splits into net and VAT that add back to it exactly, VAT within a penny of exact."""
    rate = vat_rate(treatment)
    split = split_gross(gross, rate)
    assert split.net_pence + split.vat_pence == gross == split.gross_pence
    assert abs(Fraction(split.vat_pence) - Fraction(split.net_pence) * Fraction(rate)) <= 1


@given(net=st.integers(min_value=-10_000_000, max_value=10_000_000), treatment=st.sampled_from(VatTreatment))
def test_split_net_adds_up(net, treatment):
    """Net plus VAT is the gross, and exempt or zero-rated lines carry no VAT."""
    split = split_net(net, vat_rate(treatment))
    assert split.gross_pence == net + split.vat_pence
    if treatment in (VatTreatment.EXEMPT, VatTreatment.ZERO, VatTreatment.OUTSIDE_SCOPE):
        assert split.vat_pence == 0


def test_vat_codes_match_the_catalogue():
    """Billing's VAT treatments are the catalogue's: same codes, rates and printed labels (lines snapshot them)."""
    from catalogue import pricing

    assert {t.value for t in VatTreatment} == set(pricing.VAT_RATES)
    for treatment in VatTreatment:
        assert vat_rate(treatment) == pricing.VAT_RATES[treatment.value]
        assert vat_label(treatment) == pricing.VAT_LABELS[treatment.value]
