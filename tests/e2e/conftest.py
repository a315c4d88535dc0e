"""Browser tests: Playwright driving Debian's Chromium against Django's live server, with an axe scan.

Use the ``page`` fixture (a fresh browser context per test, its base URL the live server) and ``axe_check``;
mark the module ``pytestmark = pytest.mark.browser`` so it skips, saying why, where Chromium is missing.

- The browser is Debian's ``/usr/bin/chromium`` (``CHROMIUM_PATH``), started with ``executable_path``:
  ``playwright install`` cannot download browsers on these machines.
- Every test gets a transactional database: the live server runs in another thread and only sees committed
  rows. Each test starts from the rows the data migrations made (Wagtail's root, the home page), which
  tests/conftest.py puts back after every transactional test.
- No request may leave the machine: every request the page makes is recorded (``request_log``), one to any
  host other than the live server (or the local fake Stripe on 127.0.0.1) is aborted, and the test fails at
  teardown; so it does when the Content Security Policy blocked something (an inline script, say).
"""

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # as tests/conftest.py's skip rule says
# The live server listens on 127.0.0.1 (an ephemeral port unless a port is given), never on every interface.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
# axe impacts, most severe first; a test fails on these.
FAILING_IMPACTS = ("critical", "serious")


@pytest.fixture(scope="session")
def playwright_instance(django_db_setup, django_db_blocker):
    from django.db import connections
    from playwright.sync_api import sync_playwright

    # Between its calls, Playwright's sync API marks an asyncio loop as running in this thread. Django then
    # (1) refuses database calls from "async" code unless DJANGO_ALLOW_ASYNC_UNSAFE is set, and (2) keeps its
    # connections per context rather than per thread, so tests get new connection objects, without the rows
    # serialized at set-up that a serialized_rollback=True test restores. Both are put right here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with django_db_blocker.unblock():
        for connection in connections.all():
            contents = getattr(connection, "_test_serialized_contents", None)
            if contents is not None:
                type(connection)._test_serialized_contents = contents
    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser(playwright_instance):
    """Debian's Chromium, headless, with background networking off so the browser itself stays quiet."""
    from django.conf import settings

    stylesheet = settings.BASE_DIR / "static" / "dist" / "portal.css"
    if not stylesheet.exists():
        # Without it every page is unstyled and axe reports nonsense (18 px links failing target-size).
        pytest.fail(f"{stylesheet} is missing: run `make assets` (`make test` builds it first)", pytrace=False)
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class RequestLog:
    """Every URL a browser context asked for, those that would have left the machine, and what CSP refused."""

    def __init__(self):
        self.urls: list[str] = []
        self.external: list[str] = []
        self.csp_violations: list[str] = []

    def __repr__(self) -> str:
        return f"RequestLog({len(self.urls)} requests, external={self.external}, csp={self.csp_violations})"


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def page(browser, live_server, transactional_db, request_log) -> Iterator:
    """A new browser page whose relative URLs go to the live server; it may not reach any other machine."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)

    def guard(route):
        url = route.request.url
        request_log.urls.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            request_log.external.append(url)
            route.abort()
        else:
            route.continue_()

    def console(message):
        # The browser reports what the Content Security Policy blocked (an inline script, a remote font...)
        # only on the console: such a load never becomes a request the guard above could see.
        if message.type == "error" and "Content Security Policy" in message.text:
            request_log.csp_violations.append(message.text)

    context.route("**/*", guard)
    page = context.new_page()
    page.on("console", console)
    yield page
    context.close()
    assert request_log.external == [], f"requests left the machine: {request_log.external}"
    assert request_log.csp_violations == [], f"the Content Security Policy blocked: {request_log.csp_violations}"


def format_violations(violations: list[dict]) -> str:
    """axe violations as lines a person can act on: rule, impact, help, and the offending elements."""
    lines = []
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            target = " ".join(str(part) for part in node["target"])
            # failureSummary reads "Fix any of the following:\n  <reason>\n  <reason>"; the first reason will do.
            reasons = [line.strip() for line in node.get("failureSummary", "").splitlines()[1:] if line.strip()]
            lines.append(f"    at {target}: {reasons[0] if reasons else node['html'][:120]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)


def axe_check(page, *, context=None) -> list[dict]:
    """Run axe-core on the page; fail on serious or critical violations, listing them. Returns all violations.

    axe-playwright-python bundles axe-core, so nothing is fetched. WCAG 2.0-2.2 A and AA rules and axe's best
    practices run; moderate and minor findings are returned for the caller to inspect.
    """
    from axe_playwright_python.sync_playwright import Axe

    options = {
        "resultTypes": ["violations"],
        "runOnly": {
            "type": "tag",
            "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
        },
    }
    results = Axe().run(page, context=context, options=options)
    violations = results.response["violations"]
    failing = [violation for violation in violations if violation["impact"] in FAILING_IMPACTS]
    if failing:
        pytest.fail(
            f"axe found {len(failing)} serious or critical accessibility problems on {page.url}:\n"
            + format_violations(failing),
            pytrace=False,
        )
    return violations
