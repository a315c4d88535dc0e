"""SLA subscriptions: made when the purchase is confirmed, the subscriber price they give, the yearly buy-back
round (renewal offers, automatic renewal on the last day of the window, expiry), and the school's pages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking, BookingStatus, LineStatus, Subscription, SubscriptionStatus
from bookings.selectors import active_subscription_service_ids
from bookings.services import subscriptions
from bookings.services.basket import add_subscription, get_basket
from bookings.services.checkout import start_checkout, submit_checkout
from bookings.services.quotes import quote_for
from catalogue.models import PriceRule
from catalogue.prices import subscriptions_of
from tests.bookings.factories import SubscriptionFactory, World, add_service, school_user

pytestmark = pytest.mark.django_db

NEXT = date(2031, 4, 1)  # the start of the next financial year in these tests
OPENS, CLOSES = NEXT - timedelta(days=90), NEXT - timedelta(days=14)


@pytest.fixture
def world(councils):
    return World(councils)


@pytest.fixture
def sla(world):
    """An automatically renewing Staffordshire SLA (£1,200 + VAT) whose buy-back runs 90 to 14 days before April."""
    return add_service(
        world.staffs,
        "subscription",
        title="Payroll SLA",
        price=Decimal("1200.00"),
        vat_treatment="standard",
        buyback_opens_days_before=90,
        buyback_closes_days_before=14,
        auto_renew=True,
    )


def _current(world, sla, **fields):
    """Oakfield's subscription for the year before NEXT."""
    return SubscriptionFactory(
        school=world.school,
        service=sla,
        term_start=date(NEXT.year - 1, 4, 1),
        term_end=NEXT - timedelta(days=1),
        auto_renew=fields.pop("auto_renew", True),
        **fields,
    )


def _buy(world, service, term_start, *, user=None, route="invoice"):
    user = user or world.approver
    basket = get_basket(school=world.school, owner=user)
    add_subscription(basket=basket, service=service, term_start=term_start)
    return submit_checkout(
        booking=start_checkout(basket=basket, user=user), user=user, po_number="", routes={service.council_id: route}
    )


# --- Made on confirmation -----------------------------------------------------------------------------


def test_buying_an_sla_creates_an_active_subscription_for_the_term(world):
    """The confirmed SLA line becomes one active subscription for its term; calling the hook again adds none."""
    term = world.sla.term_on_sale(timezone.localdate())
    booking = _buy(world, world.sla, term)
    line = booking.lines.get()
    subscription = Subscription.objects.get()
    assert (subscription.school, subscription.service_id, subscription.booking_line) == (
        world.school,
        world.sla.pk,
        line,
    )
    assert (subscription.term_start, subscription.term_end) == (line.term_start, line.term_end)
    assert subscription.status == SubscriptionStatus.ACTIVE and subscription.auto_renew == world.sla.auto_renew
    assert subscriptions.create_subscriptions_for(booking=booking) == []
    assert Subscription.objects.count() == 1


def test_a_booking_waiting_for_approval_creates_no_subscription_yet(world):
    """A booker's SLA waiting for the approver holds nothing until it is confirmed."""
    from bookings.models import SchoolBookingSettings

    SchoolBookingSettings.objects.create(school=world.school, approval_policy="always")
    booking = _buy(world, world.sla, world.sla.term_on_sale(timezone.localdate()), user=world.booker)
    assert booking.status == BookingStatus.AWAITING_APPROVAL
    assert not Subscription.objects.exists()


def test_holding_the_sla_gives_the_subscriber_price_on_matching_courses(world):
    """With an active subscription the course costs £80 instead of £100, for the pricing Customer and the
    catalogue's "Your price" lookup alike; an expired or cancelled one gives nothing."""
    PriceRule.objects.create(
        service=world.staffs_course, kind="flat", amount=Decimal("80.00"), subscriber_service=world.sla
    )
    assert quote_for(school=world.school, service=world.staffs_course).net == Decimal("100.00")
    subscription = SubscriptionFactory(school=world.school, service=world.sla)
    assert active_subscription_service_ids(world.school.pk) == frozenset({world.sla.pk})
    assert subscriptions_of(world.school.pk) == frozenset({world.sla.pk})
    assert quote_for(school=world.school, service=world.staffs_course).net == Decimal("80.00")
    Subscription.objects.filter(pk=subscription.pk).update(status="cancelled")
    assert quote_for(school=world.school, service=world.staffs_course).net == Decimal("100.00")


# --- The yearly round ---------------------------------------------------------------------------------


def test_renewal_is_offered_once_when_the_buyback_window_opens(world, sla, django_capture_on_commit_callbacks):
    """The day before the window nothing happens; on its first day each approver is told the renewal date;
    the next day's run sends nothing more."""
    current = _current(world, sla)
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions.offer_renewals(today=OPENS - timedelta(days=1)) == 0
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions.offer_renewals(today=OPENS) == 1
        assert subscriptions.offer_renewals(today=OPENS + timedelta(days=1)) == 0
    current.refresh_from_db()
    assert current.renewal_offered_at is not None
    assert [m.to for m in mail.outbox] == [[world.approver.email]]
    assert f"will renew on {CLOSES:%-d %B %Y}" in mail.outbox[0].subject
    assert reverse("bookings:subscriptions", args=[world.school.urn]) in mail.outbox[0].body


def test_automatic_renewal_happens_on_the_last_day_of_buyback(world, sla, django_capture_on_commit_callbacks):
    """On the closing day the subscription renews: a confirmed invoice booking for next year at today's price,
    and a new active subscription that renews the old one; the approver is told; running again does nothing."""
    current = _current(world, sla)
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions.offer_renewals(today=OPENS)
        assert subscriptions.renew_due(today=CLOSES - timedelta(days=1)) == 0
        assert subscriptions.renew_due(today=CLOSES) == 1
        assert subscriptions.renew_due(today=CLOSES) == 0
    renewal = Subscription.objects.get(renewal_of=current)
    assert (renewal.term_start, renewal.term_end, renewal.status) == (NEXT, date(NEXT.year + 1, 3, 31), "active")
    line = renewal.booking_line
    assert (line.status, line.payment_route, line.net, line.vat) == (
        LineStatus.BOOKED,
        "invoice",
        Decimal("1200.00"),
        Decimal("240.00"),
    )
    assert line.booking.status == BookingStatus.CONFIRMED and line.booking.booked_by == world.approver
    assert any("Renewed: Payroll SLA" in m.subject for m in mail.outbox)


def test_a_school_that_requires_a_purchase_order_is_not_renewed_without_one(
    world, sla, django_capture_on_commit_callbacks
):
    """A school whose every booking needs a PO number is never renewed automatically (nobody gave a PO): the
    buy-back email says so up front; on the renewal day no booking is made, automatic renewal is turned off
    with the reason on the audit trail, and the approver is told to buy next year with a PO number."""
    from bookings.models import StatusChange
    from tests.bookings.factories import BookingFactory, BookingLineFactory

    type(world.school).objects.filter(pk=world.school.pk).update(requires_purchase_order=True)
    booking = BookingFactory(school=world.school, booked_by=world.approver, status="confirmed")
    line = BookingLineFactory(
        booking=booking,
        kind="subscription",
        service=sla.servicepage_ptr,
        council=world.staffs,
        course_date=None,
        term_start=date(NEXT.year - 1, 4, 1),
        term_end=NEXT - timedelta(days=1),
        status="booked",
        payment_route="invoice",
    )
    current = _current(world, sla, booking_line=line)
    with django_capture_on_commit_callbacks(execute=True):
        subscriptions.offer_renewals(today=OPENS)
    offer = mail.outbox[-1]
    assert "will renew on" not in offer.subject
    assert "purchase order" in offer.body and "not renew automatically" in offer.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions.renew_due(today=CLOSES) == 0
        assert subscriptions.renew_due(today=CLOSES + timedelta(days=1)) == 0
    assert not Subscription.objects.filter(renewal_of=current).exists()
    assert Booking.objects.count() == 1  # only last year's
    current.refresh_from_db()
    assert current.auto_renew is False
    assert StatusChange.objects.filter(line=line, reason__contains="purchase order").count() == 1
    assert [m.to for m in mail.outbox] == [[world.approver.email]]
    assert "purchase order" in mail.outbox[0].body
    assert reverse("bookings:subscriptions", args=[world.school.urn]) in mail.outbox[0].body
    with pytest.raises(ValidationError, match="purchase order"):
        subscriptions.set_auto_renew(subscription=current, by=world.approver, auto_renew=True)


def test_subscriptions_page_says_a_purchase_order_school_does_not_renew_automatically(client, world, sla):
    """The school's page shows no renewal date for a school that requires a PO, and says why."""
    today = timezone.localdate()
    SubscriptionFactory(
        school=world.school,
        service=sla,
        term_start=sla.term_start_for(today),
        term_end=sla.term_end(sla.term_start_for(today)),
        auto_renew=True,
    )
    type(world.school).objects.filter(pk=world.school.pk).update(requires_purchase_order=True)
    client.force_login(world.approver)
    html = client.get(reverse("bookings:subscriptions", args=[world.school.urn])).content.decode()
    assert "Renews automatically on" not in html
    assert "purchase order" in html


def test_a_school_that_opts_out_or_a_service_without_auto_renewal_is_not_renewed(world, sla):
    """Opting out (the approver) stops the renewal; a service that does not auto-renew only offers."""
    current = _current(world, sla)
    subscriptions.set_auto_renew(subscription=current, by=world.approver, auto_renew=False)
    subscriptions.offer_renewals(today=OPENS)
    assert subscriptions.renew_due(today=CLOSES) == 0
    manual = add_service(
        world.staffs, "subscription", title="Library SLA", auto_renew=False, buyback_opens_days_before=90
    )
    _current(world, manual, auto_renew=False)
    assert subscriptions.offer_renewals(today=NEXT - timedelta(days=60)) == 1
    assert subscriptions.renew_due(today=NEXT) == 0
    assert not Booking.objects.exists()


def test_only_the_approver_switches_renewal(world, sla):
    """A booker is refused; switching on a service that never auto-renews is refused with a reason."""
    current = _current(world, sla)
    with pytest.raises(PermissionDenied):
        subscriptions.set_auto_renew(subscription=current, by=world.booker, auto_renew=False)
    manual = add_service(world.staffs, "subscription", title="Library SLA", auto_renew=False)
    other = _current(world, manual, auto_renew=False)
    with pytest.raises(ValidationError, match="does not renew automatically"):
        subscriptions.set_auto_renew(subscription=other, by=world.approver, auto_renew=True)


def test_a_renewal_keeps_internal_recharge_but_never_charges_a_card(world, sla):
    """A maintained school of the council that paid by recharge renews by recharge; a card payer by invoice."""
    from tests.bookings.factories import BookingFactory, BookingLineFactory

    booking = BookingFactory(school=world.school, booked_by=world.approver, status="confirmed")
    line = BookingLineFactory(
        booking=booking,
        kind="subscription",
        service=sla.servicepage_ptr,
        council=world.staffs,
        course_date=None,
        term_start=date(NEXT.year - 1, 4, 1),
        term_end=NEXT - timedelta(days=1),
        status="booked",
        payment_route="recharge",
    )
    _current(world, sla, booking_line=line)
    subscriptions.offer_renewals(today=OPENS)
    subscriptions.renew_due(today=CLOSES)
    assert Subscription.objects.get(term_start=NEXT).booking_line.payment_route == "recharge"
    # Cancelled as cancel_line would: the subscription and the line that bought it (a booked line for the
    # term would otherwise refuse the next checkout of that term).
    first = Subscription.objects.get(term_start=NEXT)
    Subscription.objects.filter(pk=first.pk).update(status="cancelled")
    type(line).objects.filter(pk=first.booking_line_id).update(status="cancelled")
    type(line).objects.filter(pk=line.pk).update(payment_route="card")
    subscriptions.renew_due(today=CLOSES)
    renewed = Subscription.objects.exclude(status="cancelled").get(term_start=NEXT)
    assert renewed.booking_line.payment_route == "invoice"


def test_ended_terms_expire(world, sla):
    """The day after its last day an active subscription is marked expired."""
    current = _current(world, sla)
    assert subscriptions.expire_ended(today=NEXT - timedelta(days=1)) == 0
    assert subscriptions.expire_ended(today=NEXT) == 1
    current.refresh_from_db()
    assert current.status == SubscriptionStatus.EXPIRED


# --- Pages --------------------------------------------------------------------------------------------


def test_the_school_sees_its_subscriptions_and_the_approver_can_stop_renewal(client, world, sla):
    """The page lists the SLA with its renewal date; the approver's button turns renewal off; a booker
    sees no button and a post from them is refused."""
    today = timezone.localdate()
    current = SubscriptionFactory(
        school=world.school,
        service=sla,
        term_start=sla.term_start_for(today),
        term_end=sla.term_end(sla.term_start_for(today)),
        auto_renew=True,
    )
    url = reverse("bookings:subscriptions", args=[world.school.urn])
    client.force_login(world.booker)
    html = client.get(url).content.decode()
    assert "Payroll SLA" in html and "Renews automatically on" in html and "Stop automatic renewal" not in html
    toggle = reverse("bookings:subscription_renewal", args=[world.school.urn, current.pk])
    assert client.post(toggle).status_code == 403
    client.force_login(world.approver)
    assert "Stop automatic renewal" in client.get(url).content.decode()
    assert client.post(toggle).status_code == 302
    current.refresh_from_db()
    assert current.auto_renew is False
    client.force_login(school_user())  # a booker of another school
    assert client.get(url).status_code == 403
