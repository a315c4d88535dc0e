"""Views of the portal app. Thin: they check who is asking, then call selectors and services."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def dashboard(request):
    user = request.user
    context = {
        "school_memberships": user.school_memberships.select_related("school"),
        "council_memberships": user.council_memberships.select_related("council"),
    }
    return render(request, "portal/dashboard.html", context)
