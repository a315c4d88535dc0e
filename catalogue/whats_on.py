"""Selectors for "What's on": upcoming scheduled course dates of live courses, with places left.

A page of dates is two queries (the count and the page, with the course, its council and venue joined in),
plus one for Wagtail's page privacy rules, however many dates exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db.models import F
from django.utils import timezone
from django.utils.dateformat import format as format_date

from catalogue.filters import Option
from catalogue.models import CourseDate, CourseDateStatus, ServicePage

PER_PAGE = 25
MONTHS_AHEAD = 12


@dataclass(frozen=True)
class DateRow:
    id: int
    starts_at: datetime
    ends_at: datetime
    title: str
    url: str
    council: str
    where: str
    places_left: int

    @property
    def places_text(self) -> str:
        return places_text(self.places_left)

    @property
    def is_full(self) -> bool:
        return self.places_left <= 0


@dataclass
class WhatsOnPage:
    rows: list[DateRow]
    page: PaginatorPage
    total: int
    month_label: str = ""


def places_text(left: int | None) -> str:
    """ "Full", "1 place left", "12 places left"."""
    if left is None:
        return ""
    if left <= 0:
        return "Full"
    return f"{left} place left" if left == 1 else f"{left} places left"


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def month_options(*, now: datetime) -> list[Option]:
    """This month and the next eleven, as "2026-11" / "November 2026"."""
    today = timezone.localtime(now).date()
    months = [_month_start(today.year, today.month + offset) for offset in range(MONTHS_AHEAD)]
    return [Option(f"{m:%Y-%m}", format_date(m, "F Y")) for m in months]


def _month_bounds(value: str) -> tuple[datetime, datetime]:
    year, month = (int(part) for part in value.split("-"))
    start = _month_start(year, month)
    end = _month_start(year, month + 1)
    return (
        timezone.make_aware(datetime.combine(start, time.min)),
        timezone.make_aware(datetime.combine(end, time.min)),
    )


def upcoming_course_dates(*, councils: tuple[str, ...] = (), month: str = "", now: datetime | None = None):
    """Scheduled dates of live, public courses from now on, soonest first."""
    now = now or timezone.now()
    dates = (
        CourseDate.objects.filter(
            status=CourseDateStatus.SCHEDULED,
            starts_at__gte=now,
            service__in=ServicePage.objects.live().public().values("pk"),
        )
        .select_related("service", "council", "venue")
        .only(
            "id",
            "starts_at",
            "ends_at",
            "capacity",
            "places_taken",
            "service__title",
            "service__url_path",
            "council__short_name",
            "venue__name",
            "venue__town",
        )
        .annotate(left=F("capacity") - F("places_taken"))
        .order_by("starts_at", "id")
    )
    if councils:
        dates = dates.filter(council__slug__in=councils)
    if month:
        start, end = _month_bounds(month)
        dates = dates.filter(starts_at__gte=max(start, now), starts_at__lt=end)
    return dates


def whats_on_page(
    *,
    councils: tuple[str, ...] = (),
    month: str = "",
    page_number: int = 1,
    request=None,
    now: datetime | None = None,
    per_page: int = PER_PAGE,
) -> WhatsOnPage:
    paginator = Paginator(upcoming_course_dates(councils=councils, month=month, now=now), per_page)
    page = paginator.get_page(page_number)
    rows = [
        DateRow(
            id=row.pk,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            title=row.service.title,
            url=row.service.get_url(request=request) or row.service.url_path,
            council=row.council.short_name,
            where=f"{row.venue.name}, {row.venue.town}" if row.venue_id else "Online",
            places_left=max(row.left, 0),
        )
        for row in page.object_list
    ]
    month_label = ""
    if month:
        year, number = (int(part) for part in month.split("-"))
        month_label = format_date(_month_start(year, number), "F Y")
    return WhatsOnPage(rows=rows, page=page, total=paginator.count, month_label=month_label)
