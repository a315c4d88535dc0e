"""Who may see and do what: the one place every app asks.

A user's reach comes only from their memberships (``portal.models.memberships``): school roles ``booker``
and ``approver`` (an approver can do everything a booker can, and also decides bookings and manages the
school's members), and council roles ``editor``, ``finance`` and ``course_admin`` (independent of each
other). A partnership administrator (``User.is_partnership_admin``, an active superuser) reaches everything.
Anonymous users reach nothing.

Views use the decorators or mixins at the bottom: they load the object named in the URL (404 if there is
none), check the role (403 if the user lacks it; login first if anonymous) and hand the object on. Code
that lists things filters through ``schools_for`` / ``councils_for`` so that lists and detail pages agree.
"""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from portal.models import Council, CouncilMembership, School, SchoolMembership, SchoolRole

# Which membership roles satisfy a required school role: an approver is also a booker.
SCHOOL_ROLES_SATISFYING = {
    SchoolRole.BOOKER: [SchoolRole.BOOKER, SchoolRole.APPROVER],
    SchoolRole.APPROVER: [SchoolRole.APPROVER],
}


def is_partnership_admin(user) -> bool:
    return bool(getattr(user, "is_partnership_admin", False))


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _school_roles(role: str | None) -> list[str] | None:
    if role is None:
        return None
    try:
        return SCHOOL_ROLES_SATISFYING[SchoolRole(role)]
    except ValueError:
        raise ValueError(f"Unknown school role {role!r}") from None


def _council_roles(role: str | Iterable[str] | None) -> list[str] | None:
    if role is None:
        return None
    return [role] if isinstance(role, str) else list(role)


def school_memberships_for(user, *, role: str | None = None) -> QuerySet[SchoolMembership]:
    """The user's own school memberships holding at least ``role`` (admins hold none by being admins)."""
    if not _signed_in(user):
        return SchoolMembership.objects.none()
    memberships = SchoolMembership.objects.filter(user=user)
    roles = _school_roles(role)
    return memberships if roles is None else memberships.filter(role__in=roles)


def schools_for(user, *, role: str | None = None) -> QuerySet[School]:
    """Schools the user acts for with at least ``role`` (None: any membership); all of them for admins."""
    if not _signed_in(user):
        return School.objects.none()
    if is_partnership_admin(user):
        return School.objects.all()
    return School.objects.filter(pk__in=school_memberships_for(user, role=role).values("school_id"))


def councils_for(user, *, role: str | Iterable[str] | None = None) -> QuerySet[Council]:
    """Councils where the user holds ``role`` (one role or several; None: any); all of them for admins."""
    if not _signed_in(user):
        return Council.objects.none()
    if is_partnership_admin(user):
        return Council.objects.all()
    memberships = CouncilMembership.objects.filter(user=user)
    roles = _council_roles(role)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return Council.objects.filter(pk__in=memberships.values("council_id"))


def school_role(user, school: School) -> str | None:
    """The user's own role at the school, or None. Admins get None unless they are members too."""
    if not _signed_in(user):
        return None
    return SchoolMembership.objects.filter(user=user, school=school).values_list("role", flat=True).first()


def is_school_member(user, school: School, *, role: str | None = None) -> bool:
    """Whether the user may act for the school with at least ``role``; always for admins."""
    if not _signed_in(user):
        return False
    if is_partnership_admin(user):
        return True
    return school_memberships_for(user, role=role).filter(school=school).exists()


def is_school_approver(user, school: School) -> bool:
    """Approvers decide bookings and join requests and manage the school's members."""
    return is_school_member(user, school, role=SchoolRole.APPROVER)


def is_council_member(user, council: Council, *, role: str | Iterable[str] | None = None) -> bool:
    """Whether the user holds ``role`` (or any role) at the council; always for admins."""
    if not _signed_in(user):
        return False
    if is_partnership_admin(user):
        return True
    memberships = CouncilMembership.objects.filter(user=user, council=council)
    roles = _council_roles(role)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    return memberships.exists()


def require_school_member(user, school: School, role: str | None = None) -> None:
    """Raise PermissionDenied unless the user may act for the school with at least ``role``."""
    if not is_school_member(user, school, role=role):
        raise PermissionDenied("You do not have access to this school.")


def require_school_approver(user, school: School) -> None:
    require_school_member(user, school, role=SchoolRole.APPROVER)


def require_council_member(user, council: Council, role: str | Iterable[str] | None = None) -> None:
    """Raise PermissionDenied unless the user holds ``role`` (or any role) at the council."""
    if not is_council_member(user, council, role=role):
        raise PermissionDenied("You do not have access to this council.")


# --- Views --------------------------------------------------------------------------------------------


def school_member_required(role: str | None = None, *, url_kwarg: str = "urn"):
    """Decorate a view taking ``<urn>``: anonymous → login, unknown school → 404, no role → 403.

    The view is called with ``school=`` (the School) instead of the URN.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            school = get_object_or_404(School, urn=kwargs.pop(url_kwarg))
            require_school_member(request.user, school, role=role)
            return view(request, *args, school=school, **kwargs)

        return wrapped

    return decorator


def council_member_required(role: str | Iterable[str] | None = None, *, url_kwarg: str = "council_slug"):
    """Decorate a view taking ``<council_slug>``; the view is called with ``council=``."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            council = get_object_or_404(Council, slug=kwargs.pop(url_kwarg))
            require_council_member(request.user, council, role=role)
            return view(request, *args, council=council, **kwargs)

        return wrapped

    return decorator


class SchoolMemberRequiredMixin(LoginRequiredMixin):
    """For class-based views with ``<urn>`` in the URL: sets ``self.school`` after the same checks."""

    school_role: str | None = None
    school_url_kwarg = "urn"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.school = get_object_or_404(School, urn=kwargs[self.school_url_kwarg])
        require_school_member(request.user, self.school, role=self.school_role)
        return super().dispatch(request, *args, **kwargs)


class CouncilMemberRequiredMixin(LoginRequiredMixin):
    """For class-based views with ``<council_slug>`` in the URL: sets ``self.council``."""

    council_role: str | Iterable[str] | None = None
    council_url_kwarg = "council_slug"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.council = get_object_or_404(Council, slug=kwargs[self.council_url_kwarg])
        require_council_member(request.user, self.council, role=self.council_role)
        return super().dispatch(request, *args, **kwargs)
