"""What's on (/services/whats-on/): upcoming course dates with places left, by council and month."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from catalogue.whats_on import PER_PAGE, month_options, places_text
from tests.catalogue.listing_builders import catalogue_tree, course_date, service, venue

pytestmark = pytest.mark.django_db

URL = "/services/whats-on/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def rows(response) -> list[tuple[str, str]]:
    """(course title, places) for each table row."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', response.text, flags=re.S)
    found = re.findall(
        r'<a class="govuk-link" href="[^"]+">([^<]+)</a>.*?<td class="govuk-table__cell">[^<]*</td>\s*'
        r'<td class="govuk-table__cell">(.*?)</td>',
        body.group(1) if body else "",
        flags=re.S,
    )
    return [(title, re.sub(r"<[^>]+>", "", places).strip()) for title, places in found]


@pytest.fixture
def courses():
    _, providers = catalogue_tree()
    staffs, shrops = providers["staffordshire"], providers["shropshire"]
    hall = venue(staffs, "Shire Hall", "Stafford")
    first_aid = service(staffs, "Paediatric first aid")
    governors = service(shrops, "Chairing the governing board")
    draft = service(shrops, "Unpublished course", live=False)
    course_date(first_aid, days_ahead=3, venue=hall, capacity=12, places_taken=9)
    course_date(first_aid, days_ahead=1, venue=hall, capacity=12, places_taken=12)
    course_date(first_aid, days_ahead=-2, venue=hall)  # past
    course_date(governors, days_ahead=2, capacity=30, places_taken=29)  # online
    course_date(governors, days_ahead=4, status="cancelled")
    course_date(draft, days_ahead=2)
    return {"first_aid": first_aid, "governors": governors}


def test_lists_upcoming_scheduled_dates_soonest_first(client, courses):
    """Scheduled future dates of live courses, soonest first, each with places left or Full."""
    response = client.get(URL)
    assert response.status_code == 200
    assert rows(response) == [
        ("Paediatric first aid", "Full"),
        ("Chairing the governing board", "1 place left"),
        ("Paediatric first aid", "3 places left"),
    ]
    assert "3 course dates" in response.text
    assert "Online" in response.text and "Shire Hall, Stafford" in response.text


def test_filter_by_council(client, courses):
    """Choosing a council shows only its dates."""
    assert rows(client.get(URL, {"council": "shropshire"})) == [("Chairing the governing board", "1 place left")]


def test_filter_by_month(client, courses):
    """Choosing a month shows only the dates that start in it."""
    _, providers = catalogue_tree()
    later = service(providers["worcestershire"], "Outdoor education leader")
    when = timezone.localtime() + timedelta(days=70)
    course_date(later, starts_at=when)
    month = f"{when:%Y-%m}"
    response = client.get(URL, {"month": month})
    assert ("Outdoor education leader", "20 places left") in rows(response)
    assert all(title != "Paediatric first aid" for title, _ in rows(response))  # 67+ days earlier
    assert f"in {when:%B %Y}" in response.text


def test_pagination(client):
    """Dates come a page at a time, and page links keep the council filter."""
    _, providers = catalogue_tree()
    course = service(providers["staffordshire"], "Popular course")
    for n in range(PER_PAGE + 2):
        course_date(course, days_ahead=1 + n)
    first = client.get(URL, {"council": "staffordshire"})
    assert len(rows(first)) == PER_PAGE
    assert 'href="?council=staffordshire&amp;page=2"' in first.text
    assert len(rows(client.get(URL, {"council": "staffordshire", "page": 2}))) == 2


@pytest.mark.parametrize(
    ("params", "message", "anchor"),
    [
        ({"month": "1999-01"}, "Choose a month from the list", "id_month"),
        ({"council": "mordor"}, "Choose councils from the list", "id_council"),
        ({"page": "0"}, "The page number must be 1 or more", "id_page"),
    ],
)
def test_bad_input_gets_a_message(client, courses, params, message, anchor):
    """Unknown months, councils and pages are reported, linked to the field, and the dates are still listed."""
    response = client.get(URL, params)
    assert response.status_code == 200
    assert f'<a href="#{anchor}">{message}</a>' in response.text
    assert "<title>Error: " in response.text
    assert rows(response)


@pytest.mark.parametrize(("left", "text"), [(0, "Full"), (-1, "Full"), (1, "1 place left"), (3, "3 places left")])
def test_places_text(left, text):
    """Places left read as people say them."""
    assert places_text(left) == text


def test_month_options_cover_a_year_from_this_month():
    """The month filter offers this month and the next eleven, across the new year."""
    now = timezone.make_aware(timezone.datetime(2026, 11, 15, 12))
    options = month_options(now=now)
    assert [o.value for o in options][:3] == ["2026-11", "2026-12", "2027-01"]
    assert options[-1].value == "2027-10"
    assert options[2].label == "January 2027"


def test_anonymous_visits_are_cached_for_a_minute(client, courses, django_assert_num_queries):
    """A repeat anonymous visit is served from the cache; a booking shows once the cached copy expires."""
    first = client.get(URL)
    with django_assert_num_queries(0):
        assert client.get(URL).content == first.content
    from catalogue.models import CourseDate

    CourseDate.objects.filter(service=courses["governors"], capacity=30).update(places_taken=30)
    assert ("Chairing the governing board", "1 place left") in rows(client.get(URL))
    cache.clear()  # what the 60-second expiry does
    assert ("Chairing the governing board", "Full") in rows(client.get(URL))
