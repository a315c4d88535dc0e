"""Wagtail permission policies that add the council to Django's model permissions.

The editors' group grants "change course date"; the policy narrows that to the course dates of the councils
the user manages (``catalogue.access``). Wagtail consults the policy for listings' buttons and bulk actions;
our view classes (``catalogue/admin_views.py``) consult it before showing or changing any single record, so
another council's record answers 404 whichever admin URL is used.
"""

from wagtail.permission_policies import ModelPermissionPolicy

from .access import managed_council_ids


class CouncilScopedPermissionPolicy(ModelPermissionPolicy):
    def __init__(self, model, *, council_field: str, auth_model=None):
        super().__init__(model, auth_model=auth_model)
        self.council_field = council_field  # a lookup path to the council id, e.g. "service__council_id"

    def council_id_of(self, instance) -> int | None:
        value = instance
        for part in self.council_field.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value

    def user_reaches(self, user, instance) -> bool:
        council_ids = managed_council_ids(user)
        return council_ids is None or self.council_id_of(instance) in council_ids

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and self.user_reaches(user, instance)

    def instances_user_has_any_permission_for(self, user, actions):
        queryset = super().instances_user_has_any_permission_for(user, actions)
        council_ids = managed_council_ids(user)
        if council_ids is None:
            return queryset
        return queryset.filter(**{f"{self.council_field}__in": council_ids})


class CourseDatePermissionPolicy(CouncilScopedPermissionPolicy):
    """A course date that anyone has booked can be cancelled but never deleted."""

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "delete" and not instance.can_be_deleted:
            return False
        return super().user_has_permission_for_instance(user, action, instance)
