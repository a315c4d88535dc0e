"""Sending someone else on a booked course place: the school names the substitute, until the course starts.

The line is found through its booking's reference. Someone who may not see the booking gets 404; a member of
the school who may see it but not change it (a booker and a colleague's booking) gets 403. Council staff are
not school members here, so they get 404 too: the school decides who it sends.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from portal.access import is_school_member
from portal.forms_govuk import GovukFormMixin

from ..models import BookingLine
from ..services import substitutions
from ..services.checkout import DelegateDetails
from ..states import IllegalTransition
from .delegate_fields import access_needs_field, dietary_needs_field

CONFLICT = "Someone changed this booking at the same time. Nothing was changed: check the booking and try again."


class SubstituteForm(GovukFormMixin, forms.Form):
    name = forms.CharField(label="Full name of the person who will attend instead", max_length=120, required=False)
    email = forms.EmailField(
        label="Their email address (optional)",
        required=False,
        help_text="We send them the joining details and a calendar entry.",
        error_messages={"invalid": "Enter an email address in the correct format, like name@example.org."},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.CharField(label="Their role (optional)", max_length=120, required=False)
    access_needs = access_needs_field()
    dietary_needs = dietary_needs_field()

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Enter the full name of the person who will attend instead.")
        return name


def _line_for(request, reference: str, line_id: int) -> BookingLine:
    line = (
        BookingLine.objects.select_related(
            "booking",
            "booking__school",
            "booking__booked_by",
            "course_date",
            "course_date__service",
            "course_date__venue",
            "council",
            "delegate",
        )
        .filter(pk=line_id, booking__reference=reference)
        .first()
    )
    if line is None or not is_school_member(request.user, line.booking.school):
        raise Http404("No such booking.")
    if not substitutions.may_substitute(request.user, line):
        raise PermissionDenied("Only the school's approver or the person who booked can send someone else.")
    return line


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@login_required
def substitute(request, reference: str, line_id: int):
    """Name who takes the place instead; the place, its price and the booking stay as they are."""
    line = _line_for(request, reference, line_id)
    refusal = substitutions.substitution_refusal(line, timezone.now())
    form = SubstituteForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if refusal:
            status = 409
        elif form.is_valid():
            data = form.cleaned_data
            try:
                new_line = substitutions.substitute_delegate(
                    line=line,
                    new=DelegateDetails(
                        name=data["name"],
                        email=data["email"],
                        role=data["role"],
                        access_needs=data["access_needs"],
                        dietary_needs=data["dietary_needs"],
                    ),
                    by=request.user,
                )
            except (IllegalTransition, OperationalError):
                messages.error(request, CONFLICT)
                return redirect("bookings:detail", reference=reference)
            except ValidationError as error:
                # A refusal is a plain ValidationError with a code; field errors come as a dict, which has none.
                if getattr(error, "code", None) == "not_substitutable":
                    refusal, status = " ".join(error.messages), 409
                else:
                    _apply_errors(form, error)
            else:
                messages.success(
                    request, f"{new_line.delegate.name} now has the place. The booking and its price are unchanged."
                )
                return redirect("bookings:detail", reference=reference)
    context = {
        "line": line,
        "booking": line.booking,
        "delegate": getattr(line, "delegate", None),
        "form": form,
        "refusal": refusal,
    }
    return render(request, "bookings/substitute.html", context, status=status)
