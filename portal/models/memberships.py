"""Who belongs where, with which role.

A user can belong to schools (as a booker, or as the approver who also manages the school's members) and to
councils (editor, finance, course admin). These rows are the only source of a user's reach: every view that
shows school or council data filters through them (see ``portal/access.py``).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class SchoolRole(models.TextChoices):
    BOOKER = "booker", "Booker"
    APPROVER = "approver", "Approver (school business manager)"


class CouncilRole(models.TextChoices):
    EDITOR = "editor", "Catalogue editor"
    FINANCE = "finance", "Finance officer"
    COURSE_ADMIN = "course_admin", "Course administrator"


class SchoolMembership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="school_memberships")
    school = models.ForeignKey("portal.School", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=SchoolRole.choices, default=SchoolRole.BOOKER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "school"], name="one_membership_per_user_school")]
        ordering = ["school__name"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.school.name}"


class CouncilMembership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="council_memberships")
    council = models.ForeignKey("portal.Council", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=CouncilRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "council", "role"], name="one_role_per_user_council")]
        ordering = ["council__name", "role"]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.council.short_name}"


class JoinRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the school"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    school = models.ForeignKey("portal.School", on_delete=models.CASCADE, related_name="join_requests")
    message = models.TextField(blank=True, max_length=1000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_note = models.TextField(blank=True, max_length=1000)
    # The role the approver gave on accepting: the membership can change later, the decision cannot.
    granted_role = models.CharField(max_length=20, choices=SchoolRole.choices, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open request per user and school; decided ones are history.
            models.UniqueConstraint(
                fields=["user", "school"], condition=Q(status="pending"), name="one_pending_join_request"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.school.name} ({self.get_status_display()})"
