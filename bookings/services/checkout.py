"""Checkout: from a basket to a booking whose places are held, then submitted, approved or confirmed.

1. ``start_checkout`` quotes every item again and, in ONE transaction, writes a draft booking with its
   lines and takes the course places (``holds.take_places``, dates in id order, last, so the rows stay
   locked for as short a time as possible). If any date is full or any item can no longer be had, the
   transaction is rolled back (nothing is held or written) and ``CheckoutUnavailable`` lists each item with
   its reason; the view offers the waiting list for full dates.
2. The checkout page shows the lines grouped by council, with any price change since the basket, and asks
   for the purchase-order number and a payment route per council. ``submit_checkout`` then sends the
   booking to the school's approver (longer hold) or finishes it: awaiting payment when any group pays by
   card, otherwise confirmed (invoice or internal recharge).
3. Billing calls ``confirm_card_payment`` / ``record_card_payment_failed`` when the card payment settles.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalogue.models import CourseDate, ServicePage
from catalogue.pricing import NoPriceError
from portal.models import School, SchoolRole

from ..models import (
    Basket,
    BasketItem,
    Booking,
    BookingLine,
    BookingStatus,
    Delegate,
    ItemKind,
    LineStatus,
    PaymentRoute,
    SchoolBookingSettings,
    StatusChange,
    Subscription,
    SubscriptionStatus,
    new_reference,
)
from ..selectors import active_subscription_service_ids, payment_routes_for
from ..states import record_event, transition
from . import holds
from .basket import describe_course_place, describe_one_off, describe_subscription
from .quotes import quote_for, vat_for_route

logger = logging.getLogger(__name__)

PO_NUMBER_MAX = 40


class CheckoutUnavailable(Exception):
    """Some items could not be had; nothing was written. ``problems`` pairs each item with the reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


class BookingNotPayable(Exception):
    """A card payment arrived for a booking that cannot take it (cancelled, or never sent for payment)."""


@dataclass(frozen=True)
class Problem:
    spec: LineSpec
    message: str
    full: bool = False  # the date is full: offer its waiting list


@dataclass(frozen=True)
class DelegateDetails:
    name: str
    email: str = ""
    role: str = ""
    access_needs: str = ""
    dietary_needs: str = ""


@dataclass(frozen=True)
class LineSpec:
    """One thing to book: what ``create_booking`` needs, from a basket item or from elsewhere (renewals)."""

    kind: str
    service: ServicePage  # the specific page (course, subscription or one-off)
    quantity: Decimal = Decimal("1")
    course_date: CourseDate | None = None
    term_start: date | None = None
    delegate: DelegateDetails | None = None
    source_item: BasketItem | None = None
    basket_net: Decimal | None = None
    basket_gross: Decimal | None = None

    @classmethod
    def from_item(cls, item: BasketItem) -> LineSpec:
        delegate = None
        if item.kind == ItemKind.COURSE_PLACE:
            delegate = DelegateDetails(
                name=item.delegate_name,
                email=item.delegate_email,
                role=item.delegate_role,
                access_needs=item.delegate_access_needs,
                dietary_needs=item.delegate_dietary_needs,
            )
        # A course place's specific page came with the item (select_related course_date__service); the other
        # kinds need their specific page (term dates, units), one query each.
        service = item.course_date.service if item.kind == ItemKind.COURSE_PLACE else item.service.specific
        return cls(
            kind=item.kind,
            service=service,
            quantity=item.quantity,
            course_date=item.course_date,
            term_start=item.term_start,
            delegate=delegate,
            source_item=item,
            basket_net=item.quoted_net,
            basket_gross=item.quoted_gross,
        )

    @property
    def label(self) -> str:
        if self.kind == ItemKind.COURSE_PLACE:
            return describe_course_place(
                course_date=self.course_date, delegate_name=self.delegate.name if self.delegate else ""
            )
        if self.kind == ItemKind.SUBSCRIPTION:
            return describe_subscription(service=self.service, term_start=self.term_start)
        return describe_one_off(service=self.service, quantity=self.quantity)


# --- Writing a booking --------------------------------------------------------------------------------


def _validate(obj, *, exclude: tuple[str, ...] = ()) -> None:
    """Field validation and ``clean()`` without the per-foreign-key existence queries of ``full_clean``.

    The related objects were just loaded by the caller, and the database enforces the keys and constraints.
    """
    obj.clean_fields(exclude=list(exclude))
    obj.clean()


def _line_for(*, booking: Booking, spec: LineSpec, subscriptions: frozenset[int], now: datetime) -> BookingLine:
    service = spec.service
    priced = quote_for(
        school=booking.school,
        service=service,
        quantity=spec.quantity,
        course_date=spec.course_date,
        description=spec.label,
        subscriptions=subscriptions,
    ).lines[0]
    line = BookingLine(
        booking=booking,
        kind=spec.kind,
        service_id=service.pk,
        course_date=spec.course_date,
        council_id=service.council_id,
        status=LineStatus.HELD,
        description=priced.description[:300],
        quantity=priced.quantity,
        unit_net=priced.unit_net,
        net=priced.net,
        vat_treatment=priced.vat_treatment,
        vat_rate=priced.vat_rate,
        vat=priced.vat,
        gross=priced.gross,
        price_explanation=priced.explanation,
        cost_centre=service.effective_cost_centre,
        income_code=service.effective_income_code,
        basket_net=spec.basket_net,
        basket_gross=spec.basket_gross,
        source_item=spec.source_item,
        hold_expires_at=booking.hold_expires_at,
    )
    if spec.kind == ItemKind.SUBSCRIPTION:
        line.term_start = spec.term_start
        line.term_end = service.term_end(spec.term_start)
    _validate(line, exclude=("booking", "service", "course_date", "council", "source_item", "substitute_of"))
    return line


def _availability_problem(spec: LineSpec, now: datetime) -> Problem | None:
    if not spec.service.live:
        return Problem(spec, f"{spec.label}: this service is no longer offered.")
    if spec.kind != ItemKind.COURSE_PLACE:
        return None
    course_date = spec.course_date
    if course_date.is_cancelled:
        return Problem(spec, f"{spec.label}: this date has been cancelled.")
    if now >= (course_date.booking_closes_at or course_date.starts_at):
        return Problem(spec, f"{spec.label}: booking for this date has closed.")
    if spec.delegate is None or (spec.service.delegates_must_be_named and not spec.delegate.name):
        return Problem(spec, f"{spec.label}: name the person who will attend.")
    return None


def _subscription_problems(*, school: School, specs: list[LineSpec], today: date) -> list[Problem]:
    """An SLA term can be bought once: refuse a term no longer on sale, held by the school, or being booked.

    The caller holds the School row locked, so two checkouts of the same term cannot both pass these checks.
    """
    problems = []
    seen: set[tuple[int, date]] = set()
    for spec in specs:
        if spec.kind != ItemKind.SUBSCRIPTION:
            continue
        key = (spec.service.pk, spec.term_start)
        if key in seen:
            problems.append(Problem(spec, f"{spec.label}: it is in this booking twice."))
            continue
        seen.add(key)
        if spec.service.term_on_sale(today) != spec.term_start:
            problems.append(Problem(spec, f"{spec.label}: this term is no longer on sale."))
            continue
        held = (
            Subscription.objects.filter(school=school, service_id=spec.service.pk, term_start=spec.term_start)
            .exclude(status=SubscriptionStatus.CANCELLED)
            .exists()
        )
        if held:
            problems.append(Problem(spec, f"{spec.label}: your school already has this subscription for this term."))
            continue
        pending = (
            BookingLine.objects.filter(
                booking__school=school,
                kind=ItemKind.SUBSCRIPTION,
                service_id=spec.service.pk,
                term_start=spec.term_start,
                status__in=(LineStatus.HELD, LineStatus.BOOKED),
            )
            .select_related("booking")
            .first()
        )
        if pending:
            problems.append(
                Problem(
                    spec,
                    f"{spec.label}: it is already being booked for your school (booking {pending.booking.reference}).",
                )
            )
    return problems


def _insert_booking(booking: Booking) -> None:
    # A random reference can clash (rarely); try again with a fresh one inside a savepoint.
    for attempt in range(5):
        try:
            with transaction.atomic():
                booking.save(force_insert=True)
            return
        except IntegrityError:
            if attempt == 4 or Booking.objects.filter(reference=booking.reference).count() == 0:
                raise
            booking.reference = new_reference()


@transaction.atomic
def create_booking(
    *,
    school: School,
    booked_by,
    specs: list[LineSpec],
    hold_until: datetime,
    by=None,
    reason: str = "",
    today: date | None = None,
) -> Booking:
    """Write a draft booking with held lines and take its course places, or raise ``CheckoutUnavailable``.

    Everything happens in one transaction (a savepoint inside the caller's): on any problem nothing is
    written and no place is taken, and a caller that catches ``CheckoutUnavailable`` can carry on.
    """
    return _create_booking(
        school=school, booked_by=booked_by, specs=specs, hold_until=hold_until, by=by, reason=reason, today=today
    )


def _create_booking(
    *,
    school: School,
    booked_by,
    specs: list[LineSpec],
    hold_until: datetime,
    by=None,
    reason: str = "",
    today: date | None = None,
) -> Booking:
    # Runs inside the caller's transaction with no savepoint of its own (start_checkout's hot path).
    if not specs:
        raise ValidationError("There is nothing to book.")
    now = timezone.now()
    holds.set_lock_timeout()
    problems = [p for p in (_availability_problem(spec, now) for spec in specs) if p]
    if any(spec.kind == ItemKind.SUBSCRIPTION for spec in specs):
        # Serialise SLA purchases per school (lock order: basket, school, course dates by id).
        School.objects.select_for_update().filter(pk=school.pk).values_list("pk", flat=True).first()
        problems += _subscription_problems(school=school, specs=specs, today=today or timezone.localdate())

    booking = Booking(school=school, booked_by=booked_by, status=BookingStatus.DRAFT, hold_expires_at=hold_until)
    _validate(booking, exclude=("school", "booked_by", "approved_by"))
    subscriptions = active_subscription_service_ids(school.pk)
    lines: list[tuple[LineSpec, BookingLine]] = []
    for spec in specs:
        try:
            lines.append((spec, _line_for(booking=booking, spec=spec, subscriptions=subscriptions, now=now)))
        except NoPriceError as exc:
            problems.append(Problem(spec, f"{spec.label}: {exc}"))
    if problems:
        raise CheckoutUnavailable(problems)

    _insert_booking(booking)
    for _, line in lines:
        line.booking = booking
    BookingLine.objects.bulk_create([line for _, line in lines])
    Delegate.objects.bulk_create(
        [
            Delegate(
                line=line,
                name=spec.delegate.name,
                email=spec.delegate.email,
                role=spec.delegate.role,
                access_needs=spec.delegate.access_needs,
                dietary_needs=spec.delegate.dietary_needs,
            )
            for spec, line in lines
            if spec.kind == ItemKind.COURSE_PLACE
        ]
    )
    StatusChange.objects.create(
        booking=booking,
        from_status="",
        to_status=BookingStatus.DRAFT,
        by=by or booked_by,
        reason=reason or f"Checkout started; places held until {timezone.localtime(hold_until):%H:%M}.",
    )

    # Lock late: the course-date rows are locked from here to commit, so this comes last.
    wanted = Counter(spec.course_date.pk for spec in specs if spec.kind == ItemKind.COURSE_PLACE)
    for course_date_id in sorted(wanted):
        if not holds.take_places(course_date_id=course_date_id, count=wanted[course_date_id]):
            problems.extend(
                Problem(spec, f"{spec.label}: there are not enough places left on this date.", full=True)
                for spec in specs
                if spec.kind == ItemKind.COURSE_PLACE and spec.course_date.pk == course_date_id
            )
    if problems:
        raise CheckoutUnavailable(problems)
    return booking


def start_checkout(*, basket: Basket, user) -> Booking:
    """Hold the basket's places and price it again: a draft booking to review (see the module docstring).

    Coming back to checkout while the hold lasts and the basket is unchanged returns the same booking;
    otherwise an earlier draft of this basket is cancelled (its places freed) first.
    """
    from portal.access import require_school_member

    if basket.owner_id != user.pk:
        raise ValidationError("This is not your basket.")
    require_school_member(user, basket.school)
    now = timezone.now()
    with transaction.atomic():
        # The basket row is locked first, so a double-clicked "Continue to checkout" waits here and then finds
        # the draft the first click made, instead of holding the places a second time.
        Basket.objects.select_for_update().filter(pk=basket.pk).values_list("pk", flat=True).first()
        items = list(
            # Course places carry their specific page through the date; other kinds load theirs (from_item).
            basket.items.select_related("course_date__venue", "course_date__service__council").order_by("id")
        )
        if not items:
            raise ValidationError("Your basket is empty.")
        # Only drafts made from this basket: a waiting-list offer is a draft too, and must survive.
        drafts = list(
            Booking.objects.filter(
                school=basket.school, booked_by=user, status=BookingStatus.DRAFT, lines__source_item__basket=basket
            )
            .filter(waiting_list_entries__isnull=True)
            .distinct()
            .order_by()
            .prefetch_related("lines")
        )
        item_ids = sorted(item.pk for item in items)
        for draft in drafts:
            still_held = draft.hold_expires_at and draft.hold_expires_at > now
            if still_held and sorted(line.source_item_id for line in draft.lines.all()) == item_ids:
                return draft
        for draft in drafts:
            holds.cancel_open_booking(booking=draft, by=user, reason="Checkout started again.")
        return _create_booking(
            school=basket.school,
            booked_by=user,
            specs=[LineSpec.from_item(item) for item in items],
            hold_until=holds.checkout_hold_until(now),
        )


# --- Submitting ---------------------------------------------------------------------------------------


def needs_approval(*, booking: Booking, user, lines: list[BookingLine]) -> bool:
    """A booker's booking waits for the approver when the school's policy or any service asks for it."""
    from portal.access import school_role

    if school_role(user, booking.school) != SchoolRole.BOOKER:
        return False
    if any(line.service.requires_school_approval for line in lines):
        return True
    settings_row = SchoolBookingSettings.objects.filter(school=booking.school).first()
    net = sum((line.net for line in lines), Decimal("0.00"))
    return bool(settings_row and settings_row.needs_approval(net=net))


def clean_po_number(*, school: School, po_number: str) -> str:
    po_number = " ".join((po_number or "").split())
    if school.requires_purchase_order and not po_number:
        raise ValidationError({"po_number": "Enter your school's purchase order number."})
    if len(po_number) > PO_NUMBER_MAX:
        raise ValidationError({"po_number": f"The purchase order number must be {PO_NUMBER_MAX} characters or fewer."})
    return po_number


def _lock_booking(booking: Booking) -> Booking:
    return Booking.objects.select_for_update().select_related("school").get(pk=booking.pk)


@transaction.atomic
def submit_checkout(*, booking: Booking, user, po_number: str, routes: dict[int, str]) -> Booking:
    """Record the PO number and the payment route of each council group, then approval, payment or confirmation.

    ``routes`` maps council id to a ``PaymentRoute`` value. Raises ``ValidationError`` keyed by field
    (``po_number``, ``route_<council id>``) and changes nothing when anything is wrong.
    """
    from portal.access import is_school_member

    booking = _lock_booking(booking)
    if booking.booked_by_id != user.pk:
        raise ValidationError("Only the person who started this checkout can complete it.")
    if not is_school_member(user, booking.school):
        raise ValidationError(f"You no longer belong to {booking.school.name}, so you cannot complete this booking.")
    if booking.status != BookingStatus.DRAFT:
        raise ValidationError("This booking has already been submitted.")
    now = timezone.now()
    if booking.hold_expires_at and booking.hold_expires_at <= now:
        raise ValidationError("The time to complete this booking ran out and its places were released. Start again.")
    lines = list(booking.lines.select_related("council", "service").filter(status=LineStatus.HELD))
    errors: dict[str, str] = {}
    try:
        po_number = clean_po_number(school=booking.school, po_number=po_number)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    chosen: dict[int, str] = {}
    for council in {line.council_id: line.council for line in lines}.values():
        allowed = dict(payment_routes_for(school=booking.school, council=council))
        route = (routes or {}).get(council.pk, "")
        if route not in allowed:
            errors[f"route_{council.pk}"] = f"Choose how to pay {council.short_name}."
        chosen[council.pk] = route
    if errors:
        raise ValidationError(errors)

    set_payment_routes(lines=lines, routes=chosen)
    item_ids = [line.source_item_id for line in lines if line.source_item_id]

    if needs_approval(booking=booking, user=user, lines=lines):
        until = holds.approval_hold_until(now)
        transition(
            booking,
            BookingStatus.AWAITING_APPROVAL,
            by=user,
            reason="Sent to the school's approver.",
            fields={"po_number": po_number, "submitted_at": now, "hold_expires_at": until},
        )
        booking.lines.filter(status=LineStatus.HELD).update(hold_expires_at=until)
        from .. import tasks

        transaction.on_commit(lambda: tasks.send_approval_request.delay(booking.pk))
    else:
        Booking.objects.filter(pk=booking.pk).update(po_number=po_number, submitted_at=now)
        booking.po_number, booking.submitted_at = po_number, now
        finish_booking(booking=booking, by=user, lines=lines)
    BasketItem.objects.filter(pk__in=item_ids).delete()
    return booking


def set_payment_routes(*, lines: list[BookingLine], routes: dict[int, str]) -> None:
    """Give each line the route chosen for its council (``routes``: council id → route) and the VAT that goes
    with it (an internal recharge carries none: see ``quotes.vat_for_route``). Held lines only: a booked line's
    price is settled."""
    now = timezone.now()
    for line in lines:
        if line.status != LineStatus.HELD:
            raise ValueError(f"Line {line.pk} is {line.status}: its payment route is settled.")
        line.payment_route = routes[line.council_id]
        line.vat_treatment, line.vat_rate, line.vat = vat_for_route(
            route=line.payment_route, vat_treatment=line.vat_treatment, vat_rate=line.vat_rate, vat=line.vat
        )
        line.gross = line.net + line.vat
        line.updated_at = now
    BookingLine.objects.bulk_update(lines, ["payment_route", "vat_treatment", "vat_rate", "vat", "gross", "updated_at"])


def finish_booking(
    *,
    booking: Booking,
    by,
    lines: list[BookingLine] | None = None,
    reason: str = "",
    after_approval: bool = False,
) -> Booking:
    """After submission (and approval, if needed): wait for the card payment, or confirm (invoice / recharge).

    A booking approved later waits longer for its card payment than one paid at checkout: the booker hears of
    the approval by email and must come back to pay.
    """
    lines = lines if lines is not None else list(booking.lines.filter(status=LineStatus.HELD))
    if any(line.payment_route == PaymentRoute.CARD for line in lines):
        until = holds.payment_after_approval_hold_until() if after_approval else holds.payment_hold_until()
        transition(
            booking,
            BookingStatus.AWAITING_PAYMENT,
            by=by,
            reason=reason or "Waiting for the card payment.",
            fields={"hold_expires_at": until},
        )
        booking.lines.filter(status=LineStatus.HELD).update(hold_expires_at=until)
        return booking
    return confirm_booking(booking=booking, by=by, reason=reason or "Confirmed: to be invoiced or recharged.")


@transaction.atomic
def confirm_booking(*, booking: Booking, by=None, reason: str = "") -> Booking:
    """Book every held line, confirm the booking, start its subscriptions and send the confirmations."""
    now = timezone.now()
    for line in booking.lines.filter(status=LineStatus.HELD).select_related("booking").order_by("id"):
        transition(line, LineStatus.BOOKED, by=by, reason=reason, fields={"booked_at": now, "hold_expires_at": None})
    transition(
        booking, BookingStatus.CONFIRMED, by=by, reason=reason, fields={"confirmed_at": now, "hold_expires_at": None}
    )
    _after_confirmation(booking)
    from .. import events, tasks

    transaction.on_commit(lambda: tasks.send_booking_confirmation.delay(booking.pk))
    # Billing issues the invoices, recharges or receipts (bookings never imports billing).
    events.send_on_commit(events.booking_confirmed, booking_id=booking.pk)
    return booking


def _after_confirmation(booking: Booking) -> None:
    # bookings-flows' modules (imported late: they import this one). Both are idempotent and run in the
    # confirming transaction: subscriptions start, and a waiting-list booking marks its entry accepted and
    # drops the charge of a cancellation it refilled.
    from .subscriptions import create_subscriptions_for
    from .waiting_list import booking_confirmed

    create_subscriptions_for(booking=booking)
    booking_confirmed(booking=booking)


# --- Card payments (called by billing) ---------------------------------------------------------------


@transaction.atomic
def confirm_card_payment(*, booking_id: int, payment_reference: str) -> Booking:
    """The card payment for the booking succeeded: confirm it. Safe to call twice with the same reference.

    Raises ``BookingNotPayable`` when the booking cannot be confirmed any more (for example its hold ran out
    and it was cancelled before the payment arrived): billing must then refund the payment.
    """
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status == BookingStatus.CONFIRMED and booking.payment_reference == payment_reference:
        return booking
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        raise BookingNotPayable(
            f"Booking {booking.reference} is {booking.get_status_display().lower()}, so payment "
            f"{payment_reference} cannot confirm it."
        )
    Booking.objects.filter(pk=booking.pk).update(payment_reference=payment_reference)
    booking.payment_reference = payment_reference
    return confirm_booking(booking=booking, reason=f"Card payment {payment_reference} received.")


@transaction.atomic
def record_card_payment_failed(*, booking_id: int, reason: str = "") -> Booking:
    """A card payment for the booking failed: note it; the places stay held until the hold runs out."""
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status != BookingStatus.AWAITING_PAYMENT:
        return booking
    now = timezone.now()
    Booking.objects.filter(pk=booking.pk).update(payment_failed_at=now)
    booking.payment_failed_at = now
    record_event(
        booking, reason=reason or "The card payment failed. The school can try again while the places are held."
    )
    return booking
