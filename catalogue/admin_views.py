"""Admin views for council-scoped snippets: Wagtail's own views, refusing records of other councils.

Wagtail's generic views load a record by primary key from the model's default manager; each view here then
asks the model's permission policy whether the user reaches that record's council, and answers 404 if not,
so editing, deleting, copying, history and usage all behave the same for another council's record.
"""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin
from wagtail.admin.widgets.button import Button
from wagtail.permissions import policy_registry
from wagtail.snippets.views import chooser, snippets

from .access import managed_council_ids
from .models import CourseDate, CourseDateStatus
from .services import cancel_course_date, deletion_refusal


class CouncilScopedObjectMixin:
    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        policy = policy_registry.get_by_type(self.model)
        if not policy.user_reaches(self.request.user, obj):
            raise Http404("Not one of your council's records.")
        return obj


class ScopedEditView(CouncilScopedObjectMixin, snippets.EditView):
    pass


class ScopedDeleteView(CouncilScopedObjectMixin, snippets.DeleteView):
    pass


class ScopedCopyView(CouncilScopedObjectMixin, snippets.CopyView):
    pass


class ScopedUsageView(CouncilScopedObjectMixin, snippets.UsageView):
    pass


class ScopedHistoryView(CouncilScopedObjectMixin, snippets.HistoryView):
    pass


class ScopedInspectView(CouncilScopedObjectMixin, snippets.InspectView):
    pass


class ScopedCreateView(snippets.CreateView):
    """Pre-fills the service from ``?service=<id>`` (the links on a service page's edit view use it)."""

    def get_initial(self):
        initial = super().get_initial()
        service = self.request.GET.get("service", "")
        if service.isdigit():
            initial["service"] = int(service)
        return initial


class CourseDateDeleteView(ScopedDeleteView):
    """A booked date is never deleted: the editor is told why and sent to cancel it instead."""

    def dispatch(self, request, *args, **kwargs):
        reason = deletion_refusal(self.object)
        if reason:
            messages.error(request, reason)
            return redirect(reverse("catalogue_coursedate:cancel", args=(quote(self.object.pk),)))
        return super().dispatch(request, *args, **kwargs)


class CourseDateIndexView(snippets.IndexView):
    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if instance.status == CourseDateStatus.SCHEDULED and policy_registry.get_by_type(
            CourseDate
        ).user_has_permission_for_instance(self.request.user, "change", instance):
            buttons.append(
                Button(
                    "Cancel date",
                    url=reverse("catalogue_coursedate:cancel", args=(quote(instance.pk),)),
                    icon_name="cross",
                    priority=40,
                )
            )
        return buttons


class CourseDateCancelView(WagtailAdminTemplateMixin, TemplateView):
    """Confirm, then cancel a course date (``catalogue.services.cancel_course_date``)."""

    template_name = "catalogue/admin/cancel_course_date.html"
    page_title = "Cancel course date"
    header_icon = "date"

    @cached_property
    def object(self) -> CourseDate:
        course_date = get_object_or_404(CourseDate.objects.select_related("service", "venue"), pk=self.kwargs["pk"])
        if not policy_registry.get_by_type(CourseDate).user_has_permission_for_instance(
            self.request.user, "change", course_date
        ):
            raise Http404("Not one of your council's course dates.")
        return course_date

    def dispatch(self, request, *args, **kwargs):
        if managed_council_ids(request.user) == frozenset():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.object)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["course_date"] = self.object
        context["index_url"] = reverse("catalogue_coursedate:list")
        context["edit_url"] = reverse("catalogue_coursedate:edit", args=(quote(self.object.pk),))
        return context

    def post(self, request, *args, **kwargs):
        course_date = cancel_course_date(course_date=self.object, user=request.user)
        messages.success(request, f"Course date '{course_date}' cancelled.")
        return redirect("catalogue_coursedate:list")


class _ScopedChooserMixin:
    """Choosers list only the user's councils' records, like the listings."""

    def get_object_list(self):
        policy = policy_registry.get_by_type(self.model_class)
        return policy.instances_user_has_any_permission_for(self.request.user, ["add", "change", "delete", "view"])


class ScopedChooseView(_ScopedChooserMixin, chooser.ChooseView):
    pass


class ScopedChooseResultsView(_ScopedChooserMixin, chooser.ChooseResultsView):
    pass


class ScopedChosenView(chooser.SnippetChosenView):
    def get_object(self, pk):
        obj = super().get_object(pk)
        if not policy_registry.get_by_type(self.model_class).user_reaches(self.request.user, obj):
            raise Http404("Not one of your council's records.")
        return obj


class ScopedSnippetChooserViewSet(chooser.SnippetChooserViewSet):
    choose_view_class = ScopedChooseView
    choose_results_view_class = ScopedChooseResultsView
    chosen_view_class = ScopedChosenView
