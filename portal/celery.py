"""The Celery app, with its beat schedule in code.

Queues and routing are settings (``CELERY_TASK_QUEUES`` and friends in ``portal/settings/base.py``), read
lazily through ``config_from_object``. Periodic work is listed in ``BEAT_SCHEDULE`` below by task *name*, so
this file imports no app and the layering of DESIGN.md holds.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

BEAT_SCHEDULE: dict = {
    # A cheap task that proves beat and a worker are alive; it logs and records the time in the cache.
    # Every minute, so that `make run` shows periodic work within a minute of starting.
    # A heartbeat nobody ran within the minute is stale: expire it rather than pile them up.
    "portal-heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 60.0, "options": {"expires": 55}},
    # Stripe events stored but never processed (a lost task, a dead worker) are enqueued again.
    "billing-requeue-stripe-events": {"task": "billing.requeue_stripe_events", "schedule": 300.0},
}
app.conf.beat_schedule = BEAT_SCHEDULE
