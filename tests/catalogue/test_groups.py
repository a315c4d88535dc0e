"""Council groups follow memberships; the catalogue set-up is idempotent; editors can sign in to the admin."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import GroupPagePermission, Workflow, WorkflowPage

from catalogue.permissions import sync_council_groups
from catalogue.setup import ensure_catalogue
from portal.models import CouncilMembership
from tests.catalogue.factories import council_user
from tests.factories import PASSWORD


def _groups(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.mark.django_db
def test_memberships_put_users_in_matching_groups(tree, councils):
    """Editor and course-administrator memberships add the council's groups; finance adds none."""
    user = council_user(councils["staffordshire"], "editor", "course_admin")
    CouncilMembership.objects.create(user=user, council=councils["shropshire"], role="finance")
    assert _groups(user) == {"Staffordshire editors", "Staffordshire course administrators"}


@pytest.mark.django_db
def test_removing_a_membership_removes_the_group_and_reviewing(tree, councils):
    """Deleting the editor membership takes the user out of that council's editors and reviewers groups."""
    user = council_user(councils["worcestershire"], "editor")
    user.groups.add(Group.objects.get(name="Worcestershire reviewers"))
    CouncilMembership.objects.create(user=user, council=councils["shropshire"], role="editor")
    CouncilMembership.objects.get(user=user, council=councils["worcestershire"]).delete()
    assert _groups(user) == {"Shropshire editors"}


@pytest.mark.django_db
def test_sync_leaves_unrelated_groups_alone(tree, councils):
    """Groups the catalogue does not manage (and reviewers of councils still edited) survive a sync."""
    user = council_user(councils["shropshire"], "editor")
    other, _ = Group.objects.get_or_create(name="Finance readers")
    user.groups.add(other, Group.objects.get(name="Shropshire reviewers"))
    sync_council_groups(user=user)
    assert _groups(user) == {"Shropshire editors", "Shropshire reviewers", "Finance readers"}


@pytest.mark.django_db
def test_ensure_catalogue_is_idempotent(tree, councils):
    """Running the set-up again creates no second page, group, permission, workflow or assignment."""

    def counts():
        return (
            GroupPagePermission.objects.count(),
            Group.objects.count(),
            Workflow.objects.count(),
            WorkflowPage.objects.count(),
            tree.index.get_children().count(),
        )

    before = counts()
    again = ensure_catalogue(councils=councils.values())
    assert counts() == before
    assert again.index.pk == tree.index.pk
    assert {slug: page.pk for slug, page in again.providers.items()} == {
        slug: page.pk for slug, page in tree.providers.items()
    }


@pytest.mark.django_db
def test_each_provider_has_its_councils_workflow(tree, councils):
    """Each provider page carries its own council's approval workflow, whose task is its reviewers' approval."""
    for slug, provider in tree.providers.items():
        workflow = provider.get_workflow()
        assert workflow.name == f"{councils[slug].short_name} approval"
        [task] = [task.specific for task in workflow.tasks]
        assert [group.name for group in task.groups.all()] == [f"{councils[slug].short_name} reviewers"]


@pytest.mark.django_db
def test_editor_signs_in_to_the_admin_with_password(client, tree, councils):
    """A council editor signs in through Wagtail's login form and sees the admin dashboard."""
    council_user(councils["shropshire"], "editor", email="editor@shropshire.test")
    response = client.post("/admin/login/", {"username": "editor@shropshire.test", "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get("/admin/").status_code == 200
