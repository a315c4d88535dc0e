"""Reads for accounts and school membership: finding schools, join requests and members.

Every function returns a queryset the caller can paginate; each row carries what its page shows
(select_related / annotations), so a page costs the same number of queries whatever its length.
"""

import re

from allauth.account.models import EmailAddress
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Replace, Upper

from portal import access
from portal.models import JoinRequest, School, SchoolMembership, SchoolRole

_POSTCODE_START = re.compile(r"^[A-Z]{1,2}\d")


def normalise_domain(domain: str) -> str:
    return domain.strip().lower().lstrip("@")


def verified_email_domains(*, user) -> set[str]:
    """Domains of the user's verified email addresses (allauth's EmailAddress.verified)."""
    emails = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    return {email.rsplit("@", 1)[-1].lower() for email in emails}


def school_is_closed(school: School) -> bool:
    # GIAS statuses: "Open", "Open, but proposed to close", "Proposed to open", "Closed".
    return school.status.strip().lower().startswith("closed")


def search_schools(*, query: str, user=None) -> QuerySet[School]:
    """Schools matching a name, URN or postcode; open schools first, then by name.

    Every word of a name must appear (``oak prim`` finds Oakfield Primary). A number finds its URN (and
    names containing it); something shaped like a postcode matches postcodes ignoring spaces and case.
    With ``user``, rows carry ``is_member`` and ``has_pending_request`` for that user.
    """
    words = query.split()
    if not words:
        return School.objects.none()
    compact = "".join(words).upper()
    condition = Q()
    for word in words:
        condition &= Q(name__icontains=word)
    if compact.isdigit():
        condition |= Q(urn=int(compact))
    if _POSTCODE_START.match(compact):
        condition |= Q(postcode_compact__startswith=compact)
    schools = (
        School.objects.annotate(
            postcode_compact=Replace(Upper("postcode"), Value(" "), Value("")),
            status_rank=Case(
                When(status__istartswith="open", then=Value(0)),
                When(status__istartswith="closed", then=Value(2)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )
        .filter(condition)
        .select_related("council")
        .order_by("status_rank", "name", "urn")
    )
    if user is not None and user.is_authenticated:
        schools = schools.annotate(
            is_member=Exists(SchoolMembership.objects.filter(user=user, school=OuterRef("pk"))),
            has_pending_request=Exists(
                JoinRequest.objects.filter(user=user, school=OuterRef("pk"), status=JoinRequest.Status.PENDING)
            ),
        )
    return schools


def schools_matching_verified_domain(*, user) -> QuerySet[School]:
    """Open schools the user could join at once, by a verified email at their registered domain."""
    domains = verified_email_domains(user=user)
    if not domains:
        return School.objects.none()
    same_domain = Q()
    for domain in domains:
        same_domain |= Q(email_domain__iexact=domain)
    return (
        School.objects.filter(same_domain)
        .exclude(status__istartswith="closed")
        .exclude(memberships__user=user)
        .order_by("name")
    )


def school_memberships_of(*, user) -> QuerySet[SchoolMembership]:
    return SchoolMembership.objects.filter(user=user).select_related("school").order_by("school__name")


def join_requests_of(*, user) -> QuerySet[JoinRequest]:
    """The user's own join requests, newest first."""
    return JoinRequest.objects.filter(user=user).select_related("school", "decided_by").order_by("-created_at")


def join_requests_decidable_by(*, user) -> QuerySet[JoinRequest]:
    """Join requests (any status) of the schools the user approves for; every school's for admins."""
    requests = JoinRequest.objects.select_related("user", "school", "decided_by")
    if access.is_partnership_admin(user):
        return requests
    return requests.filter(school__in=access.schools_for(user, role=SchoolRole.APPROVER))


def join_requests_awaiting(*, user) -> QuerySet[JoinRequest]:
    """Pending requests this user should decide, oldest first.

    Approvers see their schools' requests. Administrators, who could decide any, are shown those of
    schools with no approver, which nobody else can decide.
    """
    pending = JoinRequest.objects.filter(status=JoinRequest.Status.PENDING).select_related("user", "school")
    if access.is_partnership_admin(user):
        has_approver = SchoolMembership.objects.filter(school=OuterRef("school"), role=SchoolRole.APPROVER)
        pending = pending.filter(~Exists(has_approver))
    else:
        pending = pending.filter(school__in=access.schools_for(user, role=SchoolRole.APPROVER))
    return pending.order_by("created_at")


def school_members(*, school: School) -> QuerySet[SchoolMembership]:
    """Members of a school, approvers first, then by name."""
    return (
        SchoolMembership.objects.filter(school=school)
        .select_related("user")
        .annotate(role_rank=Case(When(role=SchoolRole.APPROVER, then=Value(0)), default=Value(1)))
        .order_by("role_rank", "user__full_name", "user__email")
    )


def approver_emails(*, school: School) -> list[tuple[int, str]]:
    """(user id, email) of the school's active approvers."""
    return list(
        SchoolMembership.objects.filter(school=school, role=SchoolRole.APPROVER, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", "user__email")
    )
