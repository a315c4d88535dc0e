"""Per-council editing: every editor works only in their own council's subtree, for every pair of councils."""

from itertools import permutations

import pytest
from django.urls import reverse
from wagtail.models import Page, WorkflowState

from catalogue.models import CourseServicePage
from catalogue.permissions import reviewers_group_name
from tests.catalogue.conftest import COUNCIL_SLUGS
from tests.catalogue.factories import add_service

PAIRS = list(permutations(COUNCIL_SLUGS, 2))
# Wagtail's admin answers a refused browser request with a redirect to the dashboard and the message "Sorry, you
# do not have permission to access this area."; to a script (X-Requested-With) it answers 403. The matrix asks
# as a script so that the refusal itself is asserted, and one test below checks what a browser sees.
AS_SCRIPT = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def _edit_data(page, **changes):
    data = {
        "title": page.title,
        "slug": page.slug,
        "summary": page.summary,
        "body-count": "0",
        "duration": "",
        "audience": "",
        "vat_treatment": page.vat_treatment,
        "cancellation_free_days": page.cancellation_free_days,
        "cancellation_policy": "",
        "delegates_must_be_named": "on",
        "comments-TOTAL_FORMS": "0",
        "comments-INITIAL_FORMS": "0",
        "comments-MIN_NUM_FORMS": "0",
        "comments-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), PAIRS, ids=[f"{a}-editor-on-{b}" for a, b in PAIRS])
def test_editor_gets_403_on_another_councils_page(client, tree, editors, own, other):
    """An editor of one council gets 403 editing, publishing, moving or deleting another council's page."""
    theirs = add_service(tree.providers[other], title=f"{other} safeguarding course")
    client.force_login(editors[own])
    page_id = theirs.pk
    own_provider = tree.providers[own]

    edit_url = reverse("wagtailadmin_pages:edit", args=[page_id])
    requests = {
        "edit": client.get(edit_url, **AS_SCRIPT),
        "edit (save)": client.post(edit_url, _edit_data(theirs, title="X"), **AS_SCRIPT),
        "publish": client.post(edit_url, _edit_data(theirs, title="X", **{"action-publish": "1"}), **AS_SCRIPT),
        "unpublish": client.post(reverse("wagtailadmin_pages:unpublish", args=[page_id]), **AS_SCRIPT),
        "move": client.get(reverse("wagtailadmin_pages:move", args=[page_id]), **AS_SCRIPT),
        "move (confirm)": client.post(
            reverse("wagtailadmin_pages:move_confirm", args=[page_id, own_provider.pk]), **AS_SCRIPT
        ),
        "delete": client.get(reverse("wagtailadmin_pages:delete", args=[page_id]), **AS_SCRIPT),
        "delete (confirm)": client.post(reverse("wagtailadmin_pages:delete", args=[page_id]), **AS_SCRIPT),
        "add under their provider": client.get(
            reverse("wagtailadmin_pages:add", args=["catalogue", "courseservicepage", tree.providers[other].pk]),
            **AS_SCRIPT,
        ),
    }
    assert {name: response.status_code for name, response in requests.items()} == dict.fromkeys(requests, 403)
    theirs.refresh_from_db()
    assert theirs.title == f"{other} safeguarding course"
    assert theirs.live
    assert theirs.get_parent().pk == tree.providers[other].pk


@pytest.mark.django_db
def test_browser_refused_with_message(client, tree, editors):
    """In a browser, a refused admin page sends the editor to the dashboard with Wagtail's refusal message."""
    theirs = add_service(tree.providers["worcestershire"], title="Music service SLA")
    client.force_login(editors["staffordshire"])
    response = client.get(reverse("wagtailadmin_pages:edit", args=[theirs.pk]), follow=True)
    assert response.redirect_chain == [(reverse("wagtailadmin_home"), 302)]
    assert "Sorry, you do not have permission to access this area." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), PAIRS, ids=[f"{a}-editor-to-{b}" for a, b in PAIRS])
def test_editor_cannot_move_own_page_into_another_council(client, tree, editors, own, other):
    """Moving one's own page under another council's provider page is refused and changes nothing."""
    mine = add_service(tree.providers[own], title="Phonics for early readers")
    client.force_login(editors[own])
    response = client.post(
        reverse("wagtailadmin_pages:move_confirm", args=[mine.pk, tree.providers[other].pk]), **AS_SCRIPT
    )
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.get_parent().pk == tree.providers[own].pk
    assert mine.council.slug == own


@pytest.mark.django_db
@pytest.mark.parametrize("own", COUNCIL_SLUGS)
def test_editor_edits_own_page_but_cannot_publish_it(client, tree, editors, own):
    """An editor can open and save their own council's page; "publish" only saves a draft."""
    mine = add_service(tree.providers[own], title="New governor induction")
    client.force_login(editors[own])
    edit_url = reverse("wagtailadmin_pages:edit", args=[mine.pk])
    assert client.get(edit_url).status_code == 200

    response = client.post(edit_url, _edit_data(mine, title="New governor induction (updated)"))
    assert response.status_code == 302
    response = client.post(edit_url, _edit_data(mine, title="Published?", **{"action-publish": "1"}))
    assert response.status_code == 302

    mine = CourseServicePage.objects.get(pk=mine.pk)
    assert mine.title == "New governor induction"  # the live version is untouched
    assert mine.has_unpublished_changes
    assert mine.get_latest_revision_as_object().title == "Published?"


@pytest.mark.django_db
@pytest.mark.parametrize("own", COUNCIL_SLUGS)
def test_editor_can_add_a_service_under_own_provider(client, tree, editors, own):
    """The add-page form for each kind of service opens under the editor's own provider page."""
    client.force_login(editors[own])
    for model_name in ("courseservicepage", "subscriptionservicepage", "oneoffservicepage"):
        url = reverse("wagtailadmin_pages:add", args=["catalogue", model_name, tree.providers[own].pk])
        assert client.get(url).status_code == 200, model_name


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), PAIRS, ids=[f"{a}-then-{b}" for a, b in PAIRS])
def test_submitted_page_waits_for_own_councils_reviewer(client, tree, editors, councils, own, other):
    """A submitted page enters its council's approval workflow; only that council's reviewers can approve it."""
    from django.contrib.auth.models import Group

    mine = add_service(tree.providers[own], title="Health and safety SLA")
    editor = editors[own]
    client.force_login(editor)
    client.post(
        reverse("wagtailadmin_pages:edit", args=[mine.pk]),
        _edit_data(mine, title="Health and safety SLA 2027", **{"action-submit": "1"}),
    )
    state = WorkflowState.objects.get(base_content_type__model="page", object_id=str(mine.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == f"{councils[own].short_name} approval"
    task_state = state.current_task_state

    other_reviewer = editors[other]
    other_reviewer.groups.add(Group.objects.get(name=reviewers_group_name(councils[other])))
    client.force_login(other_reviewer)
    approve_url = reverse("wagtailadmin_pages:workflow_action", args=[mine.pk, "approve", task_state.pk])
    assert client.post(approve_url, **AS_SCRIPT).status_code == 403
    assert not Page.objects.get(pk=mine.pk).title.endswith("2027")

    reviewer = editors[own]
    reviewer.groups.add(Group.objects.get(name=reviewers_group_name(councils[own])))
    client.force_login(reviewer)
    response = client.post(approve_url)
    assert response.status_code in (200, 302)
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED
    assert Page.objects.get(pk=mine.pk).title == "Health and safety SLA 2027"
