"""The catalogue in a real browser: the listing (plain, filtered, with a bad date), a course page, an SLA page
and What's on pass an axe scan; the filters work from the form; a school member sees "Your price"."""

import pytest
from django.core.cache import cache

from tests.catalogue.listing_builders import catalogue_tree, course_date, price_rule, service, venue
from tests.e2e.conftest import axe_check
from tests.factories import PASSWORD, SchoolFactory, SchoolMembershipFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def catalogue(transactional_db):
    """A course with dates (one nearly full) and prices, an SLA priced per pupil, and a school member."""
    from allauth.account.models import EmailAddress

    cache.clear()
    _, providers = catalogue_tree()
    staffs = providers["staffordshire"]
    hall = venue(staffs, "Shire Hall", "Stafford")
    course = service(
        staffs,
        "Designated safeguarding lead training",
        summary="Two days for new designated safeguarding leads.",
        categories=["Safeguarding"],
        phases=["primary", "secondary"],
    )
    price_rule(course, "flat", amount="95")
    price_rule(course, "flat", amount="120", customer_type="academy")
    course_date(course, days_ahead=6, venue=hall, capacity=20, places_taken=18)
    course_date(course, days_ahead=30)
    sla = service(
        providers["worcestershire"],
        "Payroll SLA",
        kind="subscription",
        summary="Monthly payroll for school staff.",
        categories=["Finance"],
    )
    price_rule(sla, "per_pupil", rate_per_pupil="3.10", minimum="450", phase="primary")
    membership = SchoolMembershipFactory(school=SchoolFactory(name="Oakfield Primary", number_on_roll=212))
    EmailAddress.objects.create(user=membership.user, email=membership.user.email, verified=True, primary=True)
    yield {"course": course, "sla": sla, "member": membership.user}
    cache.clear()


CATALOGUE_PAGES = [
    ("/services/", "Services for schools"),
    ("/services/?council=staffordshire&kind=course&q=safeguarding", "Services for schools"),
    ("/services/?from_day=31&from_month=2&from_year=2027&sort=date", "Services for schools"),
    ("/services/whats-on/", "What's on"),
    ("/services/whats-on/?month=1999-01&council=nowhere", "What's on"),
]


def test_catalogue_pages_pass_axe(page, catalogue):
    """The listing (plain, filtered, with errors), What's on and both service pages have no serious axe findings."""
    for path, heading in CATALOGUE_PAGES:
        assert page.goto(path).status == 200, path
        assert heading in page.locator("h1").inner_text()
        axe_check(page)
    for service_page in (catalogue["course"], catalogue["sla"]):
        assert page.goto(service_page.url).status == 200
        assert service_page.title in page.locator("h1").inner_text()
        assert page.locator("table", has_text="Price table").count() == 1
        axe_check(page)


def test_bad_date_is_reported_and_linked_to_its_field(page, catalogue):
    """A date that does not exist gets an error summary whose link moves focus to the day box."""
    page.goto("/services/")
    page.locator("#id_from_day").fill("31")
    page.locator("#id_from_month").fill("2")
    page.locator("#id_from_year").fill("2027")
    page.get_by_role("button", name="Apply filters").click()
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "Date from must be a real date" in summary.inner_text()
    assert page.title().startswith("Error: ")
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_from_day"


def test_filters_from_the_form_and_your_price_for_a_member(page, catalogue):
    """Ticking a council and applying the filters narrows the list; a signed-in member sees their school's price."""
    page.goto("/services/")
    page.get_by_label("Worcestershire").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**/services/?*council=worcestershire*")
    assert page.locator("main h3.govuk-heading-m a").all_inner_texts() == ["Payroll SLA"]
    assert "1 service" in page.get_by_role("status").first.inner_text()

    page.goto(catalogue["sla"].url)
    assert page.get_by_test_id("your-price").count() == 0

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(catalogue["member"].email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")
    page.goto(catalogue["sla"].url)
    assert page.get_by_test_id("your-price").inner_text() == "£657.20"
    assert "£3.10 × 212 pupils, primary rate" in page.locator("main").inner_text()
    axe_check(page)
