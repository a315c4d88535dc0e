"""The delegate's access and dietary needs fields, as every form that asks for them words them.

The hint says how long the needs are kept, from the same setting the erasing task reads.
"""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy

from ..services.personal_data import needs_retention_days


def _access_hint() -> str:
    return (
        "Only the school and the council running the course see this. "
        f"It is deleted {needs_retention_days()} days after the course."
    )


def _dietary_hint() -> str:
    return f"Deleted {needs_retention_days()} days after the course, like access needs."


def access_needs_field() -> forms.CharField:
    return forms.CharField(
        label="Access needs (optional)",
        required=False,
        max_length=1000,
        help_text=lazy(_access_hint, str)(),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def dietary_needs_field() -> forms.CharField:
    return forms.CharField(
        label="Dietary needs (optional)",
        required=False,
        max_length=1000,
        help_text=lazy(_dietary_hint, str)(),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
