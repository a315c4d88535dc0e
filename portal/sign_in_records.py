"""How long the portal keeps records of sign-ins, as the privacy notice promises (portal/demo_pages.py).

django-axes writes a row for every sign-in (``AccessLog``), every failed attempt (``AccessFailureLog``) and the
running count it locks addresses out by (``AccessAttempt``), each with the IP address and browser. They are
kept for security investigations for ``KEEP_DAYS`` and then deleted by a daily beat task.
"""

from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.utils import timezone

KEEP_DAYS = 90


@transaction.atomic
def delete_old_sign_in_records(*, now: datetime | None = None, keep_days: int = KEEP_DAYS) -> int:
    """Delete sign-in records older than ``keep_days``; returns how many rows went. Safe to run twice."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days)
    deleted = 0
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        count, _ = model.objects.filter(attempt_time__lt=cutoff).delete()
        deleted += count
    return deleted
