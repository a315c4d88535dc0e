"""Views of the portal app. Thin: they check who is asking, then call selectors and services.

Objects named in a URL are looked up inside what the user may see, so a join request of another school
is a 404 and a school the user does not approve for is a 403 (``portal.access``); anonymous users are sent
to sign in. Refusals from the services come back as ``ValidationError`` and are shown as messages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal import access, dashboard, memberships, selectors
from portal.forms import DECISION_DECLINE, JoinDecisionForm, JoinRequestForm, MemberRoleForm, SchoolSearchForm
from portal.models import JoinRequest, School, SchoolRole

SEARCH_PAGE_SIZE = 20


def _refusal(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@login_required
def dashboard_view(request):
    """The signed-in user's home: their schools, requests and roles, and any sections other apps add."""
    return render(request, "portal/dashboard.html", {"sections": dashboard.sections_for(request)})


@login_required
def school_search(request):
    """Find a school to join by name, URN or postcode."""
    form = SchoolSearchForm(request.GET or None)
    page = None
    if form.is_valid():
        schools = selectors.search_schools(query=form.cleaned_data["q"], user=request.user)
        page = Paginator(schools, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/school_search.html", {"form": form, "page": page})


@login_required
def school_join(request, urn: int):
    """Ask to join a school (or join at once by verified email domain)."""
    school = get_object_or_404(School.objects.select_related("council"), urn=urn)
    role = access.school_role(request.user, school)
    pending = JoinRequest.objects.filter(user=request.user, school=school, status=JoinRequest.Status.PENDING).first()
    domain = selectors.normalise_domain(school.email_domain)
    joins_at_once = bool(domain) and domain in selectors.verified_email_domains(user=request.user)
    form = JoinRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = memberships.request_to_join(
                user=request.user, school=school, message=form.cleaned_data["message"]
            )
        except ValidationError as error:
            _refusal(request, error)
            return redirect("portal:school_join", urn=school.urn)
        if outcome.joined:
            messages.success(request, f"You have joined {school.name} as a booker.")
        else:
            messages.success(
                request, f"Your request to join {school.name} has been sent. We will email you when it is decided."
            )
        return redirect("portal:dashboard")
    context = {
        "school": school,
        "role": role,
        "pending": pending,
        "closed": selectors.school_is_closed(school),
        "joins_at_once": joins_at_once,
        "form": form,
    }
    return render(request, "portal/school_join.html", context)


@login_required
def join_request_decide(request, pk: int):
    """An approver accepts (as booker or approver) or declines a request to join their school."""
    join_request = get_object_or_404(selectors.join_requests_decidable_by(user=request.user), pk=pk)
    form = JoinDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision = form.cleaned_data["decision"]
        try:
            if decision == DECISION_DECLINE:
                memberships.decline_join_request(
                    join_request=join_request, decided_by=request.user, note=form.cleaned_data["note"]
                )
                messages.success(
                    request, f"You declined {join_request.user}'s request to join {join_request.school.name}."
                )
            else:
                memberships.accept_join_request(join_request=join_request, decided_by=request.user, role=decision)
                as_role = "an approver" if decision == SchoolRole.APPROVER else "a booker"
                messages.success(request, f"{join_request.user} has joined {join_request.school.name} as {as_role}.")
        except ValidationError as error:
            _refusal(request, error)
            return redirect("portal:join_request_decide", pk=join_request.pk)
        return redirect("portal:dashboard")
    return render(request, "portal/join_request_decide.html", {"join_request": join_request, "form": form})


@login_required
@require_POST
def join_request_withdraw(request, pk: int):
    """The requester takes back their own pending request."""
    join_request = get_object_or_404(JoinRequest.objects.select_related("school"), pk=pk, user=request.user)
    try:
        memberships.withdraw_join_request(join_request=join_request, user=request.user)
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(request, f"You withdrew your request to join {join_request.school.name}.")
    return redirect("portal:dashboard")


@access.school_member_required(role=SchoolRole.APPROVER)
def school_members(request, school: School):
    """An approver's list of the school's members, with ways to change roles and remove people."""
    context = {
        "school": school,
        "members": selectors.school_members(school=school),
        "pending": selectors.join_requests_awaiting(user=request.user).filter(school=school),
    }
    return render(request, "portal/school_members.html", context)


def _after_member_change(request, school: School):
    # An approver who made themselves a booker can no longer see the members page.
    if access.is_school_approver(request.user, school):
        return redirect("portal:school_members", urn=school.urn)
    return redirect("portal:dashboard")


@access.school_member_required(role=SchoolRole.APPROVER)
def school_member_edit(request, school: School, membership_id: int):
    """Change a member's role."""
    membership = get_object_or_404(school.memberships.select_related("user"), pk=membership_id)
    form = MemberRoleForm(request.POST or None, initial={"role": membership.role})
    if request.method == "POST" and form.is_valid():
        try:
            changed = memberships.change_member_role(
                membership=membership, role=form.cleaned_data["role"], changed_by=request.user
            )
        except ValidationError as error:
            _refusal(request, error)
            return redirect("portal:school_member_edit", urn=school.urn, membership_id=membership.pk)
        messages.success(request, f"{changed.user} is now {changed.get_role_display().lower()} at {school.name}.")
        return _after_member_change(request, school)
    return render(request, "portal/school_member_edit.html", {"school": school, "membership": membership, "form": form})


@access.school_member_required(role=SchoolRole.APPROVER)
def school_member_remove(request, school: School, membership_id: int):
    """Confirm, then remove someone from the school."""
    membership = get_object_or_404(school.memberships.select_related("user"), pk=membership_id)
    if request.method == "POST":
        try:
            memberships.remove_member(membership=membership, removed_by=request.user)
        except ValidationError as error:
            _refusal(request, error)
            return redirect("portal:school_members", urn=school.urn)
        messages.success(request, f"{membership.user} is no longer a member of {school.name}.")
        return _after_member_change(request, school)
    cancel_url = reverse("portal:school_members", args=[school.urn])
    return render(
        request,
        "portal/school_member_remove.html",
        {"school": school, "membership": membership, "cancel_url": cancel_url},
    )
