"""Waiting lists, the school's side: join a full date's list, answer an offered place, leave the list.

An entry is shown only to the person who joined and the school's approvers (``waiting_list.may_act_on``);
anyone else gets 404, so an entry id reveals nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from catalogue.models import CourseDate
from catalogue.pricing import format_money
from portal.forms_govuk import GovukFormMixin, GovukRadioSelect
from portal.models import School, SchoolRole

from ..models import ItemKind, WaitingListEntry, WaitingStatus
from ..selectors import payment_routes_for
from ..services import waiting_list
from .basket import SCHOOL_PARAM, SchoolChoiceMixin, chosen_school
from .delegate_fields import access_needs_field, dietary_needs_field


def _booker_schools(user) -> list[School]:
    from portal.access import school_memberships_for

    ids = school_memberships_for(user, role=SchoolRole.BOOKER).values("school_id")
    return list(School.objects.filter(pk__in=ids).order_by("name"))


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class JoinForm(GovukFormMixin, SchoolChoiceMixin):
    delegate_name = forms.CharField(label="Full name of the person who would attend", max_length=120, required=False)
    delegate_email = forms.EmailField(
        label="Their email address (optional)",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    delegate_role = forms.CharField(label="Their role (optional)", max_length=120, required=False)

    def __init__(self, *args, schools: list[School], **kwargs):
        super().__init__(*args, **kwargs)
        self.add_school_field(schools)


@login_required
def join(request, course_date_id: int):
    """Join the waiting list of a full course date for one of the user's schools."""
    course_date = get_object_or_404(CourseDate.objects.select_related("service", "venue", "council"), pk=course_date_id)
    if not course_date.service.live:
        raise Http404("No such course date.")
    schools = _booker_schools(request.user)
    if not schools:
        messages.info(request, "Join your school first: then you can book for it.")
        return redirect("portal:school_search")
    form = JoinForm(request.POST if request.method == "POST" else None, schools=schools)
    refusal = waiting_list.join_refusal(course_date=course_date)
    if request.method == "POST" and refusal is None and form.is_valid():
        school = chosen_school(request, schools)
        data = form.cleaned_data
        try:
            entry = waiting_list.join_waiting_list(
                course_date=course_date,
                school=school,
                user=request.user,
                delegate_name=data["delegate_name"],
                delegate_email=data["delegate_email"],
                delegate_role=data["delegate_role"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            position = WaitingListEntry.objects.filter(
                course_date=course_date, status=WaitingStatus.WAITING, created_at__lte=entry.created_at
            ).count()
            messages.success(
                request,
                f"{school.name} is on the waiting list (number {position}). We will email you if a place comes free.",
            )
            return redirect("portal:dashboard")
    context = {
        "course_date": course_date,
        "form": form,
        "refusal": refusal,
        "hours": waiting_list.offer_hours(),
        "school_param": SCHOOL_PARAM,
    }
    return render(request, "bookings/waiting_list_join.html", context)


def _entry_for(request, entry_id: int) -> WaitingListEntry:
    entry = (
        WaitingListEntry.objects.select_related(
            "course_date", "course_date__service", "course_date__venue", "course_date__council", "school", "booking"
        )
        .filter(pk=entry_id)
        .first()
    )
    if entry is None or not waiting_list.may_act_on(request.user, entry):
        raise Http404("No such waiting list entry.")
    return entry


class AcceptForm(GovukFormMixin, forms.Form):
    payment_route = forms.ChoiceField(label="How will you pay?", widget=GovukRadioSelect)
    po_number = forms.CharField(label="Purchase order number", max_length=40, required=False)
    access_needs = access_needs_field()
    dietary_needs = dietary_needs_field()

    def __init__(self, *args, entry: WaitingListEntry, **kwargs):
        super().__init__(*args, **kwargs)
        routes = payment_routes_for(school=entry.school, council=entry.course_date.council)
        self.fields["payment_route"].label = f"How will you pay {entry.course_date.council.short_name}?"
        self.fields["payment_route"].choices = routes
        self.fields["po_number"].required = entry.school.requires_purchase_order
        self.fields["po_number"].help_text = (
            "Your school asks for a purchase order number on every booking."
            if entry.school.requires_purchase_order
            else "Optional. It is printed on the invoice."
        )


@login_required
def offer(request, entry_id: int):
    """An entry on the waiting list: its place, if one is offered, with the form to book it."""
    entry = _entry_for(request, entry_id)
    refusal = waiting_list.accept_refusal(entry=entry, user=request.user)
    line = None
    if entry.booking_id and entry.status == WaitingStatus.OFFERED:
        line = entry.booking.lines.filter(kind=ItemKind.COURSE_PLACE).select_related("delegate").first()
    form = AcceptForm(request.POST if request.method == "POST" else None, entry=entry)
    if request.method == "POST":
        if refusal:
            messages.error(request, refusal)
            return redirect("bookings:waiting_list_offer", entry_id=entry.pk)
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking = waiting_list.accept_offer(
                    entry=entry,
                    user=request.user,
                    po_number=data["po_number"],
                    payment_route=data["payment_route"],
                    access_needs=data["access_needs"],
                    dietary_needs=data["dietary_needs"],
                )
            except PermissionDenied:
                raise Http404("No such waiting list entry.") from None
            except ValidationError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, f"You have booked the place. Booking reference {booking.reference}.")
                return redirect("bookings:confirmation", reference=booking.reference)
    context = {
        "entry": entry,
        "line": line,
        "price": format_money(line.net) if line else None,
        "form": form,
        "refusal": refusal,
        "can_accept": refusal is None,
        "expired": entry.status == WaitingStatus.OFFERED and entry.offer_expires_at <= timezone.now(),
    }
    return render(request, "bookings/waiting_list_offer.html", context)


@login_required
def withdraw(request, entry_id: int):
    """Leave the waiting list (or decline an offered place), after confirming."""
    entry = _entry_for(request, entry_id)
    if entry.status not in waiting_list.ACTIVE_STATUSES:
        messages.info(request, "This entry is no longer on the waiting list.")
        return redirect("bookings:waiting_list_offer", entry_id=entry.pk)
    if request.method == "POST":
        try:
            waiting_list.withdraw(entry=entry, by=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("bookings:waiting_list_offer", entry_id=entry.pk)
        done = "declined the place" if entry.status == WaitingStatus.OFFERED else "left the waiting list"
        messages.success(request, f"You have {done} for {entry.course_date.service.title}.")
        return redirect("portal:dashboard")
    return render(request, "bookings/waiting_list_withdraw.html", {"entry": entry})
