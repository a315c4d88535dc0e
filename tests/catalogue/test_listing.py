"""The catalogue listing at /services/: filters, sorting, pagination, bad input and its cache."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from catalogue.listing import PER_PAGE, ServiceFilters, listing_page
from tests.catalogue.listing_builders import catalogue_tree, course_date, service, venue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tree():
    """A small catalogue: courses, an SLA and a one-off service across the three councils."""
    _, providers = catalogue_tree()
    staffs, shrops, worcs = providers["staffordshire"], providers["shropshire"], providers["worcestershire"]
    stafford = venue(staffs, "Shire Hall", "Stafford")
    telford = venue(shrops, "Telford Centre", "Telford")
    pages = {
        "dsl": service(
            staffs,
            "Designated safeguarding lead training",
            categories=["Safeguarding"],
            phases=["primary", "secondary"],
        ),
        "governor": service(shrops, "New governor induction", categories=["Governance"], phases=["primary"]),
        "hr": service(worcs, "HR advice SLA", kind="subscription", categories=["Human resources"]),
        "improvement": service(
            staffs, "School improvement day", kind="one_off", categories=["Curriculum"], phases=["secondary"]
        ),
        "hidden": service(shrops, "Draft course", live=False, categories=["Safeguarding"]),
    }
    dates = {
        "dsl_soon": course_date(pages["dsl"], days_ahead=5, venue=stafford, capacity=20, places_taken=17),
        "dsl_later": course_date(pages["dsl"], days_ahead=40, venue=stafford),
        "dsl_past": course_date(pages["dsl"], days_ahead=-3, venue=stafford),
        "governor": course_date(pages["governor"], days_ahead=20, venue=telford, capacity=12, places_taken=12),
        "governor_cancelled": course_date(pages["governor"], days_ahead=2, venue=telford, status="cancelled"),
    }
    return pages, dates


def titles(response) -> list[str]:
    return re.findall(r'<h3 class="govuk-heading-m[^"]*"><a class="govuk-link" href="[^"]+">([^<]+)</a>', response.text)


def test_lists_live_services_of_all_councils(client, tree):
    """Every live service of every council is listed; drafts are not."""
    response = client.get("/services/")
    assert response.status_code == 200
    assert titles(response) == [
        "Designated safeguarding lead training",
        "HR advice SLA",
        "New governor induction",
        "School improvement day",
    ]
    assert "4 services" in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("council=shropshire", ["New governor induction"]),
        ("council=shropshire&council=worcestershire", ["HR advice SLA", "New governor induction"]),
        ("kind=subscription", ["HR advice SLA"]),
        (
            "kind=course&kind=one_off",
            ["Designated safeguarding lead training", "New governor induction", "School improvement day"],
        ),
        ("category=safeguarding", ["Designated safeguarding lead training"]),
        ("category=governance&category=curriculum", ["New governor induction", "School improvement day"]),
        # A service tagged with no phase (the SLA) suits every phase.
        ("phase=secondary", ["Designated safeguarding lead training", "HR advice SLA", "School improvement day"]),
        ("phase=primary&council=staffordshire", ["Designated safeguarding lead training"]),
        ("town=Telford", ["New governor induction"]),
        ("town=Stafford", ["Designated safeguarding lead training"]),
        ("town=online", []),
    ],
)
def test_filters(client, tree, query, expected):
    """Each filter narrows the list; several values of one filter widen it again (OR within, AND across)."""
    assert titles(client.get(f"/services/?{query}")) == expected


def test_date_range_keeps_services_with_a_scheduled_date_inside_it(client, tree):
    """Only scheduled, upcoming dates in the range count: cancelled and past dates do not."""
    today = timezone.localdate()

    def between(start, end):
        return (
            f"/services/?from_day={start.day}&from_month={start.month}&from_year={start.year}"
            f"&to_day={end.day}&to_month={end.month}&to_year={end.year}"
        )

    assert titles(client.get(between(today, today + timedelta(days=10)))) == ["Designated safeguarding lead training"]
    assert titles(client.get(between(today + timedelta(days=15), today + timedelta(days=25)))) == [
        "New governor induction"
    ]
    # The cancelled governor date (in 2 days) and the past DSL date (3 days ago) are not counted.
    assert titles(client.get(between(today - timedelta(days=4), today + timedelta(days=3)))) == []


def test_next_date_shows_places_left_and_full(client, tree):
    """A course shows its next scheduled date with places left, or Full; later dates are counted."""
    text = client.get("/services/").text
    assert "3 places left" in text  # DSL: 20 - 17
    assert "and 1 more date" in text
    assert 'govuk-tag--grey">Full</strong>' in text  # governor induction: 12 of 12


def test_next_date_follows_the_date_filter(tree):
    """With a date range, the next date shown is the first one inside it."""
    pages, dates = tree
    start = (dates["dsl_later"].starts_at - timedelta(days=1)).date()
    result = listing_page(filters=ServiceFilters(date_from=start))
    (dsl,) = [r for r in result.results if r.title.startswith("Designated")]
    assert dsl.next_date == dates["dsl_later"].starts_at
    assert dsl.next_date_places_left == 20


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "title",
            [
                "Designated safeguarding lead training",
                "HR advice SLA",
                "New governor induction",
                "School improvement day",
            ],
        ),
        (
            "council",
            [
                "New governor induction",
                "Designated safeguarding lead training",
                "School improvement day",
                "HR advice SLA",
            ],
        ),
        (
            "date",
            [
                "Designated safeguarding lead training",
                "New governor induction",
                "HR advice SLA",
                "School improvement day",
            ],
        ),
    ],
)
def test_sorting(client, tree, sort, expected):
    """Title A to Z, council (then title), and soonest date (services without dates last, by title)."""
    assert titles(client.get(f"/services/?sort={sort}")) == expected


def test_pagination_keeps_the_filters(client):
    """Results come a page at a time; page links keep the other filters."""
    _, providers = catalogue_tree()
    for n in range(PER_PAGE + 3):
        service(providers["staffordshire"], f"Course {n:02d}")
    first = client.get("/services/?council=staffordshire")
    assert len(titles(first)) == PER_PAGE
    assert f"{PER_PAGE + 3} services" in first.text
    assert 'href="?council=staffordshire&amp;page=2"' in first.text
    second = client.get("/services/?council=staffordshire&page=2")
    assert titles(second) == ["Course 20", "Course 21", "Course 22"]
    assert 'aria-current="page">2</a>' in second.text
    # Past the end: the last page, not an error.
    assert titles(client.get("/services/?council=staffordshire&page=99")) == titles(second)


@pytest.mark.parametrize(
    ("query", "message", "anchor"),
    [
        ("from_day=31&from_month=2&from_year=2027", "Date from must be a real date", "id_from_day"),
        ("from_day=1&from_year=2027", "Date from must include a month", "id_from_month"),
        ("to_day=aa&to_month=3&to_year=2027", "Date to must be a real date, written in numbers", "id_to_day"),
        ("from_day=1&from_month=3&from_year=27", "Year of date from must include 4 numbers", "id_from_year"),
        (
            "from_day=10&from_month=3&from_year=2027&to_day=1&to_month=3&to_year=2027",
            "Date to must be the same as or after date from",
            "id_to_day",
        ),
        ("council=atlantis", "Choose councils from the list", "id_council"),
        ("sort=price", "Choose how to sort from the list", "id_sort"),
        ("page=two", "The page number must be a whole number", "id_page"),
        ("town=Narnia", "Choose a town from the list", "id_town"),
    ],
)
def test_bad_input_gets_a_clear_message_not_an_error(client, tree, query, message, anchor):
    """Bad filter values are reported in the error summary, linked to the field; the page still lists services."""
    response = client.get(f"/services/?{query}")
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert f'<a href="#{anchor}">{message}</a>' in response.text
    assert response.text.count("<title>Error: ") == 1
    assert re.search(r'role="status">\s*\d+ services?', response.text)  # the results are still listed


def test_valid_filters_still_apply_beside_a_bad_one(client, tree):
    """A bad date does not throw away the council filter next to it."""
    response = client.get("/services/?council=shropshire&from_day=99&from_month=1&from_year=2027")
    assert titles(response) == ["New governor induction"]


def test_a_date_range_the_wrong_way_round_filters_by_neither_date(client, tree):
    """'To' before 'from' is reported, and neither half of the range is applied; the count says so."""
    everything = titles(client.get("/services/"))
    response = client.get("/services/?from_day=10&from_month=3&from_year=2031&to_day=1&to_month=3&to_year=2031")
    assert "Date to must be the same as or after date from" in response.text
    assert titles(response) == everything
    assert "leaving out what needs correcting" in response.text


def test_form_keeps_what_was_chosen(client, tree):
    """Checked boxes, the town and typed dates are shown back to the user."""
    text = client.get("/services/?council=shropshire&town=Telford&from_day=3&from_month=4&from_year=2031").text
    assert re.search(r'value="shropshire" checked', text)
    assert '<option value="Telford" selected>' in text
    assert 'name="from_day" type="text" inputmode="numeric" value="3"' in text


def test_listing_is_cached_for_a_minute(client, tree, settings):
    """The listing HTML is cached per query string, so a change shows once the minute is up (cache expiry)."""
    pages, _ = tree
    assert "New governor induction" in titles(client.get("/services/"))
    pages["governor"].unpublish()
    assert "New governor induction" in titles(client.get("/services/"))  # still cached
    cache.clear()  # what the 60-second expiry does
    assert "New governor induction" not in titles(client.get("/services/"))


def test_cache_key_ignores_parameter_order_and_empty_values(client, tree, django_assert_max_num_queries):
    """The same filters in another order, or with empty fields, reuse the cached listing."""
    client.get("/services/?council=shropshire&kind=course")
    with django_assert_max_num_queries(8):  # the page shell only: no listing queries
        response = client.get("/services/?kind=course&council=shropshire&q=&town=")
    assert titles(response) == ["New governor induction"]


def test_works_for_signed_in_users_without_leaking_them_into_the_cache(client, tree, django_user_model):
    """The cached listing holds nothing about the user who filled the cache."""
    from tests.factories import UserFactory

    user = UserFactory(email="cached@example.org")
    client.force_login(user)
    client.get("/services/")
    client.logout()
    text = client.get("/services/").text
    assert "cached@example.org" not in text
    assert "csrfmiddlewaretoken" not in text


def test_anonymous_visitors_get_the_whole_page_from_the_cache(client, tree, django_assert_num_queries):
    """A repeat anonymous visit to the same listing is served from the cache without touching the database."""
    first = client.get("/services/?council=shropshire")
    with django_assert_num_queries(0):
        again = client.get("/services/?council=shropshire")
    assert again.content == first.content
    assert "Cookie" in again["Vary"]


def test_signed_in_visitors_are_served_fresh_pages(client, tree):
    """A signed-in visitor's page (with their Sign out link) is never served to, or from, the anonymous cache."""
    from tests.factories import UserFactory

    client.get("/services/")  # fills the anonymous cache
    client.force_login(UserFactory())
    signed_in = client.get("/services/").text
    assert "Sign out" in signed_in
    client.logout()
    assert "Sign out" not in client.get("/services/").text


def test_whats_on_and_provider_pages_are_not_shadowed(client, tree):
    """Only /services/ itself goes through the index cache; pages below it are still Wagtail's."""
    assert client.get("/services/whats-on/").status_code == 200
    assert client.get("/services/no-such-council/").status_code == 404
