"""The basket: add a course place, an SLA term or a one-off service; see it grouped by council; remove items.

Thin views: the school is one of the user's own (``portal.access``), the services do the checking and raise
``ValidationError`` keyed by field, which the forms show next to the field and in the error summary.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from catalogue.models import CourseDate, CourseDateStatus, ServiceKind, ServicePage
from catalogue.pricing import format_money
from portal.forms_govuk import GovukFormMixin, GovukRadioSelect
from portal.models import School

from .. import selectors
from ..services import basket as basket_service
from .delegate_fields import access_needs_field, dietary_needs_field

SCHOOL_PARAM = "school"


def user_schools(user) -> list[School]:
    """The schools the user books for (members only: a partnership admin books nothing as an admin)."""
    from portal.access import school_memberships_for

    ids = school_memberships_for(user).values("school_id")
    return list(School.objects.filter(pk__in=ids).order_by("name"))


def chosen_school(request, schools: list[School]) -> School:
    wanted = request.POST.get(SCHOOL_PARAM) or request.GET.get(SCHOOL_PARAM)
    for school in schools:
        if str(school.urn) == str(wanted):
            return school
    if wanted:
        raise Http404("No such school of yours.")
    return schools[0]


def govuk_time(moment) -> str:
    """9:30am, 5pm: times as GOV.UK writes them."""
    local = timezone.localtime(moment)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def date_label(course_date: CourseDate) -> str:
    when = (
        dateformat.format(timezone.localtime(course_date.starts_at), "l j F Y")
        + ", "
        + govuk_time(course_date.starts_at)
    )
    where = course_date.venue.town if course_date.venue_id else "online"
    left = course_date.places_left
    return f"{when}, {where} ({left} place{'s' if left != 1 else ''} left)" if left else f"{when}, {where} (full)"


def bookable_dates(service) -> list[CourseDate]:
    now = timezone.now()
    dates = CourseDate.objects.filter(
        service_id=service.pk, status=CourseDateStatus.SCHEDULED, starts_at__gt=now
    ).select_related("venue")
    return [d for d in dates if not d.booking_closes_at or d.booking_closes_at > now]


class SchoolChoiceMixin(forms.Form):
    def add_school_field(self, schools: list[School]):
        if len(schools) > 1:
            self.fields[SCHOOL_PARAM] = forms.TypedChoiceField(
                label="Which school is this for?",
                choices=[(s.urn, s.name) for s in schools],
                widget=GovukRadioSelect,
            )


class CoursePlaceForm(GovukFormMixin, SchoolChoiceMixin):
    course_date = forms.TypedChoiceField(
        label="Choose a date",
        coerce=int,
        widget=GovukRadioSelect,
        error_messages={"required": "Choose a date.", "invalid_choice": "Choose one of the dates shown."},
    )
    delegate_name = forms.CharField(label="Full name of the person attending", max_length=120, required=False)
    delegate_email = forms.EmailField(
        label="Their email address",
        required=False,
        help_text="We send them the confirmation and joining details.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    delegate_role = forms.CharField(label="Their role (optional)", max_length=120, required=False)
    access_needs = access_needs_field()
    dietary_needs = dietary_needs_field()

    def __init__(self, *args, dates: list[CourseDate], schools: list[School], named: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if named:
            # The service says the same; asking here too shows every missing field at once.
            self.fields["delegate_name"].required = True
            self.fields["delegate_name"].error_messages["required"] = "Enter the name of the person who will attend."
            self.fields["delegate_email"].required = True
            self.fields["delegate_email"].error_messages["required"] = (
                "Enter the email address of the person who will attend."
            )
        self.fields["delegate_email"].error_messages["invalid"] = (
            "Enter an email address in the correct format, like name@example.org."
        )
        self.dates = {d.pk: d for d in dates}
        self.fields["course_date"].choices = [(d.pk, date_label(d)) for d in dates]
        self.add_school_field(schools)


class SubscriptionForm(GovukFormMixin, SchoolChoiceMixin):
    term_start = forms.TypedChoiceField(label="Which year?", widget=GovukRadioSelect)

    def __init__(self, *args, terms: list, service, schools: list[School], **kwargs):
        super().__init__(*args, **kwargs)
        self.terms = {t.isoformat(): t for t in terms}
        self.fields["term_start"].choices = [
            (t.isoformat(), f"{t:%-d %B %Y} to {service.term_end(t):%-d %B %Y}") for t in terms
        ]
        self.add_school_field(schools)


class OneOffForm(GovukFormMixin, SchoolChoiceMixin):
    quantity = forms.CharField(
        label="How many?",
        max_length=8,
        widget=forms.TextInput(attrs={"class": "govuk-input--width-4", "inputmode": "decimal"}),
    )

    def __init__(self, *args, service, schools: list[School], **kwargs):
        super().__init__(*args, **kwargs)
        units = service.unit_label(2)
        self.fields["quantity"].label = f"How many {units}?"
        # Django's own messages ("This field is required.", "Ensure this value has at most 8 characters")
        # do not say what to do; these do, in the unit the service is sold in.
        least = "0.5" if service.unit in ("day", "half_day") else "1" if service.unit == "item" else "0.01"
        self.fields["quantity"].error_messages.update(
            {
                "required": f"Enter how many {units}",
                "max_length": f"Enter a number of {units} from {least} to {basket_service.MAX_ONE_OFF_QUANTITY}",
            }
        )
        self.add_school_field(schools)


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _form_for(service, data, schools):
    if service.kind == ServiceKind.COURSE:
        return CoursePlaceForm(
            data, dates=bookable_dates(service), schools=schools, named=service.delegates_must_be_named
        )
    if service.kind == ServiceKind.SUBSCRIPTION:
        return SubscriptionForm(
            data, terms=basket_service.terms_on_sale(service=service), service=service, schools=schools
        )
    return OneOffForm(data, service=service, schools=schools)


def _add(form, *, service, basket):
    data = form.cleaned_data
    if service.kind == ServiceKind.COURSE:
        course_date = form.dates[data["course_date"]]
        return basket_service.add_course_place(
            basket=basket,
            course_date=course_date,
            delegate_name=data["delegate_name"],
            delegate_email=data["delegate_email"],
            delegate_role=data["delegate_role"],
            access_needs=data["access_needs"],
            dietary_needs=data["dietary_needs"],
        )
    if service.kind == ServiceKind.SUBSCRIPTION:
        return basket_service.add_subscription(
            basket=basket, service=service, term_start=form.terms[data["term_start"]]
        )
    return basket_service.add_one_off(basket=basket, service=service, quantity=data["quantity"])


@login_required
def add_to_basket(request, service_id: int):
    """The add-to-basket form of one service (also posted to from the service page's own form)."""
    service = get_object_or_404(ServicePage.objects.live().select_related("council"), pk=service_id).specific
    schools = user_schools(request.user)
    if not schools:
        messages.info(request, "Join your school first: then you can book for it.")
        return redirect("portal:school_search")
    form = _form_for(service, request.POST if request.method == "POST" else None, schools)
    full_date = None
    if request.method == "POST" and form.is_valid():
        school = chosen_school(request, schools)
        basket = basket_service.get_basket(school=school, owner=request.user)
        try:
            item = _add(form, service=service, basket=basket)
        except ValidationError as error:
            # Read the chosen date first: add_error drops the field from cleaned_data.
            chosen_date = form.cleaned_data.get("course_date")
            _apply_errors(form, error)
            date_errors = getattr(error, "error_dict", {}).get("course_date", [])
            if any(e.code == basket_service.FULL for e in date_errors):
                full_date = form.dates.get(chosen_date)
        else:
            messages.success(request, f"Added to your basket: {basket_service.item_description(item)}.")
            return redirect(f"{reverse('bookings:basket')}?{SCHOOL_PARAM}={school.urn}")
    waiting_list_url = ""
    if full_date is not None:
        waiting_list_url = reverse("bookings:waiting_list_join", kwargs={"course_date_id": full_date.pk})
        waiting_list_url += f"?{SCHOOL_PARAM}={chosen_school(request, schools).urn}"
        # The service says what is wrong; the page, which knows the URL, makes the way forward a link. The page
        # has its own error summary for this (a link cannot sit inside the summary's link to the field).
        form.errors["course_date"] = form.error_class(
            [
                format_html(
                    'This date is full. <a class="govuk-link" href="{}">Join the waiting list</a> or choose another '
                    "date.",
                    waiting_list_url,
                )
            ]
        )
    context = {
        "service": service,
        "form": form,
        "full_date": full_date,
        "waiting_list_url": waiting_list_url,
        "schools": schools,
    }
    return render(request, "bookings/basket_add.html", context)


def _basket_context(request, school: School, schools: list[School]) -> dict:
    basket = basket_service.get_basket(school=school, owner=request.user)
    items = selectors.basket_items(basket=basket)
    for item in items:
        item.description = basket_service.item_description(item)
    groups = selectors.group_by_council(
        school=school, entries=items, amounts=lambda i: (i.quoted_net, i.quoted_vat, i.quoted_gross)
    )
    net = sum((g.net for g in groups), selectors.ZERO)
    vat = sum((g.vat for g in groups), selectors.ZERO)
    return {
        "school": school,
        "schools": schools,
        "basket": basket,
        "groups": groups,
        "item_count": len(items),
        "net": format_money(net),
        "vat": format_money(vat),
        "gross": format_money(net + vat),
    }


@login_required
def basket_view(request):
    """The user's basket for one of their schools, grouped by providing council."""
    schools = user_schools(request.user)
    if not schools:
        messages.info(request, "Join your school first: then you can book for it.")
        return redirect("portal:school_search")
    school = chosen_school(request, schools)
    return render(request, "bookings/basket.html", _basket_context(request, school, schools))


@login_required
@require_POST
def remove_from_basket(request, item_id: int):
    schools = user_schools(request.user)
    if not schools:
        raise Http404
    school = chosen_school(request, schools)
    basket = basket_service.get_basket(school=school, owner=request.user)
    try:
        basket_service.remove_item(basket=basket, item_id=item_id)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Removed from your basket.")
    return redirect(f"{reverse('bookings:basket')}?{SCHOOL_PARAM}={school.urn}")
