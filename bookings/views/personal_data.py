"""A signed-in user's own data: a page saying what is in it, and the JSON download itself."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ..services.personal_data import export_user_data, needs_retention_days


@login_required
def your_data(request):
    return render(request, "bookings/your_data.html", {"retention_days": needs_retention_days()})


@never_cache
@login_required
def download_your_data(request):
    """Everything the portal holds about the signed-in user, as a JSON file (never cached)."""
    data = export_user_data(user=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    filename = f"your-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
