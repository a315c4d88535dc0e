"""The catalogue in Wagtail's admin: categories, venues, course dates and price rules, each council seeing
only its own (categories are shared and managed by partnership administrators).

Row scoping has three layers: the listing's queryset, the permission policy (buttons, bulk actions) and the
view classes (single records answer 404). See ``catalogue/permission_policies.py`` and ``admin_views.py``.
"""

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied
from django.urls import path
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .access import managed_council_ids
from .admin_forms import CourseDateForm, PriceRuleForm, VenueForm
from .admin_views import (
    CourseDateCancelView,
    CourseDateDeleteView,
    CourseDateEditView,
    CourseDateIndexView,
    ScopedCopyView,
    ScopedCreateView,
    ScopedDeleteView,
    ScopedEditView,
    ScopedHistoryView,
    ScopedInspectView,
    ScopedSnippetChooserViewSet,
    ScopedUsageView,
)
from .models import Category, CourseDate, CourseServicePage, PriceRule, ProviderPage, ServicePage, Venue
from .permission_policies import CouncilScopedPermissionPolicy, CourseDatePermissionPolicy
from .permissions import grant_council_rights

VENUE_POLICY = CouncilScopedPermissionPolicy(Venue, council_field="council_id")
COURSE_DATE_POLICY = CourseDatePermissionPolicy(CourseDate, council_field="council_id")
PRICE_RULE_POLICY = CouncilScopedPermissionPolicy(PriceRule, council_field="service__council_id")
register_permission_policy(Venue, VENUE_POLICY)
register_permission_policy(CourseDate, COURSE_DATE_POLICY)
register_permission_policy(PriceRule, PRICE_RULE_POLICY)

ALL_ACTIONS = ["add", "change", "delete", "view"]


def _services_for(request, model):
    queryset = model.objects.order_by("title")
    council_ids = managed_council_ids(request.user)
    return queryset if council_ids is None else queryset.filter(council_id__in=council_ids)


class CouncilScopedViewSet(SnippetViewSet):
    policy: CouncilScopedPermissionPolicy
    search_backend_name = None  # plain ORM search over search_fields
    copy_view_enabled = False
    inspect_view_enabled = False
    add_view_class = ScopedCreateView
    edit_view_class = ScopedEditView
    delete_view_class = ScopedDeleteView
    copy_view_class = ScopedCopyView
    usage_view_class = ScopedUsageView
    history_view_class = ScopedHistoryView
    inspect_view_class = ScopedInspectView
    chooser_viewset_class = ScopedSnippetChooserViewSet
    select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = self.policy.instances_user_has_any_permission_for(request.user, ALL_ACTIONS)
        return queryset.select_related(*self.select_related)


class CategoryViewSet(SnippetViewSet):
    model = Category
    icon = "tag"
    menu_label = "Categories"
    list_display = ["name", "slug"]
    search_fields = ["name"]
    search_backend_name = None


class VenueViewSet(CouncilScopedViewSet):
    model = Venue
    policy = VENUE_POLICY
    icon = "site"
    menu_label = "Venues"
    list_display = ["name", "town", "postcode", "council"]
    list_filter = ["town"]
    search_fields = ["name", "town", "postcode"]
    select_related = ("council",)
    edit_handler = ObjectList(Venue.panels, base_form_class=VenueForm)


class CourseDateFilterSet(WagtailFilterSet):
    service = django_filters.ModelChoiceFilter(
        label="Course", queryset=lambda request: _services_for(request, CourseServicePage)
    )
    starts_at = django_filters.DateFromToRangeFilter(label="Starts between", widget=DateRangePickerWidget)

    class Meta:
        model = CourseDate
        fields = ["service", "status", "starts_at"]


class CourseDateViewSet(CouncilScopedViewSet):
    model = CourseDate
    policy = COURSE_DATE_POLICY
    icon = "date"
    menu_label = "Course dates"
    admin_url_namespace = "catalogue_coursedate"
    base_url_path = "catalogue/course-dates"
    list_display = ["service", "starts_at", "venue", "capacity", "places_taken", "places_left", "status"]
    filterset_class = CourseDateFilterSet
    search_fields = ["service__title", "trainer", "venue__name", "venue__town"]
    select_related = ("service", "venue", "council")
    index_view_class = CourseDateIndexView
    edit_view_class = CourseDateEditView
    delete_view_class = CourseDateDeleteView
    # No status field: a date is cancelled only through the Cancel date view (catalogue.services.
    # cancel_course_date), which tells the bookings app so that every booking on it is cancelled too.
    edit_handler = ObjectList(
        [
            FieldPanel("service", widget=forms.Select),
            FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
            MultiFieldPanel([FieldPanel("venue"), FieldPanel("online_details")], heading="Where"),
            FieldRowPanel([FieldPanel("capacity"), FieldPanel("trainer")]),
            FieldRowPanel([FieldPanel("booking_opens_at"), FieldPanel("booking_closes_at")]),
            FieldPanel("price_override"),
        ],
        base_form_class=CourseDateForm,
    )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("cancel/<int:pk>/", CourseDateCancelView.as_view(), name="cancel"),
        ]


class PriceRuleFilterSet(WagtailFilterSet):
    service = django_filters.ModelChoiceFilter(
        label="Service", queryset=lambda request: _services_for(request, ServicePage)
    )

    class Meta:
        model = PriceRule
        fields = ["service", "kind", "customer_type", "phase"]


class PriceRuleViewSet(CouncilScopedViewSet):
    model = PriceRule
    policy = PRICE_RULE_POLICY
    icon = "tag"
    menu_label = "Price rules"
    admin_url_namespace = "catalogue_pricerule"
    base_url_path = "catalogue/price-rules"
    list_display = ["service", "kind", "label", "amount", "rate_per_pupil", "phase", "customer_type"]
    filterset_class = PriceRuleFilterSet
    search_fields = ["service__title", "label"]
    select_related = ("service", "subscriber_service")
    ordering = ["service__title", "sort_order", "id"]
    edit_handler = ObjectList(
        [
            FieldPanel("service", widget=forms.Select),
            FieldRowPanel([FieldPanel("kind"), FieldPanel("label")]),
            MultiFieldPanel(
                [
                    FieldPanel("amount"),
                    FieldRowPanel([FieldPanel("rate_per_pupil"), FieldPanel("minimum"), FieldPanel("maximum")]),
                    FieldRowPanel([FieldPanel("pupils_from"), FieldPanel("pupils_to")]),
                ],
                heading="Price",
            ),
            MultiFieldPanel(
                [
                    FieldPanel("phase"),
                    FieldPanel("customer_type"),
                    FieldPanel("subscriber_service", widget=forms.Select),
                ],
                heading="Who it applies to",
            ),
            FieldPanel("sort_order"),
        ],
        base_form_class=PriceRuleForm,
    )


class CatalogueViewSetGroup(SnippetViewSetGroup):
    menu_label = "Catalogue"
    menu_icon = "list-ul"
    menu_order = 150
    items = (CourseDateViewSet, PriceRuleViewSet, VenueViewSet, CategoryViewSet)


register_snippet(CatalogueViewSetGroup)


@hooks.register("register_log_actions")
def register_catalogue_log_actions(actions):
    actions.register_action("catalogue.course_date.cancel", "Cancel course date", "Course date cancelled")


@hooks.register("after_create_page")
def grant_rights_on_new_provider_page(request, page):
    """A provider page created in the admin gets its council's groups, rights and workflow straight away."""
    if isinstance(page.specific, ProviderPage):
        grant_council_rights(council=page.specific.council, provider_page=page.specific)


@hooks.register("before_delete_page")
def keep_provider_pages(request, page):
    """Only a partnership administrator may remove a council's whole part of the catalogue."""
    if isinstance(page.specific, ProviderPage) and not request.user.is_superuser:
        raise PermissionDenied
