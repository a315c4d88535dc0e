"""Money as integer pence: conversions, rounding, and splitting a whole into parts that sum to it exactly.

Every amount the portal stores is an ``int`` of pence (or a ``Decimal`` with two places at the edges: forms,
CSV, PDFs). Floats are refused outright: 0.1 + 0.2 is not 0.3, and finance must be able to trust every penny.

``apportion`` is the one way a whole is split (card fees across councils, a payment across invoices, a refund
across lines): the largest-remainder method, so the parts always add back to the whole, each part is within a
penny of its exact share, and ties are broken the same way every time.
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

TWO_PLACES = Decimal("0.01")
PENCE_PER_POUND = 100


def _as_decimal(amount: Decimal | int | str) -> Decimal:
    if isinstance(amount, (bool, float)):
        # bool is an int subclass; a float has already lost the exact value we would need.
        raise TypeError(f"money must be Decimal, int or str, not {type(amount).__name__}")
    if isinstance(amount, Decimal):
        return amount
    return Decimal(amount)


def quantize(amount: Decimal | int | str) -> Decimal:
    """Round to two places, halves away from zero (the rounding HMRC allows and schools expect)."""
    return _as_decimal(amount).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def to_pence(amount: Decimal | int | str) -> int:
    """Pounds (``Decimal('12.345')``, ``'12.34'``, ``12``) to whole pence, rounding half up: 1235."""
    return int(quantize(amount) * PENCE_PER_POUND)


def from_pence(pence: int) -> Decimal:
    """Whole pence to pounds with exactly two places: 1235 -> ``Decimal('12.35')``."""
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError(f"pence must be an int, not {type(pence).__name__}")
    return (Decimal(pence) / PENCE_PER_POUND).quantize(TWO_PLACES)


def round_pence(amount: Decimal) -> int:
    """A fractional number of pence (e.g. 2.5 days at 333p) to whole pence, halves away from zero."""
    return int(_as_decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_gbp(pence: int) -> str:
    """``123456`` -> ``'£1,234.56'``; negatives as ``'-£12.00'``."""
    pounds = from_pence(pence)
    sign = "-" if pounds < 0 else ""
    return f"{sign}£{abs(pounds):,.2f}"


def apportion(total_pence: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_pence`` in proportion to ``weights``; the parts always sum exactly to the total.

    Largest remainder (Hamilton) method, in integers so nothing is lost to rounding: each part first gets the
    floor of its exact share, then the pennies left over go one each to the parts with the largest remainders.
    Ties go to the larger weight, then to the earlier position, so the result is deterministic and does not
    depend on the order of the weights except between parts with equal weights.

    A zero weight always gets zero. A negative total (a refund, a credit) is split as its absolute value and
    negated, so a refund of a split payment mirrors the split of the payment. Weights must be non-negative;
    if they are all zero only a zero total can be split.
    """
    if not isinstance(total_pence, int) or isinstance(total_pence, bool):
        raise TypeError("total_pence must be an int")
    weights = list(weights)
    if any(not isinstance(w, int) or isinstance(w, bool) for w in weights):
        raise TypeError("weights must be ints (pence or counts)")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total_pence == 0:
            return [0] * len(weights)
        raise ValueError("cannot apportion a non-zero total over weights that are all zero")

    sign = -1 if total_pence < 0 else 1
    total = abs(total_pence)
    shares = []
    remainders = []
    for index, weight in enumerate(weights):
        share, remainder = divmod(total * weight, weight_sum)
        shares.append(share)
        remainders.append((remainder, weight, -index))
    leftover = total - sum(shares)
    # Exactly `leftover` parts (< number of non-zero weights) get one more penny: those with the largest
    # remainders. A zero weight has remainder 0 and can only be picked if every remainder is 0, which
    # cannot happen while pennies are left over.
    by_remainder = sorted(range(len(weights)), key=lambda i: remainders[i], reverse=True)
    for index in by_remainder[:leftover]:
        shares[index] += 1
    return [sign * share for share in shares]
