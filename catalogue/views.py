"""Catalogue views: the listing inside the /services/ index page, and "What's on".

Both are read-only GET pages for everyone, signed in or not, and nothing in their content depends on who is
asking: anonymous visitors get them whole from the cache (``cached_for_anonymous``) and signed-in visitors a
fresh page shell around the cached listing (``listing_context``). Editors' changes and bookings show within
``LISTING_CACHE_SECONDS``. Per-user prices live on service pages, which are never cached.
"""

import hashlib
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from wagtail.views import serve as wagtail_serve

from catalogue.filters import SORTS, ListingFilterForm, WhatsOnFilterForm
from catalogue.listing import council_options, filters_from, listing_options, listing_page
from catalogue.whats_on import month_options, whats_on_page

# Editors' changes must show within a minute: the cached listing lives at most this long.
LISTING_CACHE_SECONDS = 60
LISTING_CACHE_VERSION = "1"


def _query_key(query: QueryDict) -> str:
    """The same filters in any order give the same cache key; empty values do not count."""
    items = sorted((key, value) for key, values in query.lists() for value in values if value != "")
    return hashlib.sha256(urlencode(items).encode()).hexdigest()


def query_without(query: QueryDict, *names: str) -> str:
    """The query string without the named parameters (for pagination and "clear" links)."""
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


def page_links(page, query: QueryDict) -> list[dict]:
    """GOV.UK pagination items: first, last, current and its neighbours, with ellipses between."""
    base = query_without(query, "page")
    prefix = f"?{base}&" if base else "?"
    count = page.paginator.num_pages
    wanted = sorted({1, count, page.number - 1, page.number, page.number + 1} & set(range(1, count + 1)))
    items: list[dict] = []
    previous = 0
    for number in wanted:
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "url": f"{prefix}page={number}", "current": number == page.number})
        previous = number
    return items


def pagination(page, query: QueryDict) -> dict | None:
    if page.paginator.num_pages <= 1:
        return None
    base = query_without(query, "page")
    prefix = f"?{base}&" if base else "?"
    return {
        "items": page_links(page, query),
        "previous": f"{prefix}page={page.previous_page_number()}" if page.has_previous() else "",
        "next": f"{prefix}page={page.next_page_number()}" if page.has_next() else "",
    }


def error_links(form) -> list[dict]:
    """Each error of a GET form with the id of the field it belongs to, for the error summary."""
    form.is_valid()
    links = []
    for name, errors in form.errors.items():
        anchor = f"id_{name}" if name != "__all__" else ""
        links.extend({"anchor": anchor, "message": message} for message in errors)
    return links


def _render_listing(request: HttpRequest) -> tuple[str, bool]:
    options = listing_options()
    form = ListingFilterForm(
        request.GET,
        categories=options.categories,
        councils=options.councils,
        phases=options.phases,
        kinds=options.kinds,
        towns=options.towns,
    )
    form.is_valid()
    filters = filters_from(form.cleaned_data)
    result = listing_page(filters=filters, page_number=form.cleaned_data.get("page") or 1, request=request)
    errors = error_links(form)
    context = {
        "form": form,
        "errors": errors,
        "date_errors": form.date_errors,
        "options": options,
        "listing": result,
        "sorts": [(value, label) for value, label in SORTS if value != "relevance" or filters.q],
        "pagination": pagination(result.page, request.GET),
        "clear_url": request.path,
    }
    html = render_to_string("catalogue/includes/listing.html", context, request=request)
    return html, bool(errors)


def listing_context(request: HttpRequest) -> dict:
    """The listing for the index page's template: its HTML, cached for a minute per distinct query string.

    The HTML holds no user data, no CSRF token and no messages, so one copy serves everyone. Course dates
    booked or pages published show within ``LISTING_CACHE_SECONDS``.
    """
    seconds = getattr(settings, "CATALOGUE_LISTING_CACHE_SECONDS", LISTING_CACHE_SECONDS)
    key = f"catalogue:listing:{LISTING_CACHE_VERSION}:{_query_key(request.GET)}"
    cached = cache.get(key) if seconds else None
    if cached is None:
        cached = _render_listing(request)
        if seconds:
            cache.set(key, cached, seconds)
    html, has_errors = cached
    return {"listing_html": html, "listing_has_errors": has_errors}


def cached_for_anonymous(view):
    """Serve a public page whole from the cache to visitors who are not signed in (for a minute at most).

    Keyed by view, host and query string. A visitor with a session (signed in, or holding a flash message)
    always gets a freshly rendered page, and a response that sets a cookie (e.g. a page-privacy password form
    with its CSRF token) or is not a 200 is never stored.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        seconds = getattr(settings, "CATALOGUE_LISTING_CACHE_SECONDS", LISTING_CACHE_SECONDS)
        cacheable = bool(seconds) and request.method == "GET" and settings.SESSION_COOKIE_NAME not in request.COOKIES
        key = f"catalogue:page:{LISTING_CACHE_VERSION}:{view.__name__}:{request.get_host()}:{_query_key(request.GET)}"
        if cacheable:
            content = cache.get(key)
            if content is not None:
                response = HttpResponse(content)
                patch_vary_headers(response, ["Cookie"])
                return response
        response = view(request, *args, **kwargs)
        if cacheable and response.status_code == 200:
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            if not response.cookies:
                cache.set(key, response.content, seconds)
        return response

    return wrapper


@cached_for_anonymous
def services_index(request: HttpRequest):
    """/services/, the Wagtail index page, through the anonymous page cache.

    Wagtail's routing (site, page tree, privacy) costs more than the cached listing itself, so anonymous
    visits skip it altogether; everyone else gets Wagtail's own serve (with the listing's HTML cached).
    """
    return wagtail_serve(request, request.path_info.lstrip("/"))


@cached_for_anonymous
def whats_on(request: HttpRequest):
    """Upcoming course dates of every council, with places left; filter by council and month."""
    now = timezone.now()
    form = WhatsOnFilterForm(request.GET, councils=council_options(), months=month_options(now=now))
    form.is_valid()
    result = whats_on_page(
        councils=tuple(form.cleaned_data.get("council") or ()),
        month=form.cleaned_data.get("month") or "",
        page_number=form.cleaned_data.get("page") or 1,
        request=request,
        now=now,
    )
    context = {
        "form": form,
        "errors": error_links(form),
        "whats_on": result,
        "pagination": pagination(result.page, request.GET),
        "clear_url": request.path,
    }
    return render(request, "catalogue/whats_on.html", context)
