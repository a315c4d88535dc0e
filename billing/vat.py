"""VAT treatments and the arithmetic of VAT on a line.

Each service in the catalogue carries a VAT treatment; every invoice line snapshots it with the rate and the
label printed on the invoice. Education and training supplied by a council is exempt, other traded services are
usually standard-rated, some are outside the scope. VAT is worked out per line on the line's net amount and
rounded half up to the penny (HMRC allows line-by-line rounding, provided it is applied consistently).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import models

from .money import round_pence


class VatTreatment(models.TextChoices):
    STANDARD = "standard", "Standard rate"
    ZERO = "zero", "Zero rate"
    EXEMPT = "exempt", "Exempt"
    OUTSIDE_SCOPE = "outside_scope", "Outside the scope of VAT"


# Rates in force; a change of rate is a change here, and lines keep the rate they were issued with.
# The codes and rates are the catalogue's (catalogue.pricing), which a test keeps in step.
VAT_RATES: dict[str, Decimal] = {
    VatTreatment.STANDARD: Decimal("0.20"),
    VatTreatment.ZERO: Decimal("0.00"),
    VatTreatment.EXEMPT: Decimal("0.00"),
    VatTreatment.OUTSIDE_SCOPE: Decimal("0.00"),
}


def vat_rate(treatment: str) -> Decimal:
    """The rate (a fraction: 0.20 for 20%) of a treatment."""
    return VAT_RATES[VatTreatment(treatment)]


def vat_label(treatment: str, rate: Decimal | None = None) -> str:
    """What an invoice prints in a line's VAT column: '20%', '0%', 'Exempt' or 'Outside the scope of VAT'."""
    treatment = VatTreatment(treatment)
    if treatment == VatTreatment.EXEMPT:
        return "Exempt"
    if treatment == VatTreatment.OUTSIDE_SCOPE:
        return "Outside the scope of VAT"
    rate = vat_rate(treatment) if rate is None else rate
    return f"{(rate * 100).normalize():f}%"


def vat_on_net(net_pence: int, rate: Decimal) -> int:
    """VAT on a net amount, rounded half up to the penny (symmetrically for credits)."""
    return round_pence(Decimal(net_pence) * rate)


@dataclass(frozen=True)
class VatSplit:
    net_pence: int
    vat_pence: int

    @property
    def gross_pence(self) -> int:
        return self.net_pence + self.vat_pence


def split_net(net_pence: int, rate: Decimal) -> VatSplit:
    """Net to (net, VAT); gross is their sum, so the split always adds up."""
    return VatSplit(net_pence, vat_on_net(net_pence, rate))


def split_gross(gross_pence: int, rate: Decimal) -> VatSplit:
    """A VAT-inclusive amount to (net, VAT) summing exactly to it: VAT is the gross less the rounded net."""
    net = round_pence(Decimal(gross_pence) / (1 + rate))
    return VatSplit(net, gross_pence - net)
