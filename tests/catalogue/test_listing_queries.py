"""The listing and What's on issue a constant number of queries however many services and dates exist."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import CourseDate, ServicePage
from tests.catalogue.listing_builders import bulk_catalogue

pytestmark = pytest.mark.django_db

PAGES = [
    "/services/",
    "/services/?sort=date",
    "/services/?sort=council&page=2",
    "/services/?q=support&council=staffordshire&council=shropshire&kind=course&category=safeguarding"
    "&phase=primary&town=Stafford&from_day=1&from_month=1&from_year=2020&to_day=1&to_month=1&to_year=2099",
    "/services/whats-on/",
    "/services/whats-on/?council=worcestershire&page=2",
]


def count_queries(client, url: str) -> int:
    cache.clear()  # measure the uncached listing
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def test_query_count_does_not_grow_with_the_catalogue(client):
    """Each listing page costs the same number of queries with 10 services as with 500 (and their dates)."""
    bulk_catalogue(10)
    small = {url: count_queries(client, url) for url in PAGES}

    bulk_catalogue(490, start_index=10)
    assert ServicePage.objects.live().count() == 500
    assert CourseDate.objects.count() >= 1000
    large = {url: count_queries(client, url) for url in PAGES}

    assert large == small
    # And the bound itself stays small: the Wagtail page route plus the listing's own handful.
    assert max(large.values()) <= 20, large
