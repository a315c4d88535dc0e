"""Which course places a page offers to hand on ("Send someone else"); the page that follows checks again."""

from django import template

register = template.Library()


@register.simple_tag
def send_someone_else_ids(groups, user) -> set[int]:
    """Ids of the lines, in a booking page's council groups, that ``user`` may give to someone else now."""
    from ..services.substitutions import lines_user_may_substitute

    return lines_user_may_substitute(user, [line for group in groups for line in group.items])
