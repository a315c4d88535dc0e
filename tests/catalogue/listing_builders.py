"""Builders for catalogue trees used by the listing, search, What's on and pricing-page tests and the benchmark.

Plain functions over the real models (Wagtail pages are added with ``add_child`` and published, so the
search index is filled the way a publish fills it).
"""

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import cycle

from django.test import override_settings
from django.utils import timezone
from wagtail.search.backends import get_search_backend

from catalogue.models import (
    CatalogueIndexPage,
    Category,
    CourseDate,
    CourseServicePage,
    OneOffServicePage,
    Phase,
    PriceRule,
    ProviderPage,
    SubscriptionServicePage,
    Venue,
)
from portal.councils import ensure_partnership_councils
from portal.models import HomePage

KIND_MODELS = {
    "course": CourseServicePage,
    "subscription": SubscriptionServicePage,
    "one_off": OneOffServicePage,
}


def catalogue_tree() -> tuple[CatalogueIndexPage, dict[str, ProviderPage]]:
    """The index at /services/ and one provider page per partnership council (created once)."""
    councils = ensure_partnership_councils()
    index = CatalogueIndexPage.objects.first()
    if index is None:
        index = CatalogueIndexPage(title="Services for schools", slug="services", intro="Find services.")
        HomePage.objects.get().add_child(instance=index)
    providers = {}
    for slug, council in councils.items():
        provider = ProviderPage.objects.filter(council=council).first()
        if provider is None:
            provider = ProviderPage(title=f"{council.short_name} services", slug=council.slug, council=council)
            index.add_child(instance=provider)
        providers[slug] = provider
    return index, providers


def category(name: str) -> Category:
    slug = name.lower().replace(" ", "-")
    return Category.objects.get_or_create(slug=slug, defaults={"name": name})[0]


def venue(provider: ProviderPage, name: str, town: str) -> Venue:
    return Venue.objects.get_or_create(
        council=provider.council,
        name=name,
        defaults={"address_line_1": "1 High Street", "town": town, "postcode": "ST1 1AA"},
    )[0]


def service(
    provider: ProviderPage,
    title: str,
    *,
    kind: str = "course",
    summary: str = "",
    categories=(),
    phases=(),
    vat_treatment: str = "exempt",
    live: bool = True,
    **fields,
):
    """A published service page of the given kind under a provider page."""
    page = KIND_MODELS[kind](
        title=title,
        summary=summary or f"About {title}.",
        vat_treatment=vat_treatment,
        live=live,
        **fields,
    )
    provider.add_child(instance=page)
    if categories or phases:
        page.categories.set([category(c) if isinstance(c, str) else c for c in categories])
        page.phases.set(list(Phase.objects.filter(code__in=phases)))
        page.save()
    return page


def course_date(
    course: CourseServicePage,
    *,
    days_ahead: float = 10,
    starts_at: datetime | None = None,
    venue: Venue | None = None,
    capacity: int = 20,
    places_taken: int = 0,
    status: str = "scheduled",
    price_override: Decimal | None = None,
) -> CourseDate:
    start = starts_at or (timezone.now() + timedelta(days=days_ahead)).replace(microsecond=0)
    return CourseDate.objects.create(
        service=course,
        starts_at=start,
        ends_at=start + timedelta(hours=6),
        venue=venue,
        online_details="" if venue else "Microsoft Teams; joining details a week before.",
        capacity=capacity,
        places_taken=places_taken,
        status=status,
        price_override=price_override,
    )


def price_rule(page, kind: str = "flat", **fields) -> PriceRule:
    for name in ("amount", "rate_per_pupil", "minimum", "maximum"):
        if isinstance(fields.get(name), str | int):
            fields[name] = Decimal(str(fields[name]))
    rule = PriceRule(service=page, kind=kind, **fields)
    rule.full_clean()
    rule.save()
    return rule


NO_AUTO_INDEX = {"default": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False}}
TOWNS = {
    "staffordshire": ["Stafford", "Lichfield"],
    "shropshire": ["Shrewsbury", "Telford"],
    "worcestershire": ["Worcester", "Kidderminster"],
}


def bulk_catalogue(count: int, *, dates_per_course: int = 4, start_index: int = 0, title_prefix: str = "Service"):
    """``count`` services spread over the three councils and kinds; courses get dates at several venues.

    Half the services are courses, each with ``dates_per_course`` dates (bulk-inserted), a third of them online.
    """
    _, providers = catalogue_tree()
    venues = {
        p.council_id: [venue(p, f"{p.council.short_name} Centre {n}", town) for n, town in enumerate(TOWNS[slug])]
        for slug, p in providers.items()
    }
    cats = [category(n) for n in ("Safeguarding", "Governance", "Human resources", "Finance", "Curriculum")]
    phase_codes = cycle([("primary",), ("secondary",), ("primary", "secondary"), ()])
    kinds = cycle(["course", "course", "subscription", "one_off"])
    provider_cycle = cycle(list(providers.values()))
    numbered = []
    # Indexing page by page costs O(n²) on PostgreSQL (the backend renormalises every title on each insert):
    # create the pages unindexed, then index them in one batch per page type.
    with override_settings(WAGTAILSEARCH_BACKENDS=NO_AUTO_INDEX):
        for n in range(start_index, start_index + count):
            page = service(
                next(provider_cycle),
                f"{title_prefix} {n:04d}",
                kind=next(kinds),
                summary=f"Support number {n} for schools.",
                categories=[cats[n % len(cats)]],
                phases=next(phase_codes),
            )
            numbered.append((n, page))
    backend = get_search_backend()
    for model in KIND_MODELS.values():
        backend.add_bulk(model, [page for _, page in numbered if isinstance(page, model)])

    now = timezone.now().replace(microsecond=0)
    dates = []
    for n, page in numbered:
        if page.kind != "course":
            continue
        for d in range(dates_per_course):
            start = now + timedelta(days=3 + (n * 7 + d * 11) % 180, hours=d)
            online = d % 3 == 0
            dates.append(
                CourseDate(
                    service=page,
                    council_id=page.council_id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=6),
                    venue=None if online else venues[page.council_id][d % 2],
                    online_details="Online" if online else "",
                    capacity=20,
                    places_taken=(n + d) % 21,
                )
            )
    CourseDate.objects.bulk_create(dates, batch_size=500)
    return [page for _, page in numbered]
