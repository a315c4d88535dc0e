"""``{% service_prices page %}``: a service page's price table and, for a school's staff, "Your price".

A tag rather than page context so that each kind of service page shows prices by adding one line to its
template; the work is done by the selectors in ``catalogue/prices.py``.
"""

from django import template

from catalogue.prices import service_prices as service_prices_context

register = template.Library()


@register.inclusion_tag("catalogue/includes/prices.html", takes_context=True)
def service_prices(context, page):
    return service_prices_context(service=page, request=context["request"])
