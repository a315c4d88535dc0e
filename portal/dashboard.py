"""The dashboard's sections, and how other apps add theirs.

The dashboard (``portal:dashboard``) is a list of sections, each a template plus a function that returns
its context for the request (or None to leave the section out). Portal registers its own below; a higher
app registers more from its ``AppConfig.ready()`` without portal importing it (DESIGN.md's layering)::

    from portal.dashboard import DashboardSection, register

    register(DashboardSection(name="bookings", template="bookings/dashboard/bookings.html",
                              get_context=bookings_section_context, order=30))

Orders used so far: 10 join suggestions, 20 requests to decide, 30 your schools, 40 your requests,
50 council roles, 90 account links. Leave gaps; bookings and approvals fit between 20 and 30.
"""

from collections.abc import Callable
from dataclasses import dataclass

from portal import selectors

_SECTIONS: dict[str, "DashboardSection"] = {}


@dataclass(frozen=True)
class DashboardSection:
    name: str
    template: str
    get_context: Callable[..., dict | None]
    order: int = 50


@dataclass(frozen=True)
class RenderedSection:
    name: str
    template: str
    context: dict


def register(section: DashboardSection) -> None:
    """Add or replace (by name) a dashboard section."""
    _SECTIONS[section.name] = section


def sections_for(request) -> list[RenderedSection]:
    """The sections to show this user, in order, with their context."""
    shown = []
    for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name)):
        context = section.get_context(request)
        if context is not None:
            shown.append(RenderedSection(name=section.name, template=section.template, context=context))
    return shown


# --- Portal's own sections ----------------------------------------------------------------------------


def _join_suggestions(request):
    schools = list(selectors.schools_matching_verified_domain(user=request.user)[:5])
    return {"schools": schools} if schools else None


def _requests_to_decide(request):
    pending = list(selectors.join_requests_awaiting(user=request.user)[:50])
    return {"join_requests": pending} if pending else None


def _your_schools(request):
    return {"memberships": list(selectors.school_memberships_of(user=request.user))}


def _your_requests(request):
    requests = list(selectors.join_requests_of(user=request.user)[:10])
    return {"join_requests": requests} if requests else None


def _council_roles(request):
    memberships = list(request.user.council_memberships.select_related("council"))
    is_admin = request.user.is_partnership_admin
    return {"memberships": memberships, "is_admin": is_admin} if memberships or is_admin else None


def _account_links(request):
    return {}


for _section in (
    DashboardSection("join_suggestions", "portal/dashboard/join_suggestions.html", _join_suggestions, 10),
    DashboardSection("requests_to_decide", "portal/dashboard/requests_to_decide.html", _requests_to_decide, 20),
    DashboardSection("your_schools", "portal/dashboard/your_schools.html", _your_schools, 30),
    DashboardSection("your_requests", "portal/dashboard/your_requests.html", _your_requests, 40),
    DashboardSection("council_roles", "portal/dashboard/council_roles.html", _council_roles, 50),
    DashboardSection("account", "portal/dashboard/account.html", _account_links, 90),
):
    register(_section)
