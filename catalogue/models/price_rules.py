"""Price rules: how a service is priced, as the councils actually price them.

Rows live outside page revisions (editing or reverting a page never changes a price). Bookings do not point
at rules: a booking line snapshots the price, VAT and council when it is made, so a rule can be changed or
deleted freely. ``to_spec()`` hands a rule to the pure price engine (``catalogue/pricing.py``), which picks
the rule that applies to a school and explains the price.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from .phases import CATALOGUE_PHASES


class PriceRuleKind(models.TextChoices):
    FLAT = "flat", "Flat fee"
    PER_PUPIL = "per_pupil", "Per pupil on roll"
    BAND = "band", "Band of pupils on roll"
    DAY_RATE = "day_rate", "Day rate"


class CustomerType(models.TextChoices):
    """Who a price is for (the codes match ``catalogue.pricing.CustomerType``)."""

    ANY = "any", "Any school"
    OWN_MAINTAINED = "own_maintained", "Maintained schools of this council"
    ACADEMY = "academy", "Academies and free schools"
    OTHER_COUNCIL = "other_council", "Maintained schools of other councils"
    INDEPENDENT = "independent", "Independent schools"


class PriceRule(models.Model):
    service = models.ForeignKey("catalogue.ServicePage", on_delete=models.CASCADE, related_name="price_rules")
    kind = models.CharField(max_length=20, choices=PriceRuleKind.choices)
    label = models.CharField(
        max_length=120, blank=True, help_text="Optional wording for the price table, e.g. 'Early bird'."
    )
    amount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Net price: the fee (flat), the band's price (band) or the price of one day (day rate).",
    )
    rate_per_pupil = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    minimum = models.DecimalField(
        "minimum charge", max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    maximum = models.DecimalField(
        "maximum charge", max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    pupils_from = models.PositiveIntegerField(null=True, blank=True, help_text="Pupils on roll, inclusive.")
    pupils_to = models.PositiveIntegerField(
        null=True, blank=True, help_text="Pupils on roll, inclusive. Leave empty for no upper limit."
    )
    # Conditions: a rule applies to a school only when each condition it sets matches.
    phase = models.CharField(
        max_length=20, choices=CATALOGUE_PHASES, blank=True, help_text="Leave empty for every phase."
    )
    customer_type = models.CharField("for", max_length=20, choices=CustomerType.choices, default=CustomerType.ANY)
    subscriber_service = models.ForeignKey(
        "catalogue.SubscriptionServicePage",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="subscriber_price_rules",
        verbose_name="only for holders of",
        help_text="A subscriber price: applies only to schools that hold this SLA. Removed with the SLA.",
    )
    sort_order = models.PositiveSmallIntegerField(default=0, help_text="Order in the price table.")

    class Meta:
        ordering = ["service", "sort_order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pupils_from__isnull=True) | Q(pupils_to__isnull=True) | Q(pupils_to__gte=F("pupils_from")),
                name="pricerule_pupil_range_in_order",
            ),
            models.CheckConstraint(
                condition=Q(minimum__isnull=True) | Q(maximum__isnull=True) | Q(maximum__gte=F("minimum")),
                name="pricerule_minimum_not_above_maximum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.title}: {self.get_kind_display()}{' — ' + self.label if self.label else ''}"

    def clean(self):
        super().clean()
        errors: dict[str, str] = {}
        needs_amount = {
            PriceRuleKind.FLAT: "Enter the fee.",
            PriceRuleKind.BAND: "Enter the price for schools in this band.",
            PriceRuleKind.DAY_RATE: "Enter the price of one day.",
        }
        if self.kind in needs_amount and self.amount is None:
            errors["amount"] = needs_amount[self.kind]
        if self.kind == PriceRuleKind.PER_PUPIL:
            if self.rate_per_pupil is None:
                errors["rate_per_pupil"] = "Enter the rate per pupil on roll."
            if self.amount is not None:
                errors["amount"] = "A per-pupil price has no fixed amount: use the rate, minimum and maximum."
        else:
            if self.rate_per_pupil is not None:
                errors["rate_per_pupil"] = "Only a per-pupil price has a rate per pupil."
            if self.minimum is not None:
                errors["minimum"] = "Only a per-pupil price has a minimum charge."
            if self.maximum is not None:
                errors["maximum"] = "Only a per-pupil price has a maximum charge."
        if self.kind == PriceRuleKind.BAND and self.pupils_from is None and self.pupils_to is None:
            errors["pupils_from"] = "Enter the pupil numbers this band covers (from, and to unless it is the top band)."
        if self.pupils_from is not None and self.pupils_to is not None and self.pupils_from > self.pupils_to:
            errors["pupils_to"] = "The band must end at or above where it starts."
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            errors["maximum"] = "The maximum charge cannot be below the minimum charge."
        if self.subscriber_service_id and self.service_id and self.subscriber_service_id == self.service_id:
            errors["subscriber_service"] = "A subscriber price must name a different service from this one."
        if errors:
            raise ValidationError(errors)

    def to_spec(self):
        """This rule as the price engine's ``RuleSpec`` (select_related("subscriber_service") to avoid a query)."""
        from catalogue.pricing import RuleSpec

        return RuleSpec(
            id=self.pk,
            kind=self.kind,
            label=self.label,
            amount=self.amount,
            rate_per_pupil=self.rate_per_pupil,
            minimum=self.minimum,
            maximum=self.maximum,
            pupils_from=self.pupils_from,
            pupils_to=self.pupils_to,
            phase=self.phase or None,
            customer_type=self.customer_type,
            subscriber_service_id=self.subscriber_service_id,
            subscriber_service_name=self.subscriber_service.title if self.subscriber_service_id else "",
        )
