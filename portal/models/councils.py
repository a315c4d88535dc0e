"""A council: a separate legal entity selling services through the portal.

Each council has its own invoice sequence (prefix), VAT number, remittance details and default ledger
codes; the catalogue, bookings and billing all hang off it. LA codes are the DfE's three-digit codes.
"""

from django.core.validators import RegexValidator
from django.db import models


class Council(models.Model):
    name = models.CharField(max_length=120, unique=True)
    short_name = models.CharField(max_length=60, help_text="e.g. 'Staffordshire'")
    slug = models.SlugField(unique=True)
    la_code = models.CharField(
        "LA code",
        max_length=3,
        unique=True,
        validators=[RegexValidator(r"^\d{3}$", "An LA code is three digits, e.g. 860.")],
    )
    invoice_prefix = models.CharField(
        max_length=8,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,6}$", "Use two to six capital letters, e.g. SCC.")],
        help_text="Starts every invoice number of this council, e.g. SCC-2026-000123.",
    )
    vat_number = models.CharField("VAT registration number", max_length=32)
    address = models.TextField(help_text="Postal address printed on invoices, one line per line.")
    email = models.EmailField(help_text="Where schools write about traded services.")
    telephone = models.CharField(max_length=40, blank=True)
    website = models.URLField(blank=True)
    # Remittance details printed on invoices.
    bank_name = models.CharField(max_length=80)
    bank_account_name = models.CharField(max_length=120)
    bank_sort_code = models.CharField(
        max_length=8, validators=[RegexValidator(r"^\d{2}-\d{2}-\d{2}$", "Write a sort code as 12-34-56.")]
    )
    bank_account_number = models.CharField(
        max_length=8, validators=[RegexValidator(r"^\d{8}$", "An account number is eight digits.")]
    )
    remittance_email = models.EmailField(help_text="Where schools send remittance advice.")
    # Default ledger codes; a service can override them.
    default_cost_centre = models.CharField(max_length=20)
    default_income_code = models.CharField(max_length=20)
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    is_demo_data = models.BooleanField(
        default=False,
        help_text="Set when VAT number, bank and ledger values are invented demo values, not the council's own.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
