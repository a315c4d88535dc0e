"""Sign-in records are kept for the 90 days the privacy notice promises, then deleted by a nightly task."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone

from portal.celery import BEAT_SCHEDULE
from portal.tasks import delete_old_sign_in_records

pytestmark = pytest.mark.django_db


def _record(model, *, age_days: float, **fields):
    row = model.objects.create(ip_address="192.0.2.10", user_agent="test", username="someone@example.org", **fields)
    # attempt_time is auto_now_add: age the row afterwards.
    model.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - timedelta(days=age_days))
    return row


def test_records_older_than_90_days_are_deleted_and_newer_ones_kept():
    """The task deletes sign-ins, failures and lockout counts past 90 days, keeps younger ones, and is safe twice."""
    old = [
        _record(AccessLog, age_days=91),
        _record(AccessFailureLog, age_days=120),
        _record(AccessAttempt, age_days=90.5, failures_since_start=3),
    ]
    kept = [_record(AccessLog, age_days=89), _record(AccessFailureLog, age_days=1)]
    assert delete_old_sign_in_records.delay().get() == len(old)
    assert delete_old_sign_in_records.delay().get() == 0
    remaining = {(type(row), row.pk) for row in [*AccessLog.objects.all(), *AccessFailureLog.objects.all()]}
    assert remaining == {(type(row), row.pk) for row in kept}
    assert not AccessAttempt.objects.exists()


def test_the_sweep_is_in_the_beat_schedule():
    """Beat runs the sweep every night."""
    entry = BEAT_SCHEDULE["portal-delete-old-sign-in-records"]
    assert entry["task"] == delete_old_sign_in_records.name
    assert entry["schedule"].hour == {3}
