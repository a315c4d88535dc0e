"""Accounts and joining a school in a real browser: every page, with and without errors, passes an axe scan."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser

PASSWORD = "a-long-enough-password-2026"


@pytest.fixture
def people(transactional_db):
    """An approver at Oakfield with a booker and a pending request from someone else."""
    from allauth.account.models import EmailAddress

    from portal.models import JoinRequest, SchoolMembership, User
    from tests.factories import SchoolFactory

    school = SchoolFactory(name="Oakfield Primary School", urn=124001, email_domain="oakfield-primary.example")
    SchoolFactory(name="Oakfield Infant School", urn=124002, status="Closed")

    def person(email, name):
        user = User.objects.create_user(email=email, password=PASSWORD, full_name=name)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    approver = person("sbm@oakfield-primary.example", "Sue Barker")
    booker = person("teacher@oakfield-primary.example", "Tom Teacher")
    asker = person("asker@example.org", "Ali Asker")
    SchoolMembership.objects.create(user=approver, school=school, role="approver")
    booker_membership = SchoolMembership.objects.create(user=booker, school=school, role="booker")
    join_request = JoinRequest.objects.create(user=asker, school=school, message="I am the new bursar.")
    return {
        "school": school,
        "approver": approver,
        "asker": asker,
        "join_request": join_request,
        "booker_membership": booker_membership,
    }


def _sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def test_account_pages_and_their_errors_pass_axe(page, people):
    """Sign-in and sign-up with errors, reset and the locked-out page have no serious axe findings."""
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".govuk-error-summary").wait_for()
    # The summary's links move focus to the field, as GOV.UK's error summary promises.
    page.locator(".govuk-error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_login"
    axe_check(page)

    page.goto("/accounts/signup/")
    page.get_by_label("Email address").fill("not an email")
    page.get_by_role("button", name="Create account").click()
    page.locator(".govuk-error-summary").wait_for()
    axe_check(page)

    page.goto("/accounts/password/reset/")
    axe_check(page)

    for attempt in range(5):
        page.goto("/accounts/login/")
        page.get_by_label("Email address").fill("sbm@oakfield-primary.example")
        page.get_by_label("Password", exact=True).fill(f"wrong-{attempt}")
        page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("You cannot sign in for now")
    axe_check(page)


def test_joining_pages_pass_axe(page, people):
    """Searching, asking to join and the dashboard of someone with no school pass axe."""
    from allauth.account.models import EmailAddress

    from portal.models import User

    newcomer = User.objects.create_user(email="new@example.org", password=PASSWORD, full_name="Nell New")
    EmailAddress.objects.create(user=newcomer, email=newcomer.email, verified=True, primary=True)
    _sign_in(page, "new@example.org")
    axe_check(page)
    page.get_by_role("link", name="Join a school").first.click()
    page.get_by_label("School name, URN or postcode").fill("oakfield")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table tbody tr")).to_have_count(2)
    axe_check(page)
    page.get_by_role("link", name="Oakfield Primary School").click()
    page.get_by_label("Message to the school (optional)").fill("x" * 1001)
    page.get_by_role("button", name="Ask to join").click()
    page.locator(".govuk-error-summary").wait_for()
    axe_check(page)


def test_approver_pages_pass_axe(page, people):
    """The approver's dashboard, the decision page (with an error), members, change role and remove pass axe."""
    _sign_in(page, "sbm@oakfield-primary.example")
    expect(page.locator("main")).to_contain_text("Ali Asker")
    axe_check(page)
    page.get_by_role("link", name="Decide").click()
    page.get_by_role("button", name="Save decision").click()
    page.locator(".govuk-error-summary").wait_for()
    axe_check(page)
    page.get_by_label("Accept as a booker").check()
    page.get_by_role("button", name="Save decision").click()
    page.wait_for_url("**/dashboard/")
    page.get_by_role("link", name="Manage members").click()
    expect(page.locator("main")).to_contain_text("asker@example.org")
    axe_check(page)
    urn, membership = people["school"].urn, people["booker_membership"].pk
    page.goto(f"/dashboard/schools/{urn}/members/{membership}/")
    axe_check(page)
    page.goto(f"/dashboard/schools/{urn}/members/{membership}/remove/")
    axe_check(page)
    page.goto("/accounts/email/")
    axe_check(page)
    page.goto("/accounts/password/change/")
    axe_check(page)
