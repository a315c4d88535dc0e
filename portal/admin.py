"""Django admin (/django-admin/) for the partnership administrator: accounts, councils, schools, roles.

Council roles have no self-service: they are given here, on the user or on the council. School roles are
normally managed by each school's approver in the portal; this is the way in when a school has no
approver yet, or one has left.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Council, CouncilMembership, JoinRequest, School, SchoolMembership, SentEmail, User


class UserSchoolsInline(admin.TabularInline):
    """On a user: the schools they belong to."""

    model = SchoolMembership
    extra = 0
    autocomplete_fields = ["school"]
    fields = ["school", "role", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name_plural = "school roles"


class UserCouncilsInline(admin.TabularInline):
    """On a user: their council roles, given only here."""

    model = CouncilMembership
    extra = 0
    fields = ["council", "role", "created_at"]
    readonly_fields = ["created_at"]
    verbose_name_plural = "council roles"


class SchoolMembersInline(admin.TabularInline):
    """On a school: its members."""

    model = SchoolMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class CouncilMembersInline(admin.TabularInline):
    """On a council: its staff and their roles."""

    model = CouncilMembership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


class PortalUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class PortalUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    ordering = ["email"]
    list_display = ["email", "full_name", "job_title", "is_active", "is_staff", "is_superuser", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "council_memberships__council", "council_memberships__role"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["last_login", "date_joined"]
    inlines = [UserSchoolsInline, UserCouncilsInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "job_title")}),
        (
            _("Permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": "A superuser is a partnership administrator: they see and do everything. "
                "Council staff need 'staff status' to reach the council admin.",
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "usable_password", "password1", "password2")}),
    )


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ["name", "la_code", "invoice_prefix", "email", "is_demo_data"]
    search_fields = ["name", "short_name", "la_code"]
    prepopulated_fields = {"slug": ["short_name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # Django 6's default, chosen now
    inlines = [CouncilMembersInline]


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "urn", "laestab", "la_name", "funding_route", "phase", "status", "email_domain"]
    list_filter = ["la_name", "funding_route", "phase", "status"]
    search_fields = ["name", "=urn", "laestab", "postcode", "email_domain", "trust_name"]
    list_select_related = ["council"]
    readonly_fields = ["updated_at"]
    inlines = [SchoolMembersInline]


@admin.register(SchoolMembership)
class SchoolMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "school", "role", "created_at"]
    list_filter = ["role", "school__la_name"]
    search_fields = ["user__email", "user__full_name", "school__name", "=school__urn"]
    autocomplete_fields = ["user", "school"]
    list_select_related = ["user", "school"]


@admin.register(CouncilMembership)
class CouncilMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "council", "role", "created_at"]
    list_filter = ["council", "role"]
    search_fields = ["user__email", "user__full_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "council"]


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    """History of requests. Deciding happens in the portal, where the decision emails are sent."""

    list_display = ["user", "school", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    search_fields = ["user__email", "school__name", "=school__urn"]
    list_select_related = ["user", "school", "decided_by"]
    readonly_fields = [
        "user",
        "school",
        "message",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "granted_role",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(SentEmail)
class SentEmailAdmin(admin.ModelAdmin):
    list_display = ["key", "recipient", "subject", "sent_at"]
    search_fields = ["key", "recipient"]
    readonly_fields = ["key", "recipient", "subject", "sent_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
