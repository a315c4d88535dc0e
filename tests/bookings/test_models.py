"""Bookings models: references, and the database constraints that hold even when code forgets."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bookings.models import BasketItem, SchoolBookingSettings, StatusChange, Subscription
from bookings.models.bookings import REFERENCE_ALPHABET, new_reference
from tests.bookings.factories import (
    BasketFactory,
    BookingFactory,
    BookingLineFactory,
    SchoolBookingSettingsFactory,
    SubscriptionFactory,
    World,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils)


def test_references_are_short_and_unambiguous():
    """TCB- plus six characters from an alphabet without 0/O, 1/I/L, 2/Z or 5/S."""
    references = {new_reference() for _ in range(2000)}
    assert len(references) > 1990
    for reference in references:
        assert reference.startswith("TCB-") and len(reference) == 10
        assert set(reference[4:]) <= set(REFERENCE_ALPHABET)
    assert not set("0O1IL2Z5S") & set(REFERENCE_ALPHABET)


def test_reference_is_unique(world):
    """Two bookings cannot share a reference."""
    first = BookingFactory(school=world.school, booked_by=world.booker)
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(school=world.school, booked_by=world.booker, reference=first.reference)


def test_line_gross_must_be_net_plus_vat(world):
    """A line whose gross is not net + VAT is refused by the database."""
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingLineFactory(course_date=world.staffs_date, gross=Decimal("100.01"))


def test_course_place_line_needs_a_date(world):
    """A course-place line without a course date is refused."""
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingLineFactory(course_date=None, service=world.staffs_course, council=world.staffs)


def test_subscription_line_needs_its_term(world):
    """A subscription line without term dates is refused."""
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingLineFactory(kind="subscription", course_date=None, service=world.sla, council=world.staffs)


def test_one_live_subscription_per_school_service_and_term(world):
    """A second live subscription for the same term is refused; a cancelled one does not block a new one."""
    first = SubscriptionFactory(school=world.school, service=world.sla)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(school=world.school, service=world.sla, term_start=first.term_start)
    Subscription.objects.filter(pk=first.pk).update(status="cancelled")
    SubscriptionFactory(school=world.school, service=world.sla, term_start=first.term_start)
    assert Subscription.objects.count() == 2


def test_above_amount_policy_needs_a_threshold(world):
    """The form-level clean and the database both insist on a threshold for 'above an amount'."""
    row = SchoolBookingSettings(school=world.school, approval_policy="above_amount")
    with pytest.raises(ValidationError):
        row.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save()


@pytest.mark.parametrize(
    ("policy", "threshold", "net", "expected"),
    [
        ("none", None, "9999.00", False),
        ("always", None, "0.00", True),
        ("above_amount", "100.00", "100.00", False),
        ("above_amount", "100.00", "100.01", True),
    ],
)
def test_needs_approval(world, policy, threshold, net, expected):
    """The policy decides by the booking's total before VAT; 'above' means strictly more than."""
    row = SchoolBookingSettingsFactory(
        school=world.school, approval_policy=policy, approval_threshold=Decimal(threshold) if threshold else None
    )
    assert row.needs_approval(net=Decimal(net)) is expected


def test_basket_item_course_place_needs_a_date(world):
    """A course-place basket item without a date is refused by the database."""
    basket = BasketFactory(school=world.school, owner=world.booker)
    with pytest.raises(IntegrityError), transaction.atomic():
        BasketItem.objects.create(
            basket=basket,
            kind="course_place",
            service=world.staffs_course,
            quoted_net=Decimal("1.00"),
            quoted_vat=Decimal("0.00"),
            quoted_gross=Decimal("1.00"),
        )


def test_one_basket_per_user_and_school(world):
    """A user has one basket per school."""
    BasketFactory(school=world.school, owner=world.booker)
    with pytest.raises(IntegrityError), transaction.atomic():
        BasketFactory(school=world.school, owner=world.booker)


def test_booked_course_date_and_service_cannot_be_deleted(world):
    """PROTECT: a course date or service with booking lines cannot be deleted from under them."""
    from django.db.models import ProtectedError

    BookingLineFactory(course_date=world.staffs_date)
    with pytest.raises(ProtectedError):
        world.staffs_date.delete()


def test_status_change_labels(world):
    """The audit trail reads in words: line statuses for lines, booking statuses for bookings."""
    line = BookingLineFactory(course_date=world.staffs_date)
    booking_change = StatusChange(booking=line.booking, from_status="awaiting_approval", to_status="confirmed")
    line_change = StatusChange(booking=line.booking, line=line, from_status="held", to_status="no_show")
    assert (booking_change.from_label, booking_change.to_label) == ("Awaiting approval", "Confirmed")
    assert line_change.to_label == "Did not attend"
