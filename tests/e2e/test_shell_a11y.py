"""The site shell in a real browser: home, sign-in and sign-up pages pass an axe scan and load nothing remote."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser

SHELL_PAGES = [
    ("/", "Services for schools from Staffordshire, Shropshire and Worcestershire"),
    ("/accounts/login/", "Sign in"),
    ("/accounts/signup/", "Create an account"),
]


@pytest.fixture
def seeded_site(transactional_db):
    """The councils and the information pages the footer links to, as `make run` has them."""
    from portal.councils import ensure_partnership_councils
    from portal.demo_pages import ensure_information_pages

    ensure_partnership_councils()
    ensure_information_pages()


@pytest.mark.parametrize(("path", "heading"), SHELL_PAGES)
def test_shell_page_has_no_serious_accessibility_problems(page, seeded_site, request_log, path, heading):
    """The page loads with its heading and styles, axe finds nothing serious or critical, and no request leaves."""
    response = page.goto(path)
    assert response.status == 200
    assert heading in page.locator("h1").inner_text()
    # The GOV.UK Frontend stylesheet really applied (a missing stylesheet would still pass most axe rules).
    assert page.locator("h1").evaluate("el => getComputedStyle(el).fontFamily").lower().startswith("arial")
    assert page.locator("body.govuk-frontend-supported").count() == 1, "GOV.UK Frontend's script did not run"
    axe_check(page)
    assert request_log.urls, "the request log recorded nothing: the guard is not in place"
    hosts = {urlsplit(url).hostname for url in request_log.urls if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, hosts
    assert request_log.external == []


def test_information_pages_pass_axe_and_skip_link_works(page, seeded_site):
    """Accessibility, cookies and privacy pages pass axe, and the skip link moves focus to the main content."""
    for path in ("/accessibility/", "/cookies/", "/privacy/"):
        assert page.goto(path).status == 200
        axe_check(page)
    page.keyboard.press("Tab")
    skip_link = page.locator("a.govuk-skip-link")
    assert skip_link.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_a_visitor_gets_only_the_essential_cookies(page, seeded_site, live_server):
    """Browsing and signing in sets only sessionid and csrftoken, as the cookies page promises."""
    from allauth.account.models import EmailAddress

    from portal.models import User

    user = User.objects.create_user(email="cookie.check@example.org", password="a-long-enough-password")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    page.goto("/")
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill("a-long-enough-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path != "/accounts/login/", page.locator("main").inner_text()
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert names == {"sessionid", "csrftoken"}
