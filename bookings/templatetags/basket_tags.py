"""Template helpers of the basket and checkout pages, and the add-to-basket panel of service pages."""

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html

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


@register.simple_tag(takes_context=True)
def waiting_list_link(context, course_date):
    """A "Join the waiting list" link for a full date that is still open, for a signed-in member of a school;
    empty for anyone else (the service page's dates table shows it next to the "Full" tag)."""
    from ..services.waiting_list import join_refusal
    from ..views.basket import user_schools

    request = context.get("request")
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated) or course_date.places_left > 0:
        return ""
    # Asked once per page, however many dates are full.
    if not hasattr(request, "_bookings_school_member"):
        request._bookings_school_member = bool(user_schools(user))
    if not request._bookings_school_member or join_refusal(course_date=course_date) is not None:
        return ""
    url = reverse("bookings:waiting_list_join", kwargs={"course_date_id": course_date.pk})
    when = dateformat.format(timezone.localtime(course_date.starts_at), "j F Y")
    return format_html(
        '<a class="govuk-link" href="{}">Join the waiting list<span class="govuk-visually-hidden"> for {}</span></a>',
        url,
        when,
    )
