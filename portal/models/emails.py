"""A ledger of emails that must go out once and only once.

Celery delivers a task at least once: a retry after a lost acknowledgement, or a duplicate enqueue, runs
it again. Every email a task sends is keyed (e.g. ``join-request:42:approver:7``); ``portal.emails``
inserts the key and sends in one transaction, so a second run finds the key and sends nothing, and a send
that fails rolls the key back so the retry sends it.
"""

from django.db import models


class SentEmail(models.Model):
    key = models.CharField(max_length=200, unique=True)
    recipient = models.EmailField()
    subject = models.CharField(max_length=255)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient}"
