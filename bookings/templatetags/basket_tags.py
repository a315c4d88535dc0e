"""Template helpers of the basket and checkout pages, and the add-to-basket panel of service pages."""

from django import template

from catalogue.models import ServiceKind
from catalogue.pricing import VAT_LABELS, format_money

register = template.Library()


@register.filter
def money(value):
    """£1,234.50 from a Decimal (empty for None)."""
    return format_money(value)


@register.filter
def vat_label(treatment: str) -> str:
    """How a VAT treatment is printed against a line: "Exempt", "20%"..."""
    return VAT_LABELS.get(treatment, treatment)


@register.inclusion_tag("bookings/includes/add_to_basket.html", takes_context=True)
def add_to_basket(context, page):
    """The "Book" panel of a service page: dates with places left, terms on sale, or a quantity box.

    Signed-out visitors are asked to sign in; signed-in users without a school are pointed at joining one.
    """
    from ..services.basket import terms_on_sale
    from ..views.basket import bookable_dates, date_label, user_schools

    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    schools = user_schools(user) if signed_in else []
    panel = {"page": page, "request": request, "signed_in": signed_in, "schools": schools, "kind": page.kind}
    if page.kind == ServiceKind.COURSE:
        panel["dates"] = [(d, date_label(d)) for d in bookable_dates(page)]
    elif page.kind == ServiceKind.SUBSCRIPTION:
        specific = page.specific
        panel["terms"] = [(t, specific.term_end(t)) for t in terms_on_sale(service=specific)]
    else:
        panel["unit_plural"] = page.specific.unit_label(2)
    return panel
