"""The council's course administration in Wagtail's admin: bookings per date, the register, attendance,
waiting lists, cancellation charges, and a printable register.

Every view loads the course date (or line) and answers 404 unless it belongs to a council the user
administers courses for (``services.course_admin``), so another council's dates look like nothing at all.
Access and dietary needs are rendered only for the council's course administrators.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.generic import TemplateView
from wagtail.admin.views.generic import WagtailAdminTemplateMixin

from catalogue.models import CourseDate
from catalogue.pricing import format_money

from .. import selectors
from ..models import BookingLine, LineStatus
from ..services import cancellations
from ..services.course_admin import (
    ATTENDANCE_CHOICES,
    MARKABLE_STATUSES,
    course_staff_council_ids,
    is_course_staff,
    may_waive_charges,
    record_attendance,
    sees_needs,
)

MARK_PREFIX = "mark_"


class CourseStaffMixin:
    def dispatch(self, request, *args, **kwargs):
        reach = course_staff_council_ids(request.user)
        if reach is not None and not reach:
            raise PermissionDenied("You do not administer any council's courses.")
        return super().dispatch(request, *args, **kwargs)


class CourseBookingsIndexView(CourseStaffMixin, WagtailAdminTemplateMixin, TemplateView):
    """Course dates of the user's councils, with places booked, held and waiting."""

    template_name = "bookings/admin/index.html"
    page_title = "Course bookings"
    header_icon = "group"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        past = self.request.GET.get("when") == "past"
        dates = selectors.course_dates_for_staff(
            council_ids=course_staff_council_ids(self.request.user), upcoming=not past
        )
        context.update({"dates": list(dates[:200]), "past": past})
        return context


def _course_date_for(request, pk: int) -> CourseDate:
    course_date = get_object_or_404(CourseDate.objects.select_related("service", "venue", "council"), pk=pk)
    if not is_course_staff(request.user, council_id=course_date.council_id):
        raise Http404("Not one of your council's course dates.")
    return course_date


class CourseDateBookingsView(CourseStaffMixin, WagtailAdminTemplateMixin, TemplateView):
    """One date: its register (with attendance marking once it has started), waiting list and cancellations."""

    template_name = "bookings/admin/course_date.html"
    header_icon = "date"

    @cached_property
    def course_date(self) -> CourseDate:
        return _course_date_for(self.request, self.kwargs["pk"])

    def get_page_title(self):
        return f"Bookings: {self.course_date.service.title}"

    def get_page_subtitle(self):
        return timezone.localtime(self.course_date.starts_at).strftime("%-d %B %Y, %H:%M")

    def get_breadcrumbs_items(self):
        return [
            *super().get_breadcrumbs_items(),
            {"url": reverse("bookings_admin:index"), "label": "Course bookings"},
            {"url": "", "label": str(self.course_date)},
        ]

    def get_context_data(self, errors=None, **kwargs):
        context = super().get_context_data(**kwargs)
        course_date = self.course_date
        lines = list(selectors.register_lines(course_date=course_date))
        started = course_date.starts_at <= timezone.now()
        for line in lines:
            line.markable = started and line.status in MARKABLE_STATUSES
        cancelled = list(selectors.cancelled_lines(course_date=course_date))
        can_waive = may_waive_charges(self.request.user, council_id=course_date.council_id)
        for line in cancelled:
            line.charge_text = format_money(line.cancellation_charge) if line.cancellation_charge else ""
            line.waivable = can_waive and bool(line.cancellation_charge)
        context.update(
            {
                "course_date": course_date,
                "lines": lines,
                "booked": [line for line in lines if line.status != LineStatus.HELD],
                "held": [line for line in lines if line.status == LineStatus.HELD],
                # places_taken is the authoritative count; places taken by phone or on paper have no line.
                "taken_outside": course_date.places_taken - len(lines),
                "taken_over": len(lines) - course_date.places_taken,
                "cancelled": cancelled,
                "waiting": list(selectors.waiting_list_of(course_date=course_date)),
                "show_needs": sees_needs(self.request.user, council_id=course_date.council_id),
                "started": started,
                "attendance_choices": ATTENDANCE_CHOICES,
                "mark_prefix": MARK_PREFIX,
                "errors": errors or [],
                "cancel_date_url": reverse("catalogue_coursedate:cancel", args=(course_date.pk,)),
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        marks = {}
        for key, value in request.POST.items():
            if key.startswith(MARK_PREFIX) and key[len(MARK_PREFIX) :].isdigit() and value:
                marks[int(key[len(MARK_PREFIX) :])] = value
        if not marks:
            messages.warning(request, "Choose attended or did not attend for at least one delegate.")
            return redirect("bookings_admin:course_date", pk=self.course_date.pk)
        try:
            changed = record_attendance(course_date=self.course_date, marks=marks, by=request.user)
        except ValidationError as error:
            return self.render_to_response(self.get_context_data(errors=error.messages), status=400)
        messages.success(request, f"Attendance saved ({changed} change{'s' if changed != 1 else ''}).")
        return redirect("bookings_admin:course_date", pk=self.course_date.pk)


def register_print(request, pk: int):
    """The register as a page of its own, laid out for printing (sign-in column, no admin chrome)."""
    reach = course_staff_council_ids(request.user)
    if reach is not None and not reach:
        raise PermissionDenied
    course_date = _course_date_for(request, pk)
    lines = [line for line in selectors.register_lines(course_date=course_date) if line.status != LineStatus.HELD]
    context = {
        "course_date": course_date,
        "lines": lines,
        "show_needs": sees_needs(request.user, council_id=course_date.council_id),
        "printed_at": timezone.now(),
    }
    return render(request, "bookings/admin/register_print.html", context)


class WaiveForm(forms.Form):
    reason = forms.CharField(
        label="Why is the charge waived?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The school is told, and the reason stays on the booking's history.",
    )


class WaiveChargeView(CourseStaffMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "bookings/admin/waive_charge.html"
    page_title = "Waive a cancellation charge"
    header_icon = "cross"

    @cached_property
    def line(self) -> BookingLine:
        line = get_object_or_404(
            BookingLine.objects.select_related("booking", "booking__school", "course_date", "delegate", "council"),
            pk=self.kwargs["line_id"],
        )
        if not is_course_staff(self.request.user, council_id=line.council_id):
            raise Http404("Not one of your council's bookings.")
        if not may_waive_charges(self.request.user, council_id=line.council_id):
            raise PermissionDenied("Only the council's course administrators can waive a charge.")
        return line

    def get_page_subtitle(self):
        return f"{self.line.booking.reference}: {self.line.description}"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        line = self.line
        context.update(
            {
                "line": line,
                "charge": format_money(line.cancellation_charge) if line.cancellation_charge else "",
                "form": form or WaiveForm(),
                "back_url": reverse("bookings_admin:course_date", args=(line.course_date_id,))
                if line.course_date_id
                else reverse("bookings_admin:index"),
            }
        )
        return context

    def post(self, request, *args, **kwargs):
        form = WaiveForm(request.POST)
        if form.is_valid():
            try:
                cancellations.waive_charge(line=self.line, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Charge waived on booking {self.line.booking.reference}.")
                return redirect(self.get_context_data(form=form)["back_url"])
        return self.render_to_response(self.get_context_data(form=form), status=400)
