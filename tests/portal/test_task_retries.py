"""Background work survives a database that is busy for a moment (SQLite's "database is locked" in the demo, a
dropped PostgreSQL connection in production): the task is tried again instead of being lost."""

import pytest
from django.db import OperationalError


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("task_path", "service_path", "service_name"),
    [
        ("bookings.tasks.send_substitution", "bookings.services.substitutions", "notify_substitution"),
        ("bookings.tasks.send_booking_confirmation", "bookings.services.emails", "send_booking_confirmation"),
        ("billing.tasks.process_stripe_event", "billing.services.stripe_events", "process_stripe_event"),
    ],
)
def test_a_task_that_meets_a_locked_database_is_tried_again(monkeypatch, task_path, service_path, service_name):
    import importlib

    module_name, task_name = task_path.rsplit(".", 1)
    task = getattr(importlib.import_module(module_name), task_name)
    service = importlib.import_module(service_path)
    calls = []

    def locked_once(*args, **kwargs):
        calls.append(kwargs or args)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return 1

    monkeypatch.setattr(service, service_name, locked_once)
    # apply(throw=False): what a worker does with the Retry that autoretry raises (eager tests propagate it).
    task.apply(args=(42,), throw=False)
    assert len(calls) == 2
