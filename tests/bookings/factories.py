"""Builders for bookings tests: a small catalogue (pages, dates, prices) and booking records.

Self-contained on purpose (only committed catalogue and portal models), so the bookings suites do not lean
on another app's test helpers.
"""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from bookings.models import (
    Basket,
    Booking,
    BookingLine,
    Delegate,
    ItemKind,
    SchoolBookingSettings,
    Subscription,
    WaitingListEntry,
)
from catalogue.models import (
    CatalogueIndexPage,
    CourseDate,
    CourseServicePage,
    OneOffServicePage,
    PriceRule,
    ProviderPage,
    SubscriptionServicePage,
    Venue,
)
from portal.models import HomePage
from tests.factories import SchoolFactory, SchoolMembershipFactory, UserFactory

PAGE_MODELS = {"course": CourseServicePage, "subscription": SubscriptionServicePage, "one_off": OneOffServicePage}


def catalogue_index() -> CatalogueIndexPage:
    index = CatalogueIndexPage.objects.first()
    if index:
        return index
    home = HomePage.objects.first()
    index = CatalogueIndexPage(title="Services for schools", slug="services")
    home.add_child(instance=index)
    return index


def provider_page(council) -> ProviderPage:
    page = ProviderPage.objects.filter(council=council).first()
    if page:
        return page
    page = ProviderPage(title=f"{council.short_name} services", council=council)
    catalogue_index().add_child(instance=page)
    return page


def add_service(council, kind: str = "course", *, title: str = "", price: Decimal | None = Decimal("100.00"), **fields):
    """A published service of ``kind`` under the council's provider page, with one flat price (if given)."""
    model = PAGE_MODELS[kind]
    title = title or f"{council.short_name} {kind} {model.objects.count() + 1}"
    page = model(title=title, summary=fields.pop("summary", f"About {title}."), **fields)
    provider_page(council).add_child(instance=page)
    page.save_revision().publish()
    page.refresh_from_db()
    if price is not None:
        PriceRule.objects.create(service=page, kind="flat", amount=price)
    return page


def add_course_date(course, *, capacity: int = 20, days_ahead: int = 30, **fields) -> CourseDate:
    venue, _ = Venue.objects.get_or_create(
        council=course.council,
        name=f"{course.council.short_name} Training Centre",
        defaults={"address_line_1": "1 High Street", "town": "Stafford", "postcode": "ST16 2DH"},
    )
    starts = fields.pop("starts_at", timezone.now() + timedelta(days=days_ahead))
    return CourseDate.objects.create(
        service=course,
        starts_at=starts,
        ends_at=fields.pop("ends_at", starts + timedelta(hours=6)),
        venue=venue,
        capacity=capacity,
        **fields,
    )


def school_user(school=None, role: str = "booker", **user_fields):
    """A user who belongs to ``school`` (a new maintained Staffordshire primary if none) with ``role``."""
    school = school or SchoolFactory()
    user = UserFactory(**user_fields)
    SchoolMembershipFactory(user=user, school=school, role=role)
    return user


class BasketFactory(DjangoModelFactory):
    class Meta:
        model = Basket

    school = factory.SubFactory(SchoolFactory)
    owner = factory.SubFactory(UserFactory)


class BookingFactory(DjangoModelFactory):
    class Meta:
        model = Booking

    school = factory.SubFactory(SchoolFactory)
    booked_by = factory.SubFactory(UserFactory)


class BookingLineFactory(DjangoModelFactory):
    """A held line for a place on ``course_date`` (which must be given), priced at £100 exempt."""

    class Meta:
        model = BookingLine

    booking = factory.SubFactory(BookingFactory)
    kind = ItemKind.COURSE_PLACE
    service = factory.LazyAttribute(lambda o: o.course_date.service.servicepage_ptr)
    council = factory.LazyAttribute(lambda o: o.service.council)
    description = factory.LazyAttribute(lambda o: o.service.title)
    quantity = Decimal("1")
    unit_net = Decimal("100.00")
    net = Decimal("100.00")
    vat_treatment = "exempt"
    vat_rate = Decimal("0")
    vat = Decimal("0.00")
    gross = Decimal("100.00")
    cost_centre = "CC-1"
    income_code = "IC-1"


class DelegateFactory(DjangoModelFactory):
    class Meta:
        model = Delegate

    name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"delegate{n}@school.example")
    role = "Teacher"


class SchoolBookingSettingsFactory(DjangoModelFactory):
    class Meta:
        model = SchoolBookingSettings
        django_get_or_create = ("school",)

    school = factory.SubFactory(SchoolFactory)
    approval_policy = "none"


class SubscriptionFactory(DjangoModelFactory):
    class Meta:
        model = Subscription

    school = factory.SubFactory(SchoolFactory)
    term_start = factory.LazyFunction(lambda: date(timezone.localdate().year - 1, 4, 1))
    term_end = factory.LazyAttribute(lambda o: date(o.term_start.year + 1, 3, 31))


class WaitingListEntryFactory(DjangoModelFactory):
    class Meta:
        model = WaitingListEntry

    school = factory.SubFactory(SchoolFactory)
    requested_by = factory.SubFactory(UserFactory)
    delegate_name = factory.Faker("name", locale="en_GB")
