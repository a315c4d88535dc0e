"""Demo data: councils, GIAS-imported schools, demo users who can sign in at once, and the information pages."""

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.core.management import call_command

from portal.demo import DEMO_PASSWORD, DEMO_USERS, NAMED_SCHOOL_URNS, seed
from portal.demo_schools import MALVERN_HILLS_URN, OAKFIELD_URN, SEVERN_VALLEY_URN, demo_gias_rows
from portal.models import Council, CouncilMembership, InformationPage, School, SchoolMembership, User
from portal.models.schools import FundingRoute, Phase

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _seed() -> str:
    return seed(seed=2026, stdout=io.StringIO())


def _snapshot() -> dict[str, list[dict]]:
    """Every row of every table, in primary-key order: equal snapshots mean nothing was written."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def test_seed_creates_the_councils_and_a_realistic_school_directory():
    """Three councils and at least 120 schools across their LAs, with every funding route and phase, plus others."""
    _seed()
    assert set(Council.objects.values_list("la_code", flat=True)) == {"860", "893", "885"}
    in_partnership = School.objects.filter(la_code__in=["860", "893", "885"], status__startswith="Open")
    assert in_partnership.count() >= 120
    assert Counter(in_partnership.values_list("la_code", flat=True)).most_common()[-1][1] >= 40
    assert set(School.objects.values_list("funding_route", flat=True)) == set(FundingRoute.values)
    assert set(in_partnership.values_list("phase", flat=True)) >= {
        Phase.NURSERY,
        Phase.PRIMARY,
        Phase.SECONDARY,
        Phase.ALL_THROUGH,
        Phase.SPECIAL,
        Phase.PRU,
        Phase.SIXTEEN_PLUS,
    }
    assert School.objects.exclude(la_code__in=["860", "893", "885"]).filter(council=None).count() >= 4
    academies = School.objects.filter(funding_route=FundingRoute.ACADEMY, type_group_code=10)
    assert academies.exists() and not academies.filter(trust_name="").exists()
    assert not School.objects.exclude(postcode__regex=r"^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$").exists()


def test_named_schools_have_the_facts_the_demo_relies_on():
    """Oakfield, Severn Valley and Malvern Hills exist with their funding route, phase, council and email domain."""
    _seed()
    schools = School.objects.select_related("council").in_bulk(NAMED_SCHOOL_URNS, field_name="urn")
    oakfield, severn, malvern = schools[OAKFIELD_URN], schools[SEVERN_VALLEY_URN], schools[MALVERN_HILLS_URN]
    assert (oakfield.name, oakfield.funding_route, oakfield.phase, oakfield.council.slug) == (
        "Oakfield Primary School",
        FundingRoute.MAINTAINED,
        Phase.PRIMARY,
        "staffordshire",
    )
    assert oakfield.email_domain == "oakfield-primary.example"
    assert oakfield.laestab == f"860{oakfield.establishment_number}" and len(oakfield.laestab) == 7
    assert (severn.name, severn.funding_route, severn.phase, severn.council.slug) == (
        "Severn Valley Academy",
        FundingRoute.ACADEMY,
        Phase.SECONDARY,
        "shropshire",
    )
    assert severn.email_domain == "severn-valley.example"
    assert severn.trust_name == "Severn Valley Learning Trust"
    assert (malvern.name, malvern.funding_route, malvern.phase, malvern.council.slug) == (
        "Malvern Hills Special School",
        FundingRoute.MAINTAINED,
        Phase.SPECIAL,
        "worcestershire",
    )


def test_schools_arrive_through_the_gias_importer():
    """Every generated GIAS row becomes a school, with the values the importer derives (LAESTAB, council, route)."""
    _seed()
    rows = demo_gias_rows(seed=2026)
    assert School.objects.count() == len(rows)
    kingsmead = School.objects.filter(name__startswith="Kingsmead").order_by("urn")
    assert [(school.status, school.funding_route) for school in kingsmead] == [
        ("Closed", FundingRoute.MAINTAINED),
        ("Open", FundingRoute.ACADEMY),
    ]
    # Two academies share their trust's website: neither may let staff in by email domain.
    shared = School.objects.filter(website="www.marches-learning.example")
    assert shared.count() == 2 and set(shared.values_list("email_domain", flat=True)) == {""}


def test_demo_users_have_their_roles():
    """Each demo user exists with the council or school role the demo describes, and staff flags to match."""
    _seed()
    assert User.objects.filter(email__in=[user.email for user in DEMO_USERS]).count() == len(DEMO_USERS) == 13
    admin = User.objects.get(email="admin@tricouncil.example")
    assert admin.is_superuser and admin.is_staff and admin.is_partnership_admin
    for slug in ("staffordshire", "shropshire", "worcestershire"):
        for prefix, role, staff in (
            ("editor", "editor", True),
            ("finance", "finance", False),
            ("courses", "course_admin", True),
        ):
            user = User.objects.get(email=f"{prefix}@{slug}.example")
            assert list(user.council_memberships.values_list("council__slug", "role")) == [(slug, role)]
            assert (user.is_staff, user.is_superuser) == (staff, False)
    assert set(SchoolMembership.objects.values_list("user__email", "school__urn", "role")) == {
        ("sbm@oakfield-primary.example", OAKFIELD_URN, "approver"),
        ("teacher@oakfield-primary.example", OAKFIELD_URN, "booker"),
        ("sbm@severn-valley.example", SEVERN_VALLEY_URN, "approver"),
    }
    assert CouncilMembership.objects.count() == 9


def test_every_demo_user_can_sign_in_at_once(client):
    """Each demo user signs in with the demo password straight away: their address is already verified."""
    _seed()
    for demo in DEMO_USERS:
        assert EmailAddress.objects.get(email=demo.email).verified
        response = client.post("/accounts/login/", {"login": demo.email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, f"{demo.email}: {response.content.decode()[:2000]}"
        assert client.session["_auth_user_id"] == str(User.objects.get(email=demo.email).pk)
        client.logout()


def test_seeding_twice_changes_nothing():
    """A second run writes nothing: every row of every table is the same afterwards."""
    _seed()
    before = _snapshot()
    summary = _seed()
    assert "0 created, 0 updated" in summary
    assert _snapshot() == before


def test_seeding_repairs_demo_users_and_keeps_editors_pages(client):
    """A re-seed puts a demo user's roles back, but leaves an information page an editor has changed alone."""
    _seed()
    User.objects.filter(email="editor@shropshire.example").update(is_staff=False, full_name="Someone else")
    CouncilMembership.objects.filter(user__email="editor@shropshire.example").delete()
    cookies = InformationPage.objects.get(slug="cookies")
    cookies.summary = "Edited in Wagtail."
    cookies.save_revision().publish()
    _seed()
    editor = User.objects.get(email="editor@shropshire.example")
    assert editor.is_staff and editor.full_name == "Gareth Lloyd"
    assert list(editor.council_memberships.values_list("role", flat=True)) == ["editor"]
    assert InformationPage.objects.get(slug="cookies").summary == "Edited in Wagtail."


def test_seed_demo_command_is_idempotent_across_every_app():
    """`manage.py seed_demo` run twice (every app's seeder) leaves every table exactly as the first run did."""
    call_command("seed_demo", stdout=io.StringIO())
    before = _snapshot()
    call_command("seed_demo", stdout=io.StringIO())
    assert _snapshot() == before


def test_information_pages_are_published_at_their_footer_addresses(client):
    """/accessibility/, /cookies/ and /privacy/ answer with their content, as the footer links promise."""
    _seed()
    accessibility = client.get("/accessibility/").content.decode()
    assert "Accessibility statement" in accessibility and "Equality Advisory and Support Service" in accessibility
    cookies = client.get("/cookies/").content.decode()
    assert "We only use essential cookies" in cookies
    assert "sessionid" in cookies and "csrftoken" in cookies
    privacy = client.get("/privacy/").content.decode()
    assert "access and dietary needs:</strong> deleted 30 days after the course ends" in privacy
    assert "Information Commissioner" in privacy


def test_home_page_explains_the_partnership_and_links_to_each_council(client):
    """The home page names the three councils and links to each council's services."""
    _seed()
    html = client.get("/").content.decode()
    for council in Council.objects.all():
        assert f'href="/services/{council.slug}/"' in html
        assert council.name in html


def test_demo_logins_lists_every_demo_user_and_the_password():
    """`manage.py demo_logins` prints every demo login and the shared password."""
    out = io.StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert DEMO_PASSWORD in text
    assert all(user.email in text for user in DEMO_USERS)


def test_readme_lists_the_demo_logins_from_the_one_list():
    """The README's demo logins table is exactly `demo_logins --markdown`, so the two never drift apart."""
    out = io.StringIO()
    call_command("demo_logins", "--markdown", stdout=out)
    table = out.getvalue().strip()
    readme = (ROOT / "README.md").read_text()
    assert table in readme
    assert len(re.findall(r"^\| `[^`]+@[^`]+` \|", readme, flags=re.M)) == len(DEMO_USERS)
