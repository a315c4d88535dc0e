"""Builders for catalogue records in the catalogue's own tests (model factories and page helpers)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from catalogue.models import (
    CourseDate,
    CourseServicePage,
    OneOffServicePage,
    PriceRule,
    ProviderPage,
    SubscriptionServicePage,
    Venue,
)
from tests.factories import CouncilMembershipFactory, UserFactory

PAGE_MODELS = {
    "course": CourseServicePage,
    "subscription": SubscriptionServicePage,
    "one_off": OneOffServicePage,
}


def add_service(provider: ProviderPage, kind: str = "course", *, title: str = "", publish: bool = True, **fields):
    """A service page of the given kind under the provider, published (with a revision) unless asked not to."""
    model = PAGE_MODELS[kind]
    title = title or f"{provider.council.short_name} {kind} {model.objects.count() + 1}"
    page = model(title=title, summary=fields.pop("summary", f"About {title}."), live=publish, **fields)
    provider.add_child(instance=page)
    revision = page.save_revision()
    if publish:
        revision.publish()
    page.refresh_from_db()
    return page


def council_user(council, *roles: str, email: str = ""):
    """A user with the given council roles (the membership signal puts them in the matching groups)."""
    user = UserFactory(**({"email": email} if email else {}))
    for role in roles or ("editor",):
        CouncilMembershipFactory(user=user, council=council, role=role)
    return user


class VenueFactory(DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Training Centre {n}")
    address_line_1 = "1 High Street"
    town = "Stafford"
    postcode = "ST16 2DH"


class CourseDateFactory(DjangoModelFactory):
    class Meta:
        model = CourseDate

    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=6))
    venue = factory.LazyAttribute(lambda o: VenueFactory(council=o.service.council))
    capacity = 20


class PriceRuleFactory(DjangoModelFactory):
    class Meta:
        model = PriceRule

    kind = "flat"
    amount = Decimal("120.00")
