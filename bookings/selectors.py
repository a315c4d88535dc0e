"""Reads of the bookings app: what pages, tasks and other apps (billing) ask about bookings.

Every function that lists or loads bookings for a person filters through ``portal.access`` first, so a
list never shows what the matching detail page would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from catalogue.pricing import to_pennies
from portal.models import Council, School, SchoolRole

from .models import (
    Basket,
    BasketItem,
    Booking,
    BookingLine,
    BookingStatus,
    LineStatus,
    PaymentRoute,
    StatusChange,
    Subscription,
    SubscriptionStatus,
)

ZERO = Decimal("0.00")


# --- Subscriptions (subscriber prices) ----------------------------------------------------------------


def active_subscription_service_ids(school_id: int, *, on=None) -> frozenset[int]:
    """Ids of the SLA services the school holds on ``on`` (today): the pricing Customer's ``subscriptions``."""
    day = on or timezone.localdate()
    return frozenset(
        Subscription.objects.filter(
            school_id=school_id, status=SubscriptionStatus.ACTIVE, term_start__lte=day, term_end__gte=day
        ).values_list("service_id", flat=True)
    )


# --- Baskets ------------------------------------------------------------------------------------------


def basket_items(*, basket: Basket) -> list[BasketItem]:
    """The basket's items, each with its specific service page loaded (``item.specific_service``), in a fixed
    number of queries: course pages come with their dates, the other kinds in one query per kind."""
    from catalogue.models import OneOffServicePage, SubscriptionServicePage

    items = list(
        basket.items.select_related("service__council", "course_date__venue", "course_date__service").order_by(
            "added_at", "id"
        )
    )
    pages: dict[int, object] = {}
    for model, kind in ((SubscriptionServicePage, "subscription"), (OneOffServicePage, "one_off")):
        ids = {item.service_id for item in items if item.kind == kind}
        if ids:
            pages.update({page.pk: page for page in model.objects.filter(pk__in=ids)})
    for item in items:
        item.specific_service = item.course_date.service if item.course_date_id else pages.get(item.service_id)
    return items


@dataclass
class CouncilGroup:
    """A basket's or a booking's items from one council, with the council's terms and the group's totals."""

    council: Council
    items: list = field(default_factory=list)
    net: Decimal = ZERO
    vat: Decimal = ZERO
    gross: Decimal = ZERO
    routes: list[tuple[str, str]] = field(default_factory=list)
    # A booking's cancelled lines whose cancellation charge is still due (see ``cancellation_charge_due``);
    # ``net``/``vat``/``gross`` include them when the page adds them with ``add_charge``.
    charges_net: Decimal = ZERO
    charges_vat: Decimal = ZERO
    charges_gross: Decimal = ZERO

    def add(self, item, *, net: Decimal, vat: Decimal, gross: Decimal) -> None:
        self.items.append(item)
        self.net += net
        self.vat += vat
        self.gross += gross

    def add_charge(self, *, net: Decimal, vat: Decimal, gross: Decimal) -> None:
        self.charges_net += net
        self.charges_vat += vat
        self.charges_gross += gross

    @property
    def lines_net(self) -> Decimal:
        """The group's net less its cancellation charges: what its live lines cost."""
        return self.net - self.charges_net

    @property
    def lines_vat(self) -> Decimal:
        return self.vat - self.charges_vat

    @property
    def lines_gross(self) -> Decimal:
        return self.gross - self.charges_gross


def payment_routes_for(*, school: School, council: Council) -> list[tuple[str, str]]:
    """The routes a school may pay a council by: internal recharge only for the council's own maintained schools."""
    routes = [
        (PaymentRoute.INVOICE.value, PaymentRoute.INVOICE.label),
        (PaymentRoute.CARD.value, PaymentRoute.CARD.label),
    ]
    if school.funding_route == "maintained" and school.la_code and school.la_code == council.la_code:
        routes.append((PaymentRoute.RECHARGE.value, PaymentRoute.RECHARGE.label))
    return routes


def group_by_council(*, school: School, entries: Iterable, amounts) -> list[CouncilGroup]:
    """Group basket items or booking lines by providing council, in council-name order.

    ``amounts(entry)`` returns (net, vat, gross) for an entry, so the same grouping serves the basket (quoted
    prices) and the checkout (snapshot prices). Totals are sums of the entries, so they add up to the penny.
    """
    groups: dict[int, CouncilGroup] = {}
    for entry in entries:
        council = entry.service.council if hasattr(entry, "quoted_net") else entry.council
        group = groups.get(council.pk)
        if group is None:
            group = groups[council.pk] = CouncilGroup(
                council=council, routes=payment_routes_for(school=school, council=council)
            )
        net, vat, gross = amounts(entry)
        group.add(entry, net=net, vat=vat, gross=gross)
    return sorted(groups.values(), key=lambda g: g.council.name)


# --- Bookings -----------------------------------------------------------------------------------------


def _lines_prefetch(lines: QuerySet[BookingLine] | None = None) -> Prefetch:
    lines = lines if lines is not None else BookingLine.objects.all()
    return Prefetch(
        "lines",
        queryset=lines.select_related("council", "service", "course_date", "course_date__venue", "delegate").order_by(
            "council__name", "id"
        ),
    )


def bookings_of_schools(*, school_ids: Iterable[int]) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(school_id__in=list(school_ids))
        .select_related("school", "booked_by", "approved_by")
        .prefetch_related(_lines_prefetch())
    )


def booking_for_school_user(*, user, reference: str) -> Booking | None:
    """The booking if the user belongs to its school (any role), else None (the view answers 404)."""
    from portal.access import schools_for

    return (
        Booking.objects.filter(reference=reference, school__in=schools_for(user))
        .select_related("school", "booked_by", "approved_by")
        .prefetch_related(_lines_prefetch())
        .first()
    )


def booking_for_council_user(*, user, reference: str) -> tuple[Booking, list[BookingLine]] | None:
    """For council staff: the booking and ONLY the lines of their own councils' services, or None."""
    from portal.access import councils_for

    councils = councils_for(user)
    lines = list(
        BookingLine.objects.filter(booking__reference=reference, council__in=councils)
        .select_related("council", "service", "course_date", "course_date__venue", "delegate")
        .order_by("council__name", "id")
    )
    if not lines:
        return None
    booking = Booking.objects.select_related("school", "booked_by").get(pk=lines[0].booking_id)
    return booking, lines


def audit_trail(*, booking: Booking, line_ids: Iterable[int] | None = None) -> QuerySet[StatusChange]:
    """The booking's status changes, oldest first; with ``line_ids`` only those lines' changes and the booking's."""
    changes = StatusChange.objects.filter(booking=booking).select_related("by", "line")
    if line_ids is not None:
        changes = changes.filter(Q(line__isnull=True) | Q(line_id__in=list(line_ids)))
    return changes.order_by("at", "id")


def bookings_awaiting_approval(*, user) -> QuerySet[Booking]:
    """Bookings waiting for a decision at the schools where the user is the approver (admins: none by default)."""
    from portal.access import school_memberships_for

    school_ids = school_memberships_for(user, role=SchoolRole.APPROVER).values("school_id")
    return (
        Booking.objects.filter(status=BookingStatus.AWAITING_APPROVAL, school_id__in=school_ids)
        .select_related("school", "booked_by")
        .prefetch_related(_lines_prefetch())
        .order_by("submitted_at", "id")
    )


def booking_totals(lines: Iterable[BookingLine]) -> tuple[Decimal, Decimal, Decimal]:
    """Net, VAT and gross of the given lines (sums, so they add up)."""
    net = vat = gross = ZERO
    for line in lines:
        net += line.net
        vat += line.vat
        gross += line.gross
    return net, vat, gross


def cancellation_charge_due(line: BookingLine) -> tuple[Decimal, Decimal, Decimal]:
    """Net, VAT and gross the school is still charged for a cancelled line (zeros for any other line).

    The charge is net: billing credits the rest of the line's net (``credit_owed_pence``), with the VAT on
    that credit worked out at the line's rate, so the VAT still due is the line's VAT less the VAT on the
    credit, never more than the line's VAT. Exempt and outside-the-scope lines carry none.
    """
    if line.status != LineStatus.CANCELLED or not line.cancellation_charge:
        return ZERO, ZERO, ZERO
    net = min(line.cancellation_charge, line.net)
    credited_vat = to_pennies((line.net - net) * line.vat_rate)
    vat = min(max(line.vat - credited_vat, ZERO), line.vat)
    return net, vat, net + vat


def booking_amounts_due(line: BookingLine) -> tuple[Decimal, Decimal, Decimal]:
    """What a line counts towards a booking's total: its price while it holds or took its place, the
    cancellation charge still due once cancelled, nothing once substituted (its substitute carries it)."""
    if line.status == LineStatus.SUBSTITUTED:
        return ZERO, ZERO, ZERO
    if line.status == LineStatus.CANCELLED:
        return cancellation_charge_due(line)
    return line.net, line.vat, line.gross


# --- For billing ----------------------------------------------------------------------------------------


def card_amount_due(*, booking_id: int) -> Decimal:
    """What the school pays by card for the booking: the gross of its live card-route lines."""
    lines = BookingLine.objects.filter(booking_id=booking_id, payment_route=PaymentRoute.CARD).exclude(
        status__in=["cancelled", "substituted"]
    )
    return booking_totals(lines)[2]


# --- bookings-flows: the school's dashboard, subscriptions, waiting lists, council course admin ----------
# (Imports are local to keep this section apart from the module's header, which bookings-core maintains.)


def _own_school_ids(user):
    """The schools the user is a member of (a partnership admin's reach is not their dashboard)."""
    from portal.access import school_memberships_for

    return school_memberships_for(user).values("school_id")


def upcoming_places(*, user, now=None) -> QuerySet[BookingLine]:
    """Course places still to come at the user's schools, held or booked, soonest first, with their delegates."""
    from .models import ItemKind, LineStatus

    now = now or timezone.now()
    return (
        BookingLine.objects.filter(
            booking__school_id__in=_own_school_ids(user),
            kind=ItemKind.COURSE_PLACE,
            status__in=(LineStatus.HELD, LineStatus.BOOKED),
            course_date__starts_at__gt=now,
        )
        .exclude(booking__status=BookingStatus.CANCELLED)
        .select_related(
            "booking", "booking__school", "course_date__service", "course_date__venue", "council", "delegate"
        )
        .order_by("course_date__starts_at", "booking__school__name", "id")
    )


def past_bookings(*, user, now=None, limit: int = 10) -> list[Booking]:
    """The user's schools' bookings that are over: completed, cancelled, or confirmed with every course held.

    A confirmed booking with a place still to come, or with an SLA term not yet ended, is not past.
    """
    from .models import ItemKind

    now = now or timezone.now()
    today = timezone.localdate()
    candidates = (
        Booking.objects.filter(
            school_id__in=_own_school_ids(user),
            status__in=(BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.CANCELLED),
        )
        .select_related("school", "booked_by")
        .prefetch_related(_lines_prefetch())
        .order_by("-created_at", "-id")
    )
    past: list[Booking] = []
    for booking in candidates[: limit * 5]:
        lines = list(booking.lines.all())
        if booking.status == BookingStatus.CONFIRMED:
            still_to_come = any(
                (line.kind == ItemKind.COURSE_PLACE and line.course_date.starts_at > now)
                or (line.kind == ItemKind.SUBSCRIPTION and line.term_end and line.term_end >= today)
                or line.kind == ItemKind.ONE_OFF
                for line in lines
                if line.status not in ("cancelled", "substituted")
            )
            if still_to_come:
                continue
        booking.shown_lines = lines
        past.append(booking)
        if len(past) == limit:
            break
    return past


@dataclass
class SubscriptionRow:
    """One subscription as the school sees it: its term, and what happens next year."""

    subscription: Subscription
    today: object
    renewal: Subscription | None = None

    @property
    def is_current(self) -> bool:
        s = self.subscription
        return s.status == SubscriptionStatus.ACTIVE and s.term_start <= self.today <= s.term_end

    @property
    def is_future(self) -> bool:
        s = self.subscription
        return s.status == SubscriptionStatus.ACTIVE and s.term_start > self.today

    @property
    def is_past(self) -> bool:
        return not (self.is_current or self.is_future)

    @property
    def needs_purchase_order(self) -> bool:
        """The school requires a PO number on every booking, so nothing renews automatically (none is given)."""
        return self.subscription.school.requires_purchase_order

    @property
    def renews_on(self):
        s = self.subscription
        if not self.is_current or self.renewal or not (s.auto_renew and s.service.auto_renew):
            return None
        if self.needs_purchase_order:
            return None
        next_start = s.service.next_term_start(s.term_start)
        return s.service.buyback_window(next_start)[1]

    @property
    def may_switch_renewal(self) -> bool:
        return self.is_current and self.renewal is None and self.subscription.service.auto_renew


def subscriptions_of_school(*, school: School, today=None) -> list[SubscriptionRow]:
    """The school's subscriptions, newest term first, each with its renewal (if made) for the next term."""
    today = today or timezone.localdate()
    subscriptions = list(
        Subscription.objects.filter(school=school)
        .select_related("service", "service__council", "booking_line__booking")
        .order_by("-term_start", "service__title", "id")
    )
    for subscription in subscriptions:
        subscription.school = school
    renewals = {s.renewal_of_id: s for s in subscriptions if s.renewal_of_id and s.status != "cancelled"}
    return [SubscriptionRow(subscription=s, today=today, renewal=renewals.get(s.pk)) for s in subscriptions]


def current_subscriptions(*, user, today=None) -> list[SubscriptionRow]:
    """Active subscriptions (this term or the next) of the user's schools, for the dashboard."""
    today = today or timezone.localdate()
    subscriptions = list(
        Subscription.objects.filter(
            school_id__in=_own_school_ids(user), status=SubscriptionStatus.ACTIVE, term_end__gte=today
        )
        .select_related("school", "service", "service__council")
        .order_by("school__name", "service__title", "term_start")
    )
    renewals = {s.renewal_of_id: s for s in subscriptions if s.renewal_of_id}
    return [SubscriptionRow(subscription=s, today=today, renewal=renewals.get(s.pk)) for s in subscriptions]


def waiting_entries_for(*, user) -> QuerySet:
    """Active waiting-list entries the user made, or of schools where they are the approver; offers first."""
    from portal.access import school_memberships_for

    from .models import WaitingListEntry, WaitingStatus

    approver_of = school_memberships_for(user, role=SchoolRole.APPROVER).values("school_id")
    return (
        WaitingListEntry.objects.filter(status__in=(WaitingStatus.WAITING, WaitingStatus.OFFERED))
        .filter(Q(requested_by=user, school_id__in=_own_school_ids(user)) | Q(school_id__in=approver_of))
        .select_related("course_date", "course_date__service", "course_date__venue", "school")
        .order_by("-status", "course_date__starts_at", "created_at")
    )


# Council course admin (Wagtail admin): reach is ``services.course_admin.course_staff_council_ids``.


def course_dates_for_staff(*, council_ids, upcoming: bool = True, now=None):
    """Course dates of the given councils (None: all) with counts of places and waiting entries."""
    from django.db.models import Count, F

    from catalogue.models import CourseDate

    from .models import LineStatus, WaitingStatus

    now = now or timezone.now()
    dates = CourseDate.objects.select_related("service", "venue", "council")
    if council_ids is not None:
        dates = dates.filter(council_id__in=list(council_ids))
    dates = dates.filter(ends_at__gte=now) if upcoming else dates.filter(ends_at__lt=now)
    return (
        dates.annotate(
            booked_count=Count(
                "booking_lines",
                filter=Q(booking_lines__status__in=(LineStatus.BOOKED, LineStatus.ATTENDED, LineStatus.NO_SHOW)),
                distinct=True,
            ),
            held_count=Count("booking_lines", filter=Q(booking_lines__status=LineStatus.HELD), distinct=True),
            waiting_count=Count(
                "waiting_list",
                filter=Q(waiting_list__status__in=(WaitingStatus.WAITING, WaitingStatus.OFFERED)),
                distinct=True,
            ),
        )
        .annotate(
            # places_taken is the authoritative count (the list shows it); what no line accounts for was taken
            # outside the portal, e.g. by phone.
            taken_outside=F("places_taken") - F("booked_count") - F("held_count"),
        )
        .order_by("starts_at" if upcoming else "-starts_at", "id")
    )


def register_lines(*, course_date) -> QuerySet[BookingLine]:
    """The lines that hold places on the date (held, booked, attended, no-show), by school then delegate."""
    from .models import PLACE_TAKING_STATUSES

    return (
        BookingLine.objects.filter(course_date=course_date, status__in=PLACE_TAKING_STATUSES)
        .select_related("booking", "booking__school", "booking__booked_by", "delegate")
        .order_by("booking__school__name", "delegate__name", "id")
    )


def cancelled_lines(*, course_date) -> QuerySet[BookingLine]:
    from .models import LineStatus

    return (
        # Only cancellations of submitted bookings: abandoned checkouts and lapsed offers are not the council's news.
        BookingLine.objects.filter(
            course_date=course_date, status=LineStatus.CANCELLED, booking__submitted_at__isnull=False
        )
        .select_related("booking", "booking__school", "delegate", "charge_waived_by")
        .order_by("-cancelled_at", "id")
    )


def waiting_list_of(*, course_date) -> QuerySet:
    """Everyone on the date's waiting list, in the order they will be offered, then the history."""
    from django.db.models import Case, IntegerField, Value, When

    from .models import WaitingListEntry, WaitingStatus

    rank = Case(
        When(status=WaitingStatus.OFFERED, then=Value(0)),
        When(status=WaitingStatus.WAITING, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        WaitingListEntry.objects.filter(course_date=course_date)
        .select_related("school", "requested_by", "booking")
        .annotate(rank=rank)
        .order_by("rank", "created_at", "id")
    )
