"""The three kinds of service page: courses, subscriptions (SLAs) and one-off / pay-as-you-go services.

Each kind is its own page type (so editors pick it when they add a page) over the one ``ServicePage`` table.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.models import Page

from ..panels import RelatedRecordsPanel
from .services import ServiceKind, ServicePage


def _edit_handler(kind_panels: list, booking_panels: list) -> TabbedInterface:
    return TabbedInterface(
        [
            ObjectList(
                [*Page.content_panels, *ServicePage.about_panels, *kind_panels, *ServicePage.contact_panels],
                heading="Content",
            ),
            ObjectList([*booking_panels, *ServicePage.money_panels], heading="Booking and money"),
            ObjectList([RelatedRecordsPanel(heading="Prices and dates")], heading="Prices and dates"),
            ObjectList(Page.promote_panels, heading="Promote"),
            ObjectList(Page.settings_panels, heading="Settings"),
        ]
    )


_cancellation_panel = MultiFieldPanel(
    [FieldPanel("cancellation_free_days"), FieldPanel("cancellation_policy")], heading="Cancellation"
)


class CourseServicePage(ServicePage):
    """Training with bookable dates (``CourseDate`` rows, managed under Catalogue › Course dates)."""

    duration = models.CharField(max_length=120, blank=True, help_text="e.g. 'One day, 9:30am to 3:30pm'.")
    audience = models.TextField("who it is for", blank=True)

    service_kind = ServiceKind.COURSE
    template = "catalogue/course_service_page.html"
    edit_handler = _edit_handler(
        [FieldPanel("duration"), FieldPanel("audience")],
        [FieldPanel("requires_school_approval"), FieldPanel("delegates_must_be_named"), _cancellation_panel],
    )

    class Meta:
        verbose_name = "course"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["upcoming_dates"] = (
            self.dates.filter(ends_at__gte=timezone.now()).select_related("venue").order_by("starts_at")
        )
        return context


class TermType(models.TextChoices):
    FINANCIAL = "financial", "Financial year (April to March)"
    ACADEMIC = "academic", "Academic year (September to August)"


TERM_START_MONTH = {TermType.FINANCIAL: 4, TermType.ACADEMIC: 9}


class InvoiceSchedule(models.TextChoices):
    ANNUAL = "annual", "One invoice for the year"
    TWO_PART = "two_part", "Two invoices: 7/12 at the start, 5/12 in the autumn or spring"


class SubscriptionServicePage(ServicePage):
    """An annual service-level agreement (SLA) that schools buy back each year."""

    term_type = models.CharField(max_length=20, choices=TermType.choices, default=TermType.FINANCIAL)
    buyback_opens_days_before = models.PositiveSmallIntegerField(
        "buy-back opens (days before the term starts)",
        default=90,
        help_text="Schools can buy the next year's subscription from this many days before it starts.",
    )
    buyback_closes_days_before = models.PositiveSmallIntegerField(
        "buy-back closes (days before the term starts)",
        default=0,
        help_text="The last day to buy, counted back from the first day of the term (0 = the first day itself).",
    )
    invoice_schedule = models.CharField(max_length=20, choices=InvoiceSchedule.choices, default=InvoiceSchedule.ANNUAL)
    auto_renew = models.BooleanField(
        default=True, help_text="Subscriptions renew for the next year unless the school opts out during buy-back."
    )

    service_kind = ServiceKind.SUBSCRIPTION
    template = "catalogue/subscription_service_page.html"
    edit_handler = _edit_handler(
        [
            MultiFieldPanel(
                [
                    FieldPanel("term_type"),
                    FieldRowPanel([FieldPanel("buyback_opens_days_before"), FieldPanel("buyback_closes_days_before")]),
                    FieldPanel("invoice_schedule"),
                    FieldPanel("auto_renew"),
                ],
                heading="Term and buy-back",
            )
        ],
        [FieldPanel("requires_school_approval"), _cancellation_panel],
    )

    class Meta:
        verbose_name = "subscription (SLA)"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(buyback_opens_days_before__gt=models.F("buyback_closes_days_before")),
                name="buyback_opens_before_it_closes",
            )
        ]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        today = timezone.localdate()
        on_sale = self.term_on_sale(today)
        next_term = self.next_term_start(today)
        opens, closes = self.buyback_window(on_sale or next_term)
        context.update(on_sale_term=on_sale, next_term=next_term, buyback_opens=opens, buyback_closes=closes)
        return context

    def clean(self):
        super().clean()
        if self.buyback_opens_days_before <= self.buyback_closes_days_before:
            raise ValidationError(
                {"buyback_opens_days_before": "Buy-back must open more days before the term than it closes."}
            )

    # --- Terms ---------------------------------------------------------------------------------------------

    def term_start_for(self, day: date) -> date:
        """The first day of the term that contains ``day``."""
        month = TERM_START_MONTH[self.term_type]
        year = day.year if day.month >= month else day.year - 1
        return date(year, month, 1)

    def term_end(self, term_start: date) -> date:
        return date(term_start.year + 1, term_start.month, 1) - timedelta(days=1)

    def next_term_start(self, day: date) -> date:
        current = self.term_start_for(day)
        return date(current.year + 1, current.month, 1)

    def buyback_window(self, term_start: date) -> tuple[date, date]:
        """First and last day (inclusive) on which schools can buy the term starting on ``term_start``."""
        return (
            term_start - timedelta(days=self.buyback_opens_days_before),
            term_start - timedelta(days=self.buyback_closes_days_before),
        )

    def term_on_sale(self, day: date) -> date | None:
        """The start of the term whose buy-back window is open on ``day``, if any."""
        for start in (self.term_start_for(day), self.next_term_start(day)):
            opens, closes = self.buyback_window(start)
            if opens <= day <= closes:
                return start
        return None

    def instalments(self, total: Decimal) -> list[Decimal]:
        """How a year's price is invoiced: the parts always add up to the total, to the penny."""
        if self.invoice_schedule == InvoiceSchedule.TWO_PART:
            first = (total * 7 / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            return [first, total - first]
        return [total]


class OneOffUnit(models.TextChoices):
    DAY = "day", "Day"
    HALF_DAY = "half_day", "Half day"
    HOUR = "hour", "Hour"
    ITEM = "item", "Item"


UNIT_PLURALS = {"day": "days", "half_day": "half days", "hour": "hours", "item": "items"}


class OneOffServicePage(ServicePage):
    """A service bought as needed: consultancy days, an inspection, a number of hours or items."""

    unit = models.CharField(
        max_length=20, choices=OneOffUnit.choices, default=OneOffUnit.DAY, help_text="What the school buys a number of."
    )

    service_kind = ServiceKind.ONE_OFF
    template = "catalogue/one_off_service_page.html"
    edit_handler = _edit_handler(
        [FieldPanel("unit")],
        [FieldPanel("requires_school_approval"), _cancellation_panel],
    )

    class Meta:
        verbose_name = "one-off or pay-as-you-go service"

    def unit_label(self, quantity: Decimal | int = 1) -> str:
        singular = self.get_unit_display().lower()
        return singular if Decimal(quantity) == 1 else UNIT_PLURALS[self.unit]
