"""Selectors for the catalogue listing at /services/: filters, free-text search, sorting and pagination.

The listing issues the same number of queries however many services and course dates exist: the options
for the filter form (one query each), the search (one, when there is a search term), the count and the page
of results (one each; the next course date and the number of upcoming dates are aggregates in the same SQL),
then, for the services on that page only, their categories and the places left on their next dates (one
query each).
``tests/catalogue/test_listing_queries.py`` holds it to that with 10 and 500 services.

Search goes through Wagtail's search backend (``wagtail.search.backends.database``), which uses PostgreSQL
full-text search on PostgreSQL and SQLite FTS5 on SQLite. The backend only returns the ids of matching live
services, best match first; every other filter is plain ORM on top of those ids, so no filter needs to be
declared to the search index.

Course-date filters look only at scheduled, upcoming dates: "between two dates" and "town" keep the services
with at least one such date in the range / at a venue in that town, and the "next date" shown is the first
date that meets them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, F, IntegerField, Min, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.utils import timezone
from wagtail.search.query import PlainText

from catalogue.filters import DEFAULT_SORT, Option
from catalogue.models import Category, CourseDate, CourseDateStatus, Phase, ServiceKind, ServicePage, Venue
from portal.models import Council

PER_PAGE = 20
# A search term matching more services than this is too vague to rank usefully; the listing says so.
MAX_SEARCH_HITS = 1000
ONLINE = "online"


@dataclass(frozen=True)
class ListingOptions:
    """What the filter form offers, each as value (slug or code) and label."""

    categories: list[Option]
    councils: list[Option]
    phases: list[Option]
    kinds: list[Option]
    towns: list[Option]


@dataclass(frozen=True)
class ServiceFilters:
    q: str = ""
    categories: tuple[str, ...] = ()
    councils: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    town: str = ""
    sort: str = DEFAULT_SORT

    @property
    def filters_dates(self) -> bool:
        return bool(self.date_from or self.date_to or self.town)

    @property
    def active(self) -> bool:
        return bool(self.q or self.categories or self.councils or self.phases or self.kinds or self.filters_dates)


@dataclass(frozen=True)
class ServiceResult:
    """One service as the listing shows it."""

    id: int
    title: str
    url: str
    summary: str
    council: str
    kind: str
    kind_label: str
    categories: list[str]
    next_date: datetime | None
    next_date_places_left: int | None
    upcoming_dates: int

    @property
    def more_dates(self) -> int:
        return max(self.upcoming_dates - 1, 0)

    @property
    def is_course(self) -> bool:
        return self.kind == ServiceKind.COURSE


@dataclass
class ListingPage:
    results: list[ServiceResult]
    page: PaginatorPage
    total: int
    too_many_hits: bool = False
    filters: ServiceFilters = field(default_factory=ServiceFilters)


def council_options() -> list[Option]:
    councils = Council.objects.order_by("short_name").values_list("slug", "short_name")
    return [Option(slug, name) for slug, name in councils]


def listing_options() -> ListingOptions:
    """The filter form's options: four small queries, whatever the size of the catalogue."""
    return ListingOptions(
        categories=[Option(slug, name) for slug, name in Category.objects.values_list("slug", "name")],
        councils=council_options(),
        phases=[Option(code, name) for code, name in Phase.objects.values_list("code", "name")],
        kinds=[Option(value, label) for value, label in ServiceKind.choices],
        towns=[
            *[
                Option(town, town)
                for town in Venue.objects.order_by(Lower("town")).values_list("town", flat=True).distinct()
            ],
            Option(ONLINE, "Online"),
        ],
    )


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _date_conditions(*, filters: ServiceFilters, now: datetime, prefix: str = "") -> Q:
    """Which course dates count: scheduled, from now on, inside the date range and in the town asked for."""
    start = max(now, _aware(filters.date_from)) if filters.date_from else now
    conditions = Q(**{f"{prefix}status": CourseDateStatus.SCHEDULED, f"{prefix}starts_at__gte": start})
    if filters.date_to:
        conditions &= Q(**{f"{prefix}starts_at__lt": _aware(filters.date_to + timedelta(days=1))})
    if filters.town == ONLINE:
        conditions &= Q(**{f"{prefix}venue__isnull": True})
    elif filters.town:
        conditions &= Q(**{f"{prefix}venue__town__iexact": filters.town})
    return conditions


def upcoming_dates(*, filters: ServiceFilters, now: datetime) -> QuerySet[CourseDate]:
    """Scheduled course dates from now on that meet the listing's date and town filters."""
    return CourseDate.objects.filter(_date_conditions(filters=filters, now=now))


def search_terms(query: str) -> str:
    """The words of a search, lower-cased, without punctuation.

    The backends pass text on to the database's own query syntax (SQLite FTS5 fails on a lone double quote,
    and reads AND, OR and NOT as operators), so only words go through.
    """
    return " ".join(re.findall(r"\w+", query.lower()))


def search_ids(query: str) -> list[int]:
    """Ids of live services matching every word of a search, best match first (one query, Wagtail backend)."""
    terms = search_terms(query)
    if not terms:
        return []
    hits = ServicePage.objects.live().only("id").search(PlainText(terms, operator="and"))[:MAX_SEARCH_HITS]
    return [hit.pk for hit in hits]


# From a service to its course dates (through the course page's own table).
DATES_OF_SERVICE = "courseservicepage__dates__"


def services(*, filters: ServiceFilters, now: datetime | None = None, ids: list[int] | None = None) -> QuerySet:
    """Live, public services matching ``filters`` (all but the search term, which ``ids`` stands for),
    annotated with their next date and number of upcoming dates, in the asked order.

    The date figures are aggregates over one join to the dates (a single pass, grouped by service) rather
    than a subquery per service, so sorting by date stays cheap however many services there are.
    """
    now = now or timezone.now()
    counted = _date_conditions(filters=filters, now=now, prefix=DATES_OF_SERVICE)
    queryset = (
        ServicePage.objects.live()
        .public()
        .select_related("council")
        .only("id", "title", "url_path", "summary", "kind", "council__short_name", "council__slug")
        .annotate(
            next_date=Min(f"{DATES_OF_SERVICE}starts_at", filter=counted),
            upcoming_dates=Count(f"{DATES_OF_SERVICE}id", filter=counted),
        )
    )
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    if filters.councils:
        queryset = queryset.filter(council__slug__in=filters.councils)
    if filters.kinds:
        queryset = queryset.filter(kind__in=filters.kinds)
    if filters.categories:
        queryset = queryset.filter(
            Exists(Category.objects.filter(services=OuterRef("pk"), slug__in=filters.categories))
        )
    if filters.phases:
        # A service tagged with no phase suits every phase.
        queryset = queryset.filter(
            Exists(Phase.objects.filter(services=OuterRef("pk"), code__in=filters.phases))
            | ~Exists(Phase.objects.filter(services=OuterRef("pk")))
        )
    if filters.filters_dates:
        dates = upcoming_dates(filters=filters, now=now).filter(service_id=OuterRef("pk"))
        queryset = queryset.filter(Exists(dates))
    return _order(queryset, filters=filters, ids=ids)


def places_left_on(*, service_ids: list[int], filters: ServiceFilters, now: datetime) -> dict[int, int]:
    """Places left on each service's next counted date, for one page of services (one query)."""
    if not service_ids:
        return {}
    rows = (
        upcoming_dates(filters=filters, now=now)
        .filter(service_id__in=service_ids)
        .order_by("service_id", "starts_at", "id")
        .values_list("service_id", "capacity", "places_taken")
    )
    left: dict[int, int] = {}
    for service_id, capacity, taken in rows:
        left.setdefault(service_id, max(capacity - taken, 0))
    return left


def _order(queryset: QuerySet, *, filters: ServiceFilters, ids: list[int] | None) -> QuerySet:
    sort = filters.sort
    if sort == "relevance" and ids:
        rank = Case(
            *[When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)], output_field=IntegerField()
        )
        return queryset.order_by(rank, "id")
    if sort == "date":
        return queryset.order_by(F("next_date").asc(nulls_last=True), Lower("title"), "id")
    if sort == "council":
        return queryset.order_by("council__short_name", Lower("title"), "id")
    return queryset.order_by(Lower("title"), "id")


def listing_page(
    *, filters: ServiceFilters, page_number: int = 1, request=None, per_page: int = PER_PAGE, now=None
) -> ListingPage:
    """One page of the listing, ready for the template."""
    now = now or timezone.now()
    ids = search_ids(filters.q) if filters.q else None
    queryset = services(filters=filters, now=now, ids=ids)
    paginator = Paginator(queryset, per_page)
    page = paginator.get_page(page_number)
    rows = list(page.object_list)
    categories = _categories_of([row.pk for row in rows])
    places = places_left_on(service_ids=[row.pk for row in rows if row.next_date], filters=filters, now=now)
    kinds = dict(ServiceKind.choices)
    results = [
        ServiceResult(
            id=row.pk,
            title=row.title,
            url=row.get_url(request=request) or row.url_path,
            summary=row.summary,
            council=row.council.short_name,
            kind=row.kind,
            kind_label=kinds.get(row.kind, row.kind),
            categories=categories.get(row.pk, []),
            next_date=row.next_date,
            next_date_places_left=places.get(row.pk),
            upcoming_dates=row.upcoming_dates,
        )
        for row in rows
    ]
    return ListingPage(
        results=results,
        page=page,
        total=paginator.count,
        too_many_hits=ids is not None and len(ids) >= MAX_SEARCH_HITS,
        filters=filters,
    )


def _categories_of(service_ids: list[int]) -> dict[int, list[str]]:
    """Category names of the given services, in one query (None when there are no services)."""
    if not service_ids:
        return {}
    through = ServicePage.categories.through
    names: dict[int, list[str]] = {}
    rows = (
        through.objects.filter(servicepage_id__in=service_ids)
        .order_by("category__name")
        .values_list("servicepage_id", "category__name")
    )
    for service_id, name in rows:
        names.setdefault(service_id, []).append(name)
    return names


def filters_from(cleaned: dict) -> ServiceFilters:
    """Filters from a ListingFilterForm's cleaned data (invalid fields are simply absent)."""
    q = cleaned.get("q") or ""
    sort = cleaned.get("sort") or ("relevance" if q else DEFAULT_SORT)
    if sort == "relevance" and not q:
        sort = DEFAULT_SORT
    return ServiceFilters(
        q=q,
        categories=tuple(cleaned.get("category") or ()),
        councils=tuple(cleaned.get("council") or ()),
        phases=tuple(cleaned.get("phase") or ()),
        kinds=tuple(cleaned.get("kind") or ()),
        date_from=cleaned.get("date_from"),
        date_to=cleaned.get("date_to"),
        town=cleaned.get("town") or "",
        sort=sort,
    )
