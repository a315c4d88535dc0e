"""Builders for bookings tests: a small catalogue (pages, dates, prices) and booking records.

Self-contained on purpose (only committed catalogue and portal models), so the bookings suites do not lean
on another app's test helpers.
"""

import itertools
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


def home_page() -> HomePage:
    """The portal's home page; rebuilt (with Wagtail's root, locale and default site) after a transactional
    test's flush removed what the data migrations made."""
    home = HomePage.objects.first()
    if home:
        return home
    from wagtail.models import Locale, Page, Site

    locale, _ = Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
    home = HomePage(title="Services for schools", slug="home", locale=locale)
    root.add_child(instance=home)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "root_page": home, "site_name": "Portal"}
    )
    return home


def catalogue_index() -> CatalogueIndexPage:
    index = CatalogueIndexPage.objects.first()
    if index:
        return index
    home = home_page()
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
    # The financial year that contains today.
    term_start = factory.LazyFunction(
        lambda: date(timezone.localdate().year - (1 if timezone.localdate().month < 4 else 0), 4, 1)
    )
    term_end = factory.LazyAttribute(lambda o: date(o.term_start.year + 1, 3, 31))


class WaitingListEntryFactory(DjangoModelFactory):
    class Meta:
        model = WaitingListEntry

    school = factory.SubFactory(SchoolFactory)
    requested_by = factory.SubFactory(UserFactory)
    delegate_name = factory.Faker("name", locale="en_GB")


_delegate_numbers = itertools.count(1)


# --- A small world for basket, checkout and approval tests ------------------------------------------------


class World:
    """Oakfield Primary (a maintained Staffordshire school) with a booker and an approver, and services from two
    councils: a Staffordshire course (£100, exempt), a Shropshire course (£150), a Staffordshire SLA (£1,200,
    standard rated, on sale now) and a Worcestershire one-off day-rate service (£400 a day, standard rated)."""

    def __init__(self, councils, *, capacity: int = 20):
        self.councils = councils
        self.staffs, self.shrops, self.worcs = (
            councils["staffordshire"],
            councils["shropshire"],
            councils["worcestershire"],
        )
        self.school = SchoolFactory(name="Oakfield Primary School", la_code="860", la_name="Staffordshire")
        self.booker = school_user(self.school, "booker", email="teacher@oakfield.example", full_name="Tess Teacher")
        self.approver = school_user(self.school, "approver", email="sbm@oakfield.example", full_name="Sam Manager")
        self.staffs_course = add_service(self.staffs, "course", title="Safeguarding Update", price=Decimal("100.00"))
        self.staffs_date = add_course_date(self.staffs_course, capacity=capacity)
        self.shrops_course = add_service(self.shrops, "course", title="Phonics in Practice", price=Decimal("150.00"))
        self.shrops_date = add_course_date(self.shrops_course, capacity=capacity, days_ahead=40)
        self.sla = add_service(
            self.staffs,
            "subscription",
            title="HR Advice SLA",
            price=Decimal("1200.00"),
            vat_treatment="standard",
            buyback_opens_days_before=365,
        )
        self.one_off = add_service(
            self.worcs, "one_off", title="Curriculum Review", price=None, vat_treatment="standard", unit="day"
        )
        PriceRule.objects.create(service=self.one_off, kind="day_rate", amount=Decimal("400.00"))

    def basket(self, user=None):
        from bookings.services.basket import get_basket

        return get_basket(school=self.school, owner=user or self.booker)

    def add_place(self, course_date=None, user=None, **delegate):
        from bookings.services.basket import add_course_place

        n = next(_delegate_numbers)
        return add_course_place(
            basket=self.basket(user),
            course_date=course_date or self.staffs_date,
            delegate_name=delegate.get("name", f"Delegate {n}"),
            delegate_email=delegate.get("email", f"delegate{n}@oakfield.example"),
            delegate_role=delegate.get("role", "Teacher"),
            access_needs=delegate.get("access_needs", ""),
            dietary_needs=delegate.get("dietary_needs", ""),
        )
