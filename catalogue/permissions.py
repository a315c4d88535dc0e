"""Who may do what in each council's part of the catalogue: Wagtail groups, page permissions and workflows.

For every council there are three groups:

- "<Council> editors" (CouncilMembership role ``editor``): add and edit pages under the council's provider page
  only, and submit them for moderation; manage the council's venues, course dates and price rules; upload
  documents and images to the council's own collection. They cannot publish.
- "<Council> reviewers": approve (publish) pages under the provider page. The council's moderation workflow
  ("<Council> approval") has one task, approval by this group, and is attached to the provider page, so every
  change an editor submits waits for a reviewer. There is no reviewer role in the portal's memberships, so a
  partnership administrator adds reviewers to the group in Wagtail (Settings › Groups); a reviewer must also
  be an editor of the council (the membership gives the reach, the group the right to publish).
- "<Council> course administrators" (role ``course_admin``): manage the council's course dates and venues,
  without page rights.

``sync_council_groups(user=...)`` puts a user in exactly the editors / course administrators groups their
memberships call for and takes them out of the others (and out of reviewers groups of councils they no longer
edit for). It runs whenever a membership is saved or deleted (``catalogue/signals.py``) and at the end of
``ensure_catalogue()``. Every function here is idempotent.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import (
    Collection,
    GroupApprovalTask,
    GroupCollectionPermission,
    GroupPagePermission,
    Page,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from portal.models import Council, CouncilMembership, CouncilRole

EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page")
REVIEWER_PAGE_PERMISSIONS = ("change_page", "publish_page", "lock_page", "unlock_page")

ADMIN_ACCESS = ("wagtailadmin", "access_admin")
EDITOR_MODEL_PERMISSIONS = [
    ADMIN_ACCESS,
    *[
        ("catalogue", f"{action}_{model}")
        for model in ("venue", "coursedate", "pricerule")
        for action in ("add", "change", "delete", "view")
    ],
]
REVIEWER_MODEL_PERMISSIONS = [
    ADMIN_ACCESS,
    *[("catalogue", f"view_{model}") for model in ("venue", "coursedate", "pricerule")],
]
COURSE_ADMIN_MODEL_PERMISSIONS = [
    ADMIN_ACCESS,
    *[
        ("catalogue", f"{action}_{model}")
        for model in ("venue", "coursedate")
        for action in ("add", "change", "delete", "view")
    ],
]
EDITOR_COLLECTION_PERMISSIONS = [
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
]


def editors_group_name(council: Council) -> str:
    return f"{council.short_name} editors"


def reviewers_group_name(council: Council) -> str:
    return f"{council.short_name} reviewers"


def course_admins_group_name(council: Council) -> str:
    return f"{council.short_name} course administrators"


def workflow_name(council: Council) -> str:
    return f"{council.short_name} approval"


@dataclass(frozen=True)
class CouncilGroups:
    editors: Group
    reviewers: Group
    course_admins: Group


def _permissions(pairs) -> list[Permission]:
    wanted = set(pairs)
    found = [
        permission
        for permission in Permission.objects.filter(codename__in={codename for _, codename in wanted}).select_related(
            "content_type"
        )
        if (permission.content_type.app_label, permission.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"Permissions not found (have migrations run?): {sorted(missing)}")
    return found


def _group(name: str, permissions) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.add(*_permissions(permissions))
    return group


@transaction.atomic
def ensure_council_groups(*, council: Council) -> CouncilGroups:
    """The council's three groups with their model permissions (no page rights: see ``grant_page_rights``)."""
    return CouncilGroups(
        editors=_group(editors_group_name(council), EDITOR_MODEL_PERMISSIONS),
        reviewers=_group(reviewers_group_name(council), REVIEWER_MODEL_PERMISSIONS),
        course_admins=_group(course_admins_group_name(council), COURSE_ADMIN_MODEL_PERMISSIONS),
    )


def _grant_page_permissions(group: Group, page: Page, codenames) -> None:
    for permission in Permission.objects.filter(
        content_type__app_label="wagtailcore", content_type__model="page", codename__in=codenames
    ):
        GroupPagePermission.objects.get_or_create(group=group, page=page, permission=permission)


def ensure_council_collection(*, council: Council) -> Collection:
    """A collection of the council's own documents and images, under the root collection."""
    root = Collection.get_first_root_node()
    existing = root.get_children().filter(name=council.short_name).first()
    return existing or root.add_child(name=council.short_name)


@transaction.atomic
def ensure_council_workflow(*, council: Council, provider_page: Page, reviewers: Group) -> Workflow:
    """The council's moderation workflow (its reviewers approve), attached to its provider page."""
    task = GroupApprovalTask.objects.filter(name=f"{council.short_name} reviewers approve").first()
    if task is None:
        task = GroupApprovalTask.objects.create(name=f"{council.short_name} reviewers approve")
    task.groups.set([reviewers])
    workflow, _ = Workflow.objects.get_or_create(name=workflow_name(council))
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=provider_page, defaults={"workflow": workflow})
    return workflow


@transaction.atomic
def grant_council_rights(*, council: Council, provider_page: Page) -> CouncilGroups:
    """Everything a council's staff need on their own subtree: groups, page rights, collection, workflow."""
    groups = ensure_council_groups(council=council)
    _grant_page_permissions(groups.editors, provider_page, EDITOR_PAGE_PERMISSIONS)
    _grant_page_permissions(groups.reviewers, provider_page, REVIEWER_PAGE_PERMISSIONS)
    collection = ensure_council_collection(council=council)
    for permission in _permissions(EDITOR_COLLECTION_PERMISSIONS):
        GroupCollectionPermission.objects.get_or_create(
            group=groups.editors, collection=collection, permission=permission
        )
    ensure_council_workflow(council=council, provider_page=provider_page, reviewers=groups.reviewers)
    return groups


ROLE_GROUPS = {
    CouncilRole.EDITOR: editors_group_name,
    CouncilRole.COURSE_ADMIN: course_admins_group_name,
}


@transaction.atomic
def sync_council_groups(*, user) -> None:
    """Make the user's catalogue groups match their council memberships (see the module docstring)."""
    from catalogue.access import forget_managed_councils

    memberships = list(CouncilMembership.objects.filter(user=user).select_related("council"))
    wanted: set[str] = set()
    edits_for: set[int] = set()
    for membership in memberships:
        name_for = ROLE_GROUPS.get(membership.role)
        if name_for is None:
            continue
        ensure_council_groups(council=membership.council)
        wanted.add(name_for(membership.council))
        if membership.role == CouncilRole.EDITOR:
            edits_for.add(membership.council_id)

    councils = list(Council.objects.all())
    role_managed = {name_for(council) for council in councils for name_for in ROLE_GROUPS.values()}
    # Reviewers are added by hand; only take them away when the user no longer edits for that council.
    lost_reviewing = {reviewers_group_name(council) for council in councils if council.id not in edits_for}

    current = set(user.groups.values_list("name", flat=True))
    to_remove = (current & role_managed - wanted) | (current & lost_reviewing)
    to_add = wanted - current
    if to_remove:
        user.groups.remove(*Group.objects.filter(name__in=to_remove))
    if to_add:
        user.groups.add(*Group.objects.filter(name__in=to_add))
    forget_managed_councils(user)
    # Django caches a user's permissions on the object; the groups just changed.
    for attribute in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        if hasattr(user, attribute):
            delattr(user, attribute)
