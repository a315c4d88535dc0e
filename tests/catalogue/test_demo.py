"""The demo catalogue: enough realistic, published services, prices of every kind and dates; idempotent."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from catalogue import demo
from catalogue.models import Category, CourseDate, PriceRule, ServicePage, Venue
from portal.councils import ensure_partnership_councils


def _snapshot():
    return (
        sorted(ServicePage.objects.values_list("council__slug", "slug", "kind", "live")),
        sorted(
            PriceRule.objects.values_list("service__slug", "kind", "customer_type", "phase", "amount", "rate_per_pupil")
        ),
        sorted(CourseDate.objects.values_list("service__slug", "starts_at", "capacity", "places_taken", "venue__name")),
        Venue.objects.count(),
        Category.objects.count(),
    )


@pytest.mark.django_db
def test_demo_catalogue_is_rich_and_idempotent():
    """seed() publishes 60+ services of all kinds in every council, 150+ dates, every kind of price; twice = once."""
    ensure_partnership_councils()
    demo.seed(seed=2026, stdout=StringIO())
    first = _snapshot()
    demo.seed(seed=2026, stdout=StringIO())
    assert _snapshot() == first

    live = ServicePage.objects.live()
    assert live.count() >= 60
    assert set(live.values_list("council__slug", "kind")) == {
        (council, kind)
        for council in ("staffordshire", "shropshire", "worcestershire")
        for kind in ("course", "subscription", "one_off")
    }
    assert set(PriceRule.objects.values_list("kind", flat=True)) == {"flat", "per_pupil", "band", "day_rate"}
    assert PriceRule.objects.filter(subscriber_service__isnull=False).exists()
    assert set(PriceRule.objects.values_list("customer_type", flat=True)) >= {
        "own_maintained",
        "academy",
        "other_council",
    }
    for rule in PriceRule.objects.all():
        rule.full_clean()

    dates = CourseDate.objects.select_related("venue")
    now = timezone.now()
    assert dates.count() >= 150
    assert all(now < date.starts_at < now + timedelta(days=190) for date in dates)
    assert all(date.starts_at.weekday() < 5 and date.ends_at.weekday() < 5 for date in dates)
    assert sum(1 for date in dates if date.places_left <= 2) >= 10  # some nearly full
    towns = Counter(date.venue.town for date in dates if date.venue)
    assert {
        "Stafford",
        "Lichfield",
        "Shrewsbury",
        "Oswestry",
        "Ludlow",
        "Worcester",
        "Kidderminster",
        "Malvern",
    } <= set(towns)
    assert dates.filter(venue__isnull=True).exists()  # online
    assert all(date.venue is None or date.venue.council_id == date.council_id for date in dates)


@pytest.mark.django_db
def test_demo_is_deterministic_for_a_seed():
    """The same seed gives the same dates and places, a different seed different ones."""
    ensure_partnership_councils()
    demo.seed(seed=7, stdout=StringIO())
    first = _snapshot()[2]
    CourseDate.objects.all().delete()
    demo.seed(seed=7, stdout=StringIO())
    assert _snapshot()[2] == first
    CourseDate.objects.all().delete()
    demo.seed(seed=8, stdout=StringIO())
    assert _snapshot()[2] != first
