"""Portal tasks. Tasks take ids, load fresh state, call a service and are safe to run twice."""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from portal import memberships, sign_in_records

logger = logging.getLogger(__name__)


@shared_task(name="portal.tasks.heartbeat")
def heartbeat() -> str:
    """Record that a worker ran a task, for the status of `make run` and for the worker test."""
    now = timezone.now().isoformat()
    cache.set("portal:heartbeat", now, timeout=None)
    logger.info("heartbeat %s", now)
    return now


@shared_task(name="portal.tasks.delete_old_sign_in_records")
def delete_old_sign_in_records() -> int:
    """Delete sign-in records past the privacy notice's retention period (daily, from beat)."""
    deleted = sign_in_records.delete_old_sign_in_records()
    logger.info("deleted %d old sign-in records", deleted)
    return deleted


# Email tasks: each sends through portal.emails.send_email_once, so a retry or a duplicate sends nothing
# twice. SMTP and network failures, and a database that is locked or gone for a moment, retry with exponential
# backoff (jittered, capped at ten minutes).
EMAIL_RETRY = {
    "autoretry_for": (SMTPException, OSError, OperationalError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="portal.tasks.send_join_request_to_approvers", **EMAIL_RETRY)
def send_join_request_to_approvers(join_request_id: int) -> int:
    """Ask a school's approvers to decide a join request."""
    return memberships.notify_approvers_of_request(join_request_id=join_request_id)


@shared_task(name="portal.tasks.send_join_request_decision", **EMAIL_RETRY)
def send_join_request_decision(join_request_id: int) -> int:
    """Tell the requester how their join request was decided."""
    return memberships.notify_requester_of_decision(join_request_id=join_request_id)


@shared_task(name="portal.tasks.send_domain_join_to_approvers", **EMAIL_RETRY)
def send_domain_join_to_approvers(membership_id: int) -> int:
    """Tell a school's approvers that someone joined by their verified email domain."""
    return memberships.notify_approvers_of_domain_join(membership_id=membership_id)
