"""The role helpers of portal.access that every app relies on: who reaches which schools and councils."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.views import View

from portal import access
from portal.models import Council, School
from tests.factories import CouncilMembershipFactory, SchoolFactory, SchoolMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    """Two schools and a user of every kind."""
    school = SchoolFactory(council=councils["staffordshire"])
    other = SchoolFactory(council=councils["shropshire"])
    people = {
        "booker": SchoolMembershipFactory(school=school, role="booker").user,
        "approver": SchoolMembershipFactory(school=school, role="approver").user,
        "other_approver": SchoolMembershipFactory(school=other, role="approver").user,
        "editor": CouncilMembershipFactory(council=councils["staffordshire"], role="editor").user,
        "finance": CouncilMembershipFactory(council=councils["staffordshire"], role="finance").user,
        "course_admin": CouncilMembershipFactory(council=councils["staffordshire"], role="course_admin").user,
        "admin": UserFactory(is_superuser=True, is_staff=True),
        "nobody": UserFactory(),
        "anonymous": AnonymousUser(),
    }
    return {"school": school, "other": other, "councils": councils, **people}


def test_schools_for_each_role(world):
    """Members reach their own school; approver-only lists leave bookers out; admins reach all; others none."""
    school, other = world["school"], world["other"]
    assert list(access.schools_for(world["booker"])) == [school]
    assert list(access.schools_for(world["booker"], role="booker")) == [school]
    assert list(access.schools_for(world["booker"], role="approver")) == []
    assert list(access.schools_for(world["approver"], role="booker")) == [school]  # an approver is also a booker
    assert list(access.schools_for(world["approver"], role="approver")) == [school]
    assert list(access.schools_for(world["other_approver"])) == [other]
    assert set(access.schools_for(world["admin"], role="approver")) == set(School.objects.all())
    for name in ("editor", "finance", "course_admin", "nobody", "anonymous"):
        assert list(access.schools_for(world[name])) == [], name


def test_councils_for_each_role(world):
    """Council roles are separate: an editor is not a finance officer; admins reach every council."""
    staffordshire = world["councils"]["staffordshire"]
    assert list(access.councils_for(world["editor"])) == [staffordshire]
    assert list(access.councils_for(world["editor"], role="editor")) == [staffordshire]
    assert list(access.councils_for(world["editor"], role="finance")) == []
    assert list(access.councils_for(world["finance"], role=["editor", "finance"])) == [staffordshire]
    assert list(access.councils_for(world["course_admin"], role="course_admin")) == [staffordshire]
    assert set(access.councils_for(world["admin"], role="finance")) == set(Council.objects.all())
    for name in ("booker", "approver", "nobody", "anonymous"):
        assert list(access.councils_for(world[name])) == [], name


@pytest.mark.parametrize(
    ("person", "member", "approver"),
    [
        ("booker", True, False),
        ("approver", True, True),
        ("other_approver", False, False),
        ("editor", False, False),
        ("finance", False, False),
        ("course_admin", False, False),
        ("admin", True, True),
        ("nobody", False, False),
        ("anonymous", False, False),
    ],
)
def test_school_checks_for_every_role(world, person, member, approver):
    """is_school_member / is_school_approver / require_school_member agree for every kind of user."""
    user, school = world[person], world["school"]
    assert access.is_school_member(user, school) is member
    assert access.is_school_approver(user, school) is approver
    if approver:
        access.require_school_approver(user, school)
    else:
        with pytest.raises(PermissionDenied):
            access.require_school_approver(user, school)
    if not member:
        with pytest.raises(PermissionDenied):
            access.require_school_member(user, school)


def test_inactive_superuser_is_not_an_admin(world):
    """A deactivated administrator reaches nothing."""
    admin = world["admin"]
    admin.is_active = False
    admin.save()
    assert not access.is_school_member(admin, world["school"])
    assert list(access.councils_for(admin)) == []


def test_council_checks(world):
    """require_council_member passes the council's own staff in the right role, and admins."""
    staffordshire, shropshire = world["councils"]["staffordshire"], world["councils"]["shropshire"]
    access.require_council_member(world["finance"], staffordshire, role="finance")
    access.require_council_member(world["admin"], shropshire, role="finance")
    for user, council, role in [
        (world["finance"], shropshire, "finance"),
        (world["editor"], staffordshire, "finance"),
        (world["approver"], staffordshire, None),
        (world["anonymous"], staffordshire, None),
    ]:
        with pytest.raises(PermissionDenied):
            access.require_council_member(user, council, role=role)


def test_unknown_school_role_is_a_programming_error(world):
    """A misspelt role fails loudly instead of quietly matching nothing."""
    with pytest.raises(ValueError):
        access.schools_for(world["approver"], role="aprover")


def test_school_member_required_decorator(world):
    """The decorator: anonymous → sign in, unknown URN → 404, wrong role → 403, else the view gets the school."""

    @access.school_member_required(role="approver")
    def view(request, school):
        return HttpResponse(school.name)

    factory = RequestFactory()
    urn = world["school"].urn

    def call(user, urn=urn):
        request = factory.get("/x/")
        request.user = user
        return view(request, urn=urn)

    assert call(world["anonymous"]).status_code == 302
    with pytest.raises(Http404):
        call(world["approver"], urn=1)
    with pytest.raises(PermissionDenied):
        call(world["booker"])
    assert call(world["approver"]).content.decode() == world["school"].name
    assert call(world["admin"]).status_code == 200


def test_council_member_mixin(world):
    """The class-based mixin applies the same rules to councils."""

    class FinanceView(access.CouncilMemberRequiredMixin, View):
        council_role = "finance"

        def get(self, request, *args, **kwargs):
            return HttpResponse(self.council.name)

    factory = RequestFactory()

    def call(user, slug="staffordshire"):
        request = factory.get("/x/")
        request.user = user
        return FinanceView.as_view()(request, council_slug=slug)

    assert call(world["anonymous"]).status_code == 302
    with pytest.raises(PermissionDenied):
        call(world["editor"])
    with pytest.raises(PermissionDenied):
        call(world["finance"], slug="shropshire")
    with pytest.raises(Http404):
        call(world["finance"], slug="nowhere")
    assert call(world["finance"]).content.decode() == "Staffordshire County Council"
