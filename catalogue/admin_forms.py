"""Admin forms for the council-scoped records: every choice is narrowed to the councils the editor manages.

The narrowing is also the enforcement: a posted id outside the user's councils fails the field's validation
("Select a valid choice"), so nobody can create or move a record into another council's catalogue.
"""

from wagtail.admin.forms import WagtailAdminModelForm

from portal.models import Council

from .access import managed_council_ids
from .models import CourseServicePage, ServicePage, SubscriptionServicePage, Venue
from .services import has_bookings


def _service_label(service) -> str:
    return f"{service.title} ({service.council.short_name})"


def _in_councils(queryset, council_ids, field: str = "council_id"):
    return queryset if council_ids is None else queryset.filter(**{f"{field}__in": council_ids})


class CouncilScopedForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.council_ids = managed_council_ids(self.for_user) if self.for_user else frozenset()

    def _scope_services(self, name: str, model) -> None:
        if name not in self.fields:
            return
        field = self.fields[name]
        field.label_from_instance = _service_label
        field.queryset = _in_councils(
            model.objects.select_related("council").order_by("council__name", "title"), self.council_ids
        )


class VenueForm(CouncilScopedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        councils = _in_councils(Council.objects.all(), self.council_ids, "id")
        self.fields["council"].queryset = councils
        if not self.instance.pk and len(councils) == 1:
            self.fields["council"].initial = councils[0].pk


class CourseDateForm(CouncilScopedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scope_services("service", CourseServicePage)
        if self.instance.pk and "service" in self.fields and has_bookings(self.instance):
            # Bookings snapshot the course (price, VAT, council, ledger codes); moving the date to another
            # course would leave them describing something else. A disabled field ignores posted values.
            self.fields["service"].disabled = True
            self.fields["service"].help_text = "This date has bookings, so its course cannot be changed."
        self.fields["venue"].queryset = _in_councils(Venue.objects.order_by("town", "name"), self.council_ids)
        self.fields["venue"].empty_label = "Online (no venue)"


class PriceRuleForm(CouncilScopedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._scope_services("service", ServicePage)
        self._scope_services("subscriber_service", SubscriptionServicePage)
