"""Admin views for council-scoped snippets: Wagtail's own views, refusing records of other councils.

Wagtail's generic views load a record by primary key from the model's default manager; each view here then
asks the model's permission policy whether the user reaches that record's council, and answers 404 if not,
so editing, deleting, copying, history and usage all behave the same for another council's record.
"""

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.db import transaction
from django.db.models import ProtectedError
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
from .services import (
    CourseDateBusy,
    CourseDateInUse,
    cancel_course_date,
    delete_course_date,
    deletion_refusal,
    lock_for_edit,
)


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


class CourseDateEditView(ScopedEditView):
    """Validates and saves an edit with the date's row locked, so no booking moves ``places_taken`` meanwhile.

    The date is re-read under the lock (``catalogue.services.lock_for_edit``) before the form is built: the
    capacity check, the "course is fixed once booked" rule and the saved status all see the row as it is,
    and a booking that wants a place waits for the edit to commit, then re-checks against the new capacity.
    """

    def post(self, request, *args, **kwargs):
        try:
            with transaction.atomic():
                self.object = lock_for_edit(course_date=self.object)
                return super().post(request, *args, **kwargs)
        except CourseDateBusy as busy:
            messages.error(request, busy.message)
            return redirect(reverse("catalogue_coursedate:edit", args=(quote(self.object.pk),)))


class CourseDateDeleteView(ScopedDeleteView):
    """A booked date is never deleted: the editor is told why and sent to cancel it instead.

    The check before the confirmation page is for the editor's sake; the delete itself goes through
    ``catalogue.services.delete_course_date``, which checks again with the row locked.
    """

    def _refuse(self, reason: str):
        messages.error(self.request, reason)
        return redirect(reverse("catalogue_coursedate:cancel", args=(quote(self.object.pk),)))

    def dispatch(self, request, *args, **kwargs):
        reason = deletion_refusal(self.object)
        if reason:
            return self._refuse(reason)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        success_url = self.get_success_url()
        success_message = self.get_success_message()
        try:
            delete_course_date(course_date=self.object, user=self.request.user)
        except (CourseDateInUse, CourseDateBusy) as refusal:
            return self._refuse(refusal.message)
        except ProtectedError:
            return self._refuse(
                "This date cannot be deleted because bookings were made on it. Cancel the date instead."
            )
        messages.success(self.request, success_message)
        hook_response = self.run_after_hook()
        if hook_response is not None:
            return hook_response
        return redirect(success_url)


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
