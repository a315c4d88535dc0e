"""Free-text search in the listing, through Wagtail's database search backend.

On SQLite the backend is SQLite FTS5; on PostgreSQL it is PostgreSQL full-text search. The same behaviour is
checked on both (run with DATABASE_URL set for the PostgreSQL one).
"""

import pytest
from django.core.cache import cache
from django.db import connection

from catalogue.listing import ServiceFilters, listing_page, search_ids
from tests.catalogue.listing_builders import catalogue_tree, service
from tests.catalogue.test_listing import titles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pages():
    _, providers = catalogue_tree()
    return {
        "dsl": service(
            providers["staffordshire"],
            "Designated safeguarding lead training",
            summary="Two days for new DSLs: child protection, referrals and record keeping.",
            categories=["Safeguarding"],
        ),
        "refresher": service(
            providers["shropshire"],
            "Safeguarding refresher for all staff",
            summary="A twilight update on keeping children safe in education.",
            categories=["Safeguarding"],
        ),
        "payroll": service(
            providers["worcestershire"],
            "Payroll SLA",
            kind="subscription",
            summary="Monthly payroll for school staff, pensions returns and year-end.",
            categories=["Finance"],
        ),
        "music": service(
            providers["shropshire"],
            "Music service: whole-class instrumental teaching",
            kind="one_off",
            summary="Wider opportunities tuition for a class, a term at a time.",
            categories=["Curriculum"],
        ),
        "draft": service(providers["staffordshire"], "Safeguarding draft", live=False),
    }


def backend_name() -> str:
    from wagtail.search.backends import get_search_backend

    return type(get_search_backend()).__name__


def test_backend_matches_the_database():
    """The database backend picks PostgreSQL full-text search on PostgreSQL and SQLite FTS on SQLite."""
    expected = {"postgresql": "PostgresSearchBackend", "sqlite": "SQLiteSearchBackend"}[connection.vendor]
    assert backend_name() == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("payroll", ["Payroll SLA"]),
        ("PAYROLL", ["Payroll SLA"]),
        ("pensions", ["Payroll SLA"]),  # found in the summary
        ("instrumental teaching", ["Music service: whole-class instrumental teaching"]),
        ("safeguarding", ["Designated safeguarding lead training", "Safeguarding refresher for all staff"]),
        ("safeguarding refresher", ["Safeguarding refresher for all staff"]),  # every word must match
        ("astronomy", []),
    ],
)
def test_search_finds_live_services_by_title_and_summary(client, pages, query, expected):
    """Search matches words in titles and summaries, ignores case, needs every word, and skips drafts."""
    response = client.get("/services/", {"q": query, "sort": "title"})
    assert response.status_code == 200
    assert titles(response) == expected


def test_search_combines_with_filters(client, pages):
    """A search term and a council filter both apply."""
    response = client.get("/services/", {"q": "safeguarding", "council": "shropshire"})
    assert titles(response) == ["Safeguarding refresher for all staff"]


def test_search_results_are_ranked_by_relevance_by_default(pages):
    """Without a chosen sort, search results come best match first (as the backend ranks them)."""
    ids = search_ids("safeguarding")
    result = listing_page(filters=ServiceFilters(q="safeguarding", sort="relevance"))
    assert [r.id for r in result.results] == [pk for pk in ids if pk in {r.id for r in result.results}]
    assert set(ids) == {pages["dsl"].pk, pages["refresher"].pk}


def test_search_offers_best_match_sort_only_with_a_term(client, pages):
    """ "Best match" is a sort option only when there is something to match."""
    assert '<option value="relevance"' not in client.get("/services/").text
    assert '<option value="relevance" selected>' in client.get("/services/", {"q": "payroll"}).text


@pytest.mark.parametrize("query", ['"', "safeguarding AND", "(((", "' OR 1=1 --", "child*", "ü€ß", "a" * 200])
def test_odd_search_input_never_breaks_the_page(client, pages, query):
    """Quotes, operators, punctuation and long words are searched as text, never a server error."""
    response = client.get("/services/", {"q": query})
    assert response.status_code == 200


def test_overlong_search_gets_a_message(client, pages):
    """A search over 200 characters is refused with a message linked to the search box."""
    response = client.get("/services/", {"q": "a" * 201})
    assert response.status_code == 200
    assert '<a href="#id_q">Search for something shorter than 200 characters</a>' in response.text


@pytest.mark.postgres
def test_postgres_full_text_search_stems_words(client, pages):
    """PostgreSQL full-text search matches word forms ("refreshers" finds "refresher")."""
    assert titles(client.get("/services/", {"q": "refreshers"})) == ["Safeguarding refresher for all staff"]
