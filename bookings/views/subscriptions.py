"""A school's SLA subscriptions: what it holds, until when, whether each renews; the approver switches renewal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal.access import is_school_approver, school_member_required

from .. import selectors
from ..models import Subscription
from ..services import subscriptions as subscription_service


@school_member_required()
def school_subscriptions(request, school):
    """Every subscription of the school, current and past, with next year's renewal."""
    rows = selectors.subscriptions_of_school(school=school)
    context = {
        "school": school,
        "current": [row for row in rows if row.is_current],
        "coming": [row for row in rows if row.is_future],
        "past": [row for row in rows if row.is_past],
        "can_change": is_school_approver(request.user, school),
    }
    return render(request, "bookings/subscriptions.html", context)


@require_POST
@school_member_required()
def set_renewal(request, school, subscription_id: int):
    """Turn automatic renewal on or off (the school's approver only)."""
    subscription = get_object_or_404(Subscription, pk=subscription_id, school=school)
    wanted = request.POST.get("auto_renew") == "on"
    try:
        subscription_service.set_auto_renew(subscription=subscription, by=request.user, auto_renew=wanted)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if wanted:
            messages.success(request, f"{subscription.service.title} will renew automatically.")
        else:
            messages.success(request, f"{subscription.service.title} will not renew automatically.")
    return redirect("bookings:subscriptions", urn=school.urn)
