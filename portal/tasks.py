"""Portal tasks. Tasks take ids, load fresh state, call a service and are safe to run twice."""

import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="portal.tasks.heartbeat")
def heartbeat() -> str:
    """Record that a worker ran a task, for the status of `make run` and for the worker test."""
    now = timezone.now().isoformat()
    cache.set("portal:heartbeat", now, timeout=None)
    logger.info("heartbeat %s", now)
    return now
