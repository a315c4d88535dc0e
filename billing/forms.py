"""Billing's forms: recording a payment by hand, uploading a remittance file, choosing a ledger month."""

import datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils import timezone

from billing.models import LedgerEntryType, PaymentMethod
from billing.money import format_gbp, to_pence
from portal.forms_govuk import GovukFormMixin, GovukRadioSelect

DATE_HINT = "For example, 27/3/2026"
DATE_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%d %m %Y", "%Y-%m-%d"]
MANUAL_METHODS = [
    (PaymentMethod.BANK_TRANSFER, PaymentMethod.BANK_TRANSFER.label),
    (PaymentMethod.CHEQUE, PaymentMethod.CHEQUE.label),
    (PaymentMethod.JOURNAL, PaymentMethod.JOURNAL.label),
    (PaymentMethod.OTHER, PaymentMethod.OTHER.label),
]


class PenceField(forms.Field):
    """An amount in pounds (£1,234.56 or 1234.56) cleaned to whole pence; never a float."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value or "").replace("£", "").replace(",", "").strip()[:20]
        if not text:
            return None
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError("Enter the amount in pounds and pence, for example 120.50") from None
        if amount <= 0:
            raise forms.ValidationError("The amount must be more than £0")
        if amount != amount.quantize(Decimal("0.01")):
            raise forms.ValidationError("The amount must not have more than 2 decimal places")
        return to_pence(amount)


class RecordPaymentForm(GovukFormMixin, forms.Form):
    amount = PenceField(label="Amount received", help_text="In pounds, for example 120.50")
    paid_on = forms.DateField(
        label="Date received",
        input_formats=DATE_FORMATS,
        help_text=DATE_HINT,
        error_messages={"invalid": "Enter the date received as a real date, for example 27/3/2026"},
    )
    method = forms.ChoiceField(label="How it was paid", choices=MANUAL_METHODS, widget=GovukRadioSelect)
    reference = forms.CharField(
        label="Payment reference", max_length=100, help_text="The bank, cheque or journal reference."
    )

    def __init__(self, *args, outstanding_pence: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.outstanding_pence = outstanding_pence
        self.fields["amount"].help_text = f"In pounds. {format_gbp(outstanding_pence)} is owed; a part payment is fine."
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "spellcheck": "false"})
        self.fields["paid_on"].widget.attrs.update({"autocomplete": "off"})

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount > self.outstanding_pence:
            raise forms.ValidationError(
                f"The amount must not be more than the {format_gbp(self.outstanding_pence)} owed"
            )
        return amount

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > timezone.localdate():
            raise forms.ValidationError("The date received must be today or in the past")
        return paid_on


class RemittanceUploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload a remittance or bank file",
        help_text="A CSV file whose first line names its columns: an amount, a date and a reference that contains "
        "the invoice number (for example SCC-2026-000123).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError("The selected file must be a CSV")
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError("The selected file must be smaller than 2 MB")
        return upload


class MonthForm(GovukFormMixin, forms.Form):
    """A month and year in the query string (ledger pages); anything wrong falls back to this month."""

    month = forms.TypedChoiceField(
        label="Month", coerce=int, choices=[(n, datetime.date(2000, n, 1).strftime("%B")) for n in range(1, 13)]
    )
    year = forms.IntegerField(label="Year", min_value=2000, max_value=2100)
    entry_type = forms.ChoiceField(label="Type", required=False, choices=[("", "All types"), *LedgerEntryType.choices])

    def month_start(self) -> datetime.date:
        if self.is_valid():
            return datetime.date(self.cleaned_data["year"], self.cleaned_data["month"], 1)
        return timezone.localdate().replace(day=1)
