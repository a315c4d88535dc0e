"""What the card pages' scripts send and are answered: a JSON object in, ``{"status": "error", ...}`` out."""

from __future__ import annotations

import json

from django.http import JsonResponse


def json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"status": "error", "message": message}, status=status)


def json_body(request) -> dict:
    """The request's JSON object, or {} when the body is empty, not JSON, or not an object."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
