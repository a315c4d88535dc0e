"""Template filters for money held in pence."""

from django import template

from billing.money import format_gbp, from_pence

register = template.Library()


@register.filter
def gbp(pence: int | None) -> str:
    """``{{ invoice.gross_pence|gbp }}`` -> '£1,120.00'."""
    return "" if pence is None else format_gbp(int(pence))


@register.filter
def pounds(pence: int | None) -> str:
    """Pence as a plain two-place amount without the currency sign: '1,120.00' (for table columns)."""
    return "" if pence is None else f"{from_pence(int(pence)):,.2f}"


@register.filter
def percent(rate) -> str:
    """A VAT rate held as a fraction (0.2000) as '20%'."""
    return f"{(rate * 100).normalize():f}%"
