"""Prices on a service page: the public price table, and "Your price" for members of a school only."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from catalogue import prices
from catalogue.prices import register_subscriptions_lookup, rule_specs, your_price
from tests.catalogue.listing_builders import catalogue_tree, price_rule, service
from tests.factories import SchoolFactory, SchoolMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sla_and_course():
    """A Staffordshire course priced per phase and funding route, with a subscriber price for an HR SLA."""
    _, providers = catalogue_tree()
    staffs = providers["staffordshire"]
    sla = service(staffs, "HR Advice", kind="subscription", vat_treatment="standard")
    price_rule(sla, "per_pupil", rate_per_pupil="3.10", minimum="450", maximum="2000", phase="primary")
    price_rule(sla, "band", amount="2400", pupils_from=0, pupils_to=800, phase="secondary")
    course = service(staffs, "Safer recruitment training")
    price_rule(course, "flat", amount="95")
    price_rule(course, "flat", amount="120", customer_type="academy")
    price_rule(course, "flat", amount="60", subscriber_service=sla)
    return sla, course


def render(page, user, **params):
    """The price section as the service page template draws it."""
    request = RequestFactory().get("/services/staffordshire/x/", params)
    request.user = user
    template = Template("{% load catalogue_prices %}{% service_prices page %}")
    return template.render(Context({"request": request, "page": page}))


@pytest.fixture(autouse=True)
def _no_subscriptions():
    register_subscriptions_lookup(None)
    yield
    register_subscriptions_lookup(None)


def test_everyone_sees_the_price_table_in_plain_english(sla_and_course):
    """Anonymous visitors get every rule in words, the VAT treatment, and a sign-in link instead of a price."""
    from django.contrib.auth.models import AnonymousUser

    sla, course = sla_and_course
    html = render(sla, AnonymousUser())
    assert "Primary schools" in html
    assert "£3.10 per pupil on roll (minimum £450.00, maximum £2,000.00)" in html
    assert "£2,400.00 for 0–800 pupils" in html
    assert "VAT: 20%" in html
    assert "Your price" not in html
    assert "to see your school's price" in html
    course_html = render(course, AnonymousUser())
    assert "All schools, holding the HR Advice SLA" in course_html
    assert "Academies" in course_html


@pytest.mark.parametrize(
    ("school", "net", "vat", "gross", "explanation"),
    [
        (
            {"phase": "primary", "number_on_roll": 212},
            "£657.20",
            "£131.44",
            "£788.64",
            "£3.10 × 212 pupils, primary rate",
        ),
        (
            {"phase": "primary", "number_on_roll": 98},
            "£450.00",
            "£90.00",
            "£540.00",
            "Minimum charge £450.00 applies (£3.10 × 98 pupils = £303.80)",
        ),
        ({"phase": "secondary", "number_on_roll": 750}, "£2,400.00", "£480.00", "£2,880.00", "Band 0–800 pupils"),
    ],
)
def test_school_member_sees_their_schools_price(sla_and_course, school, net, vat, gross, explanation):
    """A signed-in member of a school sees the price the engine quotes for that school, with VAT and reason."""
    sla, _ = sla_and_course
    membership = SchoolMembershipFactory(school=SchoolFactory(**school))
    html = render(sla, membership.user)
    assert "Your price" in html
    assert f'data-testid="your-price">{net} plus VAT' in html
    assert vat in html and gross in html
    assert explanation in html
    assert membership.school.name in html


def test_signed_in_user_without_a_school_sees_no_price(sla_and_course):
    """Someone who belongs to no school gets the table but no "Your price"."""
    sla, _ = sla_and_course
    html = render(sla, UserFactory())
    assert "Your price" not in html
    assert "Price table" in html


def test_price_depends_on_funding_route_and_council(sla_and_course):
    """An academy pays the academy price; a maintained school of Staffordshire the general price."""
    _, course = sla_and_course
    academy = SchoolMembershipFactory(school=SchoolFactory(funding_route="academy")).user
    maintained = SchoolMembershipFactory(school=SchoolFactory(funding_route="maintained", la_code="860")).user
    specs = rule_specs(service=course)
    assert your_price(service=course, user=academy, specs=specs).quote.net == Decimal("120.00")
    assert your_price(service=course, user=maintained, specs=specs).quote.net == Decimal("95.00")


def test_subscriber_price_applies_to_schools_holding_the_sla(sla_and_course):
    """With the bookings app's lookup registered, a school holding the SLA sees the subscriber price."""
    sla, course = sla_and_course
    holder = SchoolMembershipFactory(school=SchoolFactory(funding_route="academy"))
    register_subscriptions_lookup(lambda school_id: [sla.pk] if school_id == holder.school_id else [])
    html = render(course, holder.user)
    assert 'data-testid="your-price">£60.00<' in html
    assert "Subscriber price for holders of the HR Advice SLA" in html


def test_member_of_several_schools_chooses_which_to_price(sla_and_course):
    """A member of two schools sees the first by default and can switch to the other, but not to a stranger's."""
    sla, _ = sla_and_course
    user = UserFactory()
    small = SchoolMembershipFactory(user=user, school=SchoolFactory(name="A Small Primary", number_on_roll=50)).school
    big = SchoolMembershipFactory(user=user, school=SchoolFactory(name="B Big Primary", number_on_roll=400)).school
    stranger = SchoolFactory(name="C Someone Else's Primary", number_on_roll=300)

    first = render(sla, user)
    assert "For A Small Primary" in first and "£450.00 plus VAT" in first
    assert f'<option value="{big.pk}">B Big Primary</option>' in first
    assert "For B Big Primary" in render(sla, user, **{prices.SCHOOL_PARAM: big.pk})
    assert "£1,240.00 plus VAT" in render(sla, user, **{prices.SCHOOL_PARAM: big.pk})
    # Another school's id is ignored: the user's own first school is priced instead.
    other = render(sla, user, **{prices.SCHOOL_PARAM: stranger.pk})
    assert "Someone Else" not in other and "For A Small Primary" in other
    assert "For A Small Primary" in render(sla, user, **{prices.SCHOOL_PARAM: "not-a-number"})
    assert small.pk != big.pk


def test_no_applicable_price_explains_why(sla_and_course):
    """A school no rule covers (a special school here) sees the engine's message, not an error page."""
    sla, _ = sla_and_course
    member = SchoolMembershipFactory(school=SchoolFactory(phase="special", number_on_roll=80)).user
    html = render(sla, member)
    assert 'data-testid="your-price-error"' in html
    assert "None of this service&#x27;s prices applies to a maintained school of this council" in html


def test_missing_pupil_numbers_explained(sla_and_course):
    """A school without a number on roll is told the price depends on it."""
    sla, _ = sla_and_course
    member = SchoolMembershipFactory(school=SchoolFactory(number_on_roll=None)).user
    assert "depends on the number of pupils on roll" in render(sla, member)


def test_service_without_rules_says_contact_the_council(sla_and_course):
    """A service with no price rules asks schools to contact the council."""
    _, providers = catalogue_tree()
    bare = service(providers["shropshire"], "Bespoke consultancy", kind="one_off")
    from django.contrib.auth.models import AnonymousUser

    assert "Contact the council for a price." in render(bare, AnonymousUser())


def test_price_section_query_count_is_bounded(sla_and_course, django_assert_max_num_queries):
    """The price section costs a fixed handful of queries however many rules there are."""
    sla, course = sla_and_course
    member = SchoolMembershipFactory(school=SchoolFactory()).user
    for n in range(20):
        price_rule(course, "flat", amount=str(100 + n), phase="nursery")
    course.council  # noqa: B018 - loaded by the page already when it is served
    with django_assert_max_num_queries(3):  # rules, memberships+schools, (council cached on the page)
        render(course, member)
