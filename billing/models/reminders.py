"""Overdue-invoice reminders, one row per invoice per stage: the row is what makes a reminder go once."""

from django.db import models


class ReminderStage(models.TextChoices):
    OVERDUE = "overdue", "Overdue"
    OVERDUE_14 = "overdue_14", "14 days overdue"
    OVERDUE_30 = "overdue_30", "30 days overdue"


# Days past the due date at which each stage is reached, in order.
REMINDER_STAGE_DAYS: dict[str, int] = {
    ReminderStage.OVERDUE: 1,
    ReminderStage.OVERDUE_14: 14,
    ReminderStage.OVERDUE_30: 30,
}


class OverdueReminder(models.Model):
    document = models.ForeignKey("billing.BillingDocument", on_delete=models.PROTECT, related_name="reminders")
    stage = models.CharField(max_length=20, choices=ReminderStage.choices)
    recipients = models.JSONField(default=list, help_text="Email addresses the reminder went to.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "created_at"]
        constraints = [models.UniqueConstraint(fields=["document", "stage"], name="one_reminder_per_invoice_stage")]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} reminder for {self.document}"
