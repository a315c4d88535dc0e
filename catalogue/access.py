"""Which councils' catalogue records a staff user may manage.

Reach comes from the portal's ``CouncilMembership`` rows (roles editor and course administrator), never from
group names: groups say *what* a user may do (add, change, publish); memberships say *for which council*.
Partnership administrators (superusers) reach every council.
"""

from portal.models import CouncilMembership, CouncilRole

# Roles that manage a council's catalogue records (venues, course dates, price rules).
CATALOGUE_ROLES = (CouncilRole.EDITOR, CouncilRole.COURSE_ADMIN)

_CACHE_ATTRIBUTE = "_catalogue_council_ids"


def managed_council_ids(user) -> frozenset[int] | None:
    """Ids of the councils whose catalogue the user manages; ``None`` means every council (superusers).

    Cached on the user object: admin listings ask once per row, and a request's user does not change reach
    while the request runs.
    """
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is None:
        cached = frozenset(
            CouncilMembership.objects.filter(user=user, role__in=CATALOGUE_ROLES).values_list("council_id", flat=True)
        )
        setattr(user, _CACHE_ATTRIBUTE, cached)
    return cached


def forget_managed_councils(user) -> None:
    """Drop the cached reach (after memberships change within the same request or test)."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)
