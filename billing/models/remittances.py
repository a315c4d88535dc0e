"""Remittance and bank files uploaded by finance, kept between the preview and the confirmation.

An upload is parsed and matched at once and stored here with its rows (``rows``: what each line said, which
invoice it matched and what will happen to it), then shown to finance as a preview. Confirming applies the
matched rows through ``record_document_payment``; the batch moves from previewed to applied once, under its row
lock, and each payment is unique by (invoice, bank reference, amount, date), so neither a double click nor the
same file uploaded again pays an invoice twice.
"""

from django.conf import settings
from django.db import models


class RemittanceStatus(models.TextChoices):
    PREVIEWED = "previewed", "Checked, not yet applied"
    APPLIED = "applied", "Applied"


class RemittanceRowStatus(models.TextChoices):
    MATCHED = "matched", "Matches an open invoice"
    ALREADY_APPLIED = "already_applied", "Already recorded"
    OVERPAYS = "overpays", "More than is owed: not applied"
    UNMATCHED = "unmatched", "No matching invoice"
    INVALID = "invalid", "Could not be read"


class RemittanceBatch(models.Model):
    council = models.ForeignKey(
        "portal.Council",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="remittance_batches",
        help_text="Whose invoices the file is matched against (None: every council's, for partnership admins).",
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(max_length=255)
    content_sha256 = models.CharField(max_length=64)
    rows = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=RemittanceStatus.choices, default=RemittanceStatus.PREVIEWED)
    applied_count = models.PositiveIntegerField(default=0)
    applied_pence = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "remittance batches"

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    def rows_with(self, status: str) -> list[dict]:
        return [row for row in self.rows if row.get("status") == status]
