"""Reminding schools of overdue invoices: once per invoice per stage (due + 1, 14 and 30 days).

``remind_overdue_invoices`` runs daily (``billing.remind_overdue_invoices`` in the beat schedule). For each open
invoice past its due date it takes the latest stage reached and inserts its ``OverdueReminder`` row; the unique
(invoice, stage) index makes that the one decision point, so a second run the same day, or two beat processes,
send nothing more. An invoice first seen at 20 days overdue gets the 14-day reminder only, not a burst of two.
The emails go after commit, in a task, one per approver of the school, each sent once (``send_email_once``).
"""

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.models import REMINDER_STAGE_DAYS, BillingDocument, OverdueReminder
from billing.money import format_gbp
from billing.selectors.documents import overdue_invoices
from billing.tasks import send_overdue_reminder
from portal.emails import render_email, send_email_once
from portal.models import SchoolMembership, SchoolRole

logger = logging.getLogger(__name__)


def stage_reached(*, document: BillingDocument, today: datetime.date) -> str | None:
    """The latest reminder stage an invoice has reached (None before it is overdue)."""
    days = (today - document.due_date).days
    reached = [stage for stage, threshold in REMINDER_STAGE_DAYS.items() if days >= threshold]
    return reached[-1] if reached else None


def _approver_emails(document: BillingDocument) -> list[str]:
    return sorted(
        SchoolMembership.objects.filter(school_id=document.school_id, role=SchoolRole.APPROVER, user__is_active=True)
        .values_list("user__email", flat=True)
        .distinct()
    )


def remind_overdue_invoices(*, today: datetime.date | None = None) -> list[OverdueReminder]:
    """Create today's reminders (each once) and enqueue their emails; returns the reminders created."""
    today = today or timezone.localdate()
    created = []
    for document in overdue_invoices(today=today).filter(school__isnull=False).order_by("due_date", "pk"):
        stage = stage_reached(document=document, today=today)
        if stage is None or OverdueReminder.objects.filter(document=document, stage=stage).exists():
            continue
        try:
            with transaction.atomic():
                reminder = OverdueReminder.objects.create(
                    document=document, stage=stage, recipients=_approver_emails(document)
                )
                transaction.on_commit(lambda pk=reminder.pk: send_overdue_reminder.delay(pk))
        except IntegrityError:
            continue  # another run created it first
        created.append(reminder)
    return created


def send_reminder_emails(*, reminder_id: int) -> int:
    """Email the reminder to each recipient once; returns how many were sent by this call."""
    reminder = OverdueReminder.objects.select_related("document", "document__school").get(pk=reminder_id)
    document = reminder.document
    if not reminder.recipients:
        logger.warning("overdue reminder %s: %s has no approver to remind", reminder.pk, document.school)
        return 0
    subject, body = render_email(
        template="billing/emails/overdue_reminder",
        context={
            "document": document,
            "reminder": reminder,
            "outstanding": format_gbp(document.outstanding_pence),
            "days_overdue": (timezone.localdate() - document.due_date).days,
        },
    )
    sent = 0
    for address in reminder.recipients:
        sent += send_email_once(key=f"billing:overdue:{reminder.pk}:{address}", to=address, subject=subject, body=body)
    return sent
