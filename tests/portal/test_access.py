"""Every role against the join-request decision and member-management URLs: allowed users get the page and
can act; everyone else gets 403, 404 or a sign-in redirect, never the data, and nothing changes."""

import pytest
from django.urls import reverse

from portal.models import JoinRequest, SchoolMembership
from tests.factories import CouncilMembershipFactory, SchoolFactory, SchoolMembershipFactory, UserFactory
from tests.portal.account_factories import JoinRequestFactory

pytestmark = pytest.mark.django_db

REQUESTER_EMAIL = "requester-private@example.org"
MEMBER_EMAIL = "member-private@example.org"

ALLOWED = {"approver", "admin"}
# Who sees what when refused. The request lookup is scoped to the schools one approves for (404: its id
# reveals nothing); a school's member pages check the role on a public school (403).
PEOPLE = [
    "anonymous",
    "booker",
    "other_approver",
    "editor",
    "finance",
    "course_admin",
    "requester",
    "approver",
    "admin",
]


@pytest.fixture
def world(councils):
    school = SchoolFactory(council=councils["staffordshire"])
    other = SchoolFactory(council=councils["staffordshire"])
    requester = UserFactory(email=REQUESTER_EMAIL)
    people = {
        "anonymous": None,
        "booker": SchoolMembershipFactory(school=school, role="booker").user,
        "approver": SchoolMembershipFactory(school=school, role="approver").user,
        "other_approver": SchoolMembershipFactory(school=other, role="approver").user,
        "editor": CouncilMembershipFactory(council=councils["staffordshire"], role="editor").user,
        "finance": CouncilMembershipFactory(council=councils["staffordshire"], role="finance").user,
        "course_admin": CouncilMembershipFactory(council=councils["staffordshire"], role="course_admin").user,
        "requester": requester,
        "admin": UserFactory(is_superuser=True, is_staff=True),
    }
    member = SchoolMembershipFactory(school=school, role="booker", user=UserFactory(email=MEMBER_EMAIL))
    join_request = JoinRequestFactory(school=school, user=requester)
    return {"school": school, "member": member, "join_request": join_request, "people": people}


def _urls(world):
    urn, member, join_request = world["school"].urn, world["member"], world["join_request"]
    return {
        "decide": (reverse("portal:join_request_decide", args=[join_request.pk]), {"decision": "approver"}, 404),
        "members": (reverse("portal:school_members", args=[urn]), None, 403),
        "member_edit": (reverse("portal:school_member_edit", args=[urn, member.pk]), {"role": "approver"}, 403),
        "member_remove": (reverse("portal:school_member_remove", args=[urn, member.pk]), {}, 403),
    }


def _state(world):
    join_request = JoinRequest.objects.get(pk=world["join_request"].pk)
    return (
        join_request.status,
        sorted(SchoolMembership.objects.filter(school=world["school"]).values_list("user__email", "role")),
    )


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("url_name", ["decide", "members", "member_edit", "member_remove"])
def test_only_the_schools_approvers_and_admins_get_in(client, world, person, url_name):
    """GET and POST by each role: allowed roles see the data; others are refused without it and change nothing."""
    url, post_data, refused_status = _urls(world)[url_name]
    user = world["people"][person]
    if user is not None:
        client.force_login(user)
    before = _state(world)

    response = client.get(url)
    if person in ALLOWED:
        assert response.status_code == 200
        shown = REQUESTER_EMAIL if url_name == "decide" else MEMBER_EMAIL
        assert shown in response.content.decode()
        return
    if person == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == refused_status
    body = response.content.decode()
    assert REQUESTER_EMAIL not in body and MEMBER_EMAIL not in body

    posted = client.post(url, post_data)
    assert posted.status_code == (302 if person == "anonymous" else refused_status)
    assert REQUESTER_EMAIL not in posted.content.decode() and MEMBER_EMAIL not in posted.content.decode()
    assert _state(world) == before


@pytest.mark.parametrize("person", sorted(ALLOWED))
def test_allowed_roles_can_act(client, world, person):
    """The school's approver and a partnership admin can accept the request and manage the member."""
    client.force_login(world["people"][person])
    urls = _urls(world)
    assert client.post(urls["decide"][0], {"decision": "booker"}).status_code == 302
    assert client.post(urls["member_edit"][0], {"role": "approver"}).status_code == 302
    status, members = _state(world)
    assert status == JoinRequest.Status.ACCEPTED
    assert (REQUESTER_EMAIL, "booker") in members and (MEMBER_EMAIL, "approver") in members
    assert client.post(urls["member_remove"][0]).status_code == 302
    assert MEMBER_EMAIL not in dict(_state(world)[1])


def test_unknown_school_is_a_404_for_an_approver(client, world):
    """A URN nobody has is a 404, not a 403 or an error."""
    client.force_login(world["people"]["approver"])
    assert client.get(reverse("portal:school_members", args=[999999999])).status_code == 404


def test_dashboard_needs_signing_in_and_shows_only_ones_own(client, world):
    """Anonymous users are sent to sign in; a booker's dashboard shows no one else's requests or members."""
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    client.force_login(world["people"]["booker"])
    html = client.get(reverse("portal:dashboard")).content.decode()
    assert world["school"].name in html
    assert REQUESTER_EMAIL not in html and MEMBER_EMAIL not in html
    assert reverse("portal:school_members", args=[world["school"].urn]) not in html


def test_partnership_admin_manages_accounts_and_roles_in_django_admin(client, world):
    """The Django admin pages for users, schools, councils and memberships open for an admin, and for nobody else."""
    school, member = world["school"], world["member"]
    pages = [
        reverse("admin:portal_user_changelist"),
        reverse("admin:portal_user_add"),
        reverse("admin:portal_user_change", args=[member.user.pk]),
        reverse("admin:portal_school_changelist") + "?q=" + str(school.urn),
        reverse("admin:portal_school_change", args=[school.pk]),
        reverse("admin:portal_council_change", args=[school.council.pk]),
        reverse("admin:portal_schoolmembership_changelist"),
        reverse("admin:portal_councilmembership_add"),
        reverse("admin:portal_joinrequest_changelist"),
        reverse("admin:portal_sentemail_changelist"),
    ]
    client.force_login(world["people"]["admin"])
    for url in pages:
        assert client.get(url).status_code == 200, url
    for person in ("approver", "editor"):
        client.force_login(world["people"][person])
        for url in pages:
            assert client.get(url).status_code == 302, (person, url)  # to the admin's sign-in page


def test_admin_gives_a_council_role(client, world, councils):
    """Council roles are given in the admin (no self-service): adding one makes the user a member of that council."""
    user = world["people"]["booker"]
    client.force_login(world["people"]["admin"])
    response = client.post(
        reverse("admin:portal_councilmembership_add"),
        {"user": user.pk, "council": councils["shropshire"].pk, "role": "finance"},
    )
    assert response.status_code == 302
    assert user.council_memberships.get().council == councils["shropshire"]
