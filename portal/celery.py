"""The Celery app, with its beat schedule in code.

Queues and routing are settings (``CELERY_TASK_QUEUES`` and friends in ``portal/settings/base.py``), read
lazily through ``config_from_object``. Periodic work is listed in ``BEAT_SCHEDULE`` below by task *name*, so
this file imports no app and the layering of DESIGN.md holds.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

BEAT_SCHEDULE: dict = {
    # A cheap task that proves beat and a worker are alive; it logs and records the time in the cache.
    # Every minute, so that `make run` shows periodic work within a minute of starting.
    # A heartbeat nobody ran within the minute is stale: expire it rather than pile them up.
    "portal-heartbeat": {"task": "portal.tasks.heartbeat", "schedule": 60.0, "options": {"expires": 55}},
    # The privacy notice keeps sign-in records for 90 days (portal/sign_in_records.py): a nightly sweep.
    "portal-delete-old-sign-in-records": {
        "task": "portal.tasks.delete_old_sign_in_records",
        "schedule": crontab(hour=3, minute=15),
    },
    # Stripe events stored but never processed (a lost task, a dead worker) are enqueued again.
    "billing-requeue-stripe-events": {"task": "billing.requeue_stripe_events", "schedule": 300.0},
    # Refunds left "requested" (the worker died before Stripe was asked, or the task gave up) are sent again with
    # their own idempotency key (billing.services.refunds.resubmit_stuck_refunds); a day late, finance is told.
    "billing-resubmit-stuck-refunds": {
        "task": "billing.resubmit_stuck_refunds",
        "schedule": 600.0,
        "options": {"expires": 550},
    },
    # Bookings whose lines changed in the last two days are billed again, in case a signal or task was lost
    # (billing.services.booking_sweep); billing a booking that needs nothing issues nothing.
    "billing-sweep-booking-billing": {
        "task": "billing.sweep_booking_billing",
        "schedule": 900.0,
        "options": {"expires": 850},
    },
    # Overdue invoices: one reminder per invoice per stage (due + 1, 14, 30 days), each morning.
    "billing-remind-overdue-invoices": {
        "task": "billing.remind_overdue_invoices",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 6 * 3600},
    },
    # Places held at checkout (15 min), for the approver (72 h) or for a card payment are freed when the hold
    # runs out; a run that nobody picked up within the minute is replaced by the next one.
    "bookings-release-expired-holds": {
        "task": "bookings.tasks.release_expired_holds",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Waiting-list offers not answered within 48 h pass to the next school; free places on dates with people
    # waiting are offered (the safety net for places freed without a signal). Every five minutes.
    "bookings-expire-waiting-list-offers": {
        "task": "bookings.tasks.expire_waiting_list_offers",
        "schedule": 300.0,
        "options": {"expires": 280},
    },
    # SLA buy-back: renewal offers as windows open, automatic renewals on their last day, ended terms expired.
    "bookings-subscription-buyback": {
        "task": "bookings.tasks.run_subscription_buyback",
        "schedule": crontab(hour=2, minute=15),
    },
    # Delegates' access and dietary needs are erased BOOKINGS_NEEDS_RETENTION_DAYS after the course (privacy notice).
    "bookings-erase-delegate-needs": {
        "task": "bookings.tasks.erase_delegate_needs",
        "schedule": crontab(hour=3, minute=5),
    },
}
app.conf.beat_schedule = BEAT_SCHEDULE
