"""Service pages: what a council sells. One concrete base table, three kinds.

``ServicePage`` is a concrete (multi-table) base so that the listing, search and bookings can query every kind
at once; the kinds add their own fields in their own tables (``service_kinds.py``). Editors never create a bare
``ServicePage``.

The page's ``council`` is copied from the provider page above it every time the page is saved: editors never
choose it, and rows that hang off a service (course dates, bookings, invoice lines) can filter by council
without walking the tree. Prices and course dates live in their own tables, outside page revisions, so that
publishing or reverting a page never deletes or recreates what bookings point at.
"""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from portal.blocks import BodyBlock


class ServiceKind(models.TextChoices):
    COURSE = "course", "Course"
    SUBSCRIPTION = "subscription", "Subscription (SLA)"
    ONE_OFF = "one_off", "One-off or pay as you go"


class VatTreatment(models.TextChoices):
    """How VAT applies (the codes match ``catalogue.pricing.VatTreatment``)."""

    EXEMPT = "exempt", "Exempt (education and training supplied by the council)"
    STANDARD = "standard", "Standard rate (20%)"
    ZERO = "zero", "Zero rate (0%)"
    OUTSIDE_SCOPE = "outside_scope", "Outside the scope of VAT"


VAT_RATES: dict[str, Decimal] = {
    VatTreatment.EXEMPT: Decimal("0.00"),
    VatTreatment.STANDARD: Decimal("0.20"),
    VatTreatment.ZERO: Decimal("0.00"),
    VatTreatment.OUTSIDE_SCOPE: Decimal("0.00"),
}

DEFAULT_CANCELLATION_FREE_DAYS = 14


class ServicePage(Page):
    kind = models.CharField(max_length=20, choices=ServiceKind.choices, editable=False, db_index=True)
    council = models.ForeignKey(
        "portal.Council",
        on_delete=models.PROTECT,
        related_name="services",
        editable=False,
        blank=True,
        help_text="Copied from the provider page above the service whenever the page is saved.",
    )
    summary = models.CharField(max_length=300, help_text="One or two sentences shown in lists and search results.")
    body = StreamField(BodyBlock(), blank=True)
    categories = ParentalManyToManyField("catalogue.Category", blank=True, related_name="services")
    phases = ParentalManyToManyField(
        "catalogue.Phase", blank=True, related_name="services", help_text="The phases of education this suits."
    )

    contact_name = models.CharField(max_length=120, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)

    vat_treatment = models.CharField(
        "VAT treatment",
        max_length=20,
        choices=VatTreatment.choices,
        default=VatTreatment.EXEMPT,
        help_text="Training supplied by the council is usually exempt; other traded services are usually standard "
        "rated. Printed on every invoice line.",
    )
    cost_centre = models.CharField(max_length=20, blank=True, help_text="Leave blank to use the council's default.")
    income_code = models.CharField(max_length=20, blank=True, help_text="Leave blank to use the council's default.")

    # Booking rules.
    requires_school_approval = models.BooleanField(
        "needs the school's approval",
        default=False,
        help_text="Bookings wait for sign-off by the school's approver (usually the school business manager) "
        "before they are confirmed, even when the school itself does not ask for it.",
    )
    cancellation_free_days = models.PositiveSmallIntegerField(
        "free cancellation up to (days before)",
        default=DEFAULT_CANCELLATION_FREE_DAYS,
        help_text="A booking cancelled at least this many days before the start is not charged.",
    )
    cancellation_policy = models.TextField(
        blank=True,
        help_text="Shown to bookers. Leave blank for the standard wording built from the number of days above.",
    )
    delegates_must_be_named = models.BooleanField(
        default=True,
        help_text="Courses only: each place is booked for a named member of staff (substitutions are allowed).",
    )

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
        index.RelatedFields("categories", [index.SearchField("name")]),
        index.RelatedFields("council", [index.SearchField("short_name"), index.FilterField("id")]),
        index.FilterField("kind"),
        index.FilterField("council"),
        index.AutocompleteField("summary"),
    ]

    # Editors create the kinds, never the base.
    is_creatable = False
    parent_page_types = ["catalogue.ProviderPage"]
    subpage_types: list[str] = []

    # Set by each kind; copied into ``kind`` on save.
    service_kind: str = ""

    about_panels = [
        FieldPanel("summary"),
        FieldPanel("body"),
        FieldPanel("categories", widget=forms.CheckboxSelectMultiple),
        FieldPanel("phases", widget=forms.CheckboxSelectMultiple),
    ]
    contact_panels = [
        MultiFieldPanel(
            [FieldPanel("contact_name"), FieldRowPanel([FieldPanel("contact_email"), FieldPanel("contact_phone")])],
            heading="Contact",
        )
    ]
    money_panels = [
        MultiFieldPanel(
            [FieldPanel("vat_treatment"), FieldRowPanel([FieldPanel("cost_centre"), FieldPanel("income_code")])],
            heading="VAT and ledger codes",
        )
    ]

    class Meta:
        verbose_name = "service page"
        indexes = [models.Index(fields=["council", "kind"], name="service_council_kind_idx")]

    def __str__(self) -> str:
        return self.title

    # --- Derived values ----------------------------------------------------------------------------------

    def _provider_council_id(self) -> int | None:
        from .pages import ProviderPage

        if not self.path or self.depth is None or self.depth < 2:
            return None
        parent_path = self.path[: -self.steplen]
        return ProviderPage.objects.filter(path=parent_path).values_list("council_id", flat=True).first()

    def save(self, *args, **kwargs):
        if self.service_kind:
            self.kind = self.service_kind
        council_id = self._provider_council_id()
        if council_id is not None:
            self.council_id = council_id
        return super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        if not self.council_id and self.path:
            raise ValidationError("A service page must sit under a council's provider page.")

    def get_context(self, request, *args, **kwargs):
        from catalogue.pricing import VAT_LABELS

        context = super().get_context(request, *args, **kwargs)
        ancestors = list(Page.objects.ancestor_of(self).filter(depth__gte=3).order_by("depth"))
        context.update(
            breadcrumbs=ancestors,
            provider=ancestors[-1] if ancestors else None,
            kind_label=ServiceKind(self.kind).label if self.kind else "",
            phases=[phase.name for phase in self.phases.all()],
            categories=[category.name for category in self.categories.all()],
            vat_label=VAT_LABELS[self.vat_treatment],
        )
        return context

    @property
    def effective_cost_centre(self) -> str:
        return self.cost_centre or self.council.default_cost_centre

    @property
    def effective_income_code(self) -> str:
        return self.income_code or self.council.default_income_code

    @property
    def vat_rate(self) -> Decimal:
        return VAT_RATES[self.vat_treatment]

    @property
    def cancellation_policy_text(self) -> str:
        if self.cancellation_policy:
            return self.cancellation_policy
        days = self.cancellation_free_days
        if self.kind == ServiceKind.SUBSCRIPTION:
            return (
                f"You can cancel free of charge up to {days} days before the subscription starts. After that the "
                "subscription runs for the whole term."
            )
        if self.kind == ServiceKind.ONE_OFF:
            return (
                f"You can cancel free of charge up to {days} days before the work is due to start. After that the "
                "full price is charged."
            )
        return (
            f"You can cancel free of charge up to {days} days before the start. After that the full price is "
            "charged, unless the place is filled from the waiting list. Non-attendance is charged in full."
        )
