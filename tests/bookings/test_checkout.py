"""Checkout: holding places, re-quoting, grouping by council, PO numbers, payment routes and card payments."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import Basket, BasketItem, Booking, BookingLine, BookingStatus, Delegate, LineStatus, StatusChange
from bookings.services import basket as basket_service
from bookings.services import checkout
from bookings.services.holds import release_expired_holds
from catalogue.models import CourseDate, PriceRule
from portal.models import School
from tests.bookings.factories import World, add_course_date, school_user
from tests.factories import CouncilMembershipFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils)


def _two_council_basket(world, user=None):
    world.add_place(user=user, name="Ann Lee", email="ann@oakfield.example", dietary_needs="Vegetarian")
    world.add_place(user=user, course_date=world.shrops_date, name="Bob Ray", email="bob@oakfield.example")
    return world.basket(user)


def _places(course_date) -> int:
    return CourseDate.objects.get(pk=course_date.pk).places_taken


def test_start_checkout_holds_places_and_snapshots_each_line(world):
    """A draft booking with held lines; places taken; price, VAT, council and ledger codes copied on the line."""
    booking = checkout.start_checkout(basket=_two_council_basket(world), user=world.booker)
    assert booking.status == BookingStatus.DRAFT and booking.reference.startswith("TCB-")
    assert timedelta(minutes=14) < booking.hold_expires_at - timezone.now() <= timedelta(minutes=15)
    assert (_places(world.staffs_date), _places(world.shrops_date)) == (1, 1)
    staffs, shrops = booking.lines.order_by("id")
    assert staffs.status == LineStatus.HELD and staffs.council == world.staffs
    assert (staffs.net, staffs.vat, staffs.gross, staffs.vat_treatment) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("100.00"),
        "exempt",
    )
    assert (staffs.cost_centre, staffs.income_code) == (
        world.staffs.default_cost_centre,
        world.staffs.default_income_code,
    )
    assert shrops.council == world.shrops and shrops.gross == Decimal("150.00")
    assert staffs.delegate.name == "Ann Lee" and staffs.delegate.dietary_needs == "Vegetarian"
    assert StatusChange.objects.get(booking=booking).to_status == "draft"


def test_checkout_requotes_and_shows_a_changed_price(world, client):
    """A price changed since the item was added is charged at the new price and flagged on the checkout page."""
    basket = _two_council_basket(world)
    PriceRule.objects.filter(service=world.staffs_course).update(amount=Decimal("120.00"))
    booking = checkout.start_checkout(basket=basket, user=world.booker)
    line = booking.lines.get(council=world.staffs)
    assert (line.basket_net, line.net) == (Decimal("100.00"), Decimal("120.00"))
    client.force_login(world.booker)
    page = client.get(reverse("bookings:checkout", args=[booking.reference])).content.decode()
    assert 'data-testid="price-changes"' in page
    assert "The price has changed from £100.00 to £120.00 since you added this." in page
    assert 'data-testid="checkout-group-staffordshire"' in page and 'data-testid="checkout-group-shropshire"' in page


def test_full_date_rolls_back_everything_and_offers_the_waiting_list(world):
    """If one date is full nothing is written or held, and the problem says which item and that it is full."""
    basket = _two_council_basket(world)
    CourseDate.objects.filter(pk=world.shrops_date.pk).update(places_taken=world.shrops_date.capacity)
    with pytest.raises(checkout.CheckoutUnavailable) as caught:
        checkout.start_checkout(basket=basket, user=world.booker)
    (problem,) = caught.value.problems
    assert problem.full and "Phonics in Practice" in problem.message
    assert not Booking.objects.exists() and not BookingLine.objects.exists() and not StatusChange.objects.exists()
    assert _places(world.staffs_date) == 0


def test_returning_to_checkout_keeps_the_same_hold_until_the_basket_changes(world):
    """Reloading checkout reuses the draft; a changed basket cancels it (places freed) and holds afresh."""
    basket = _two_council_basket(world)
    first = checkout.start_checkout(basket=basket, user=world.booker)
    assert checkout.start_checkout(basket=basket, user=world.booker) == first
    world.add_place(name="Cat Poe", email="cat@oakfield.example")
    second = checkout.start_checkout(basket=basket, user=world.booker)
    first.refresh_from_db()
    assert second != first and first.status == BookingStatus.CANCELLED
    assert set(first.lines.values_list("status", flat=True)) == {"cancelled"}
    assert _places(world.staffs_date) == 2 and _places(world.shrops_date) == 1


def test_empty_basket_and_someone_elses_basket_are_refused(world):
    """Checkout needs items, and only the basket's owner can check it out."""
    with pytest.raises(ValidationError, match="empty"):
        checkout.start_checkout(basket=world.basket(), user=world.booker)
    basket = _two_council_basket(world)
    with pytest.raises(ValidationError, match="not your basket"):
        checkout.start_checkout(basket=basket, user=world.approver)


def test_invoice_route_confirms_books_lines_empties_basket_and_emails(world, django_capture_on_commit_callbacks):
    """Invoice for every council: confirmed, lines booked, basket emptied, booker and delegates emailed with .ics."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    with django_capture_on_commit_callbacks(execute=True):
        checkout.submit_checkout(
            booking=booking,
            user=world.approver,
            po_number="PO 1234",
            routes={world.staffs.pk: "invoice", world.shrops.pk: "invoice"},
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.po_number == "PO 1234"
    assert set(booking.lines.values_list("status", "payment_route")) == {("booked", "invoice")}
    assert not BasketItem.objects.exists()
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["ann@oakfield.example", "bob@oakfield.example", "sbm@oakfield.example"]
    booker_mail = next(m for m in mail.outbox if m.to == ["sbm@oakfield.example"])
    assert len(booker_mail.attachments) == 2 and booker_mail.attachments[0][2] == "text/calendar"
    ics = booker_mail.attachments[0][1]
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "BEGIN:VEVENT" in ics and "SUMMARY:Safeguarding Update" in ics


def test_confirmation_email_is_sent_once_even_if_the_task_runs_twice(world, django_capture_on_commit_callbacks):
    """A retried confirmation task finds the sent-email keys and sends nothing more."""
    from bookings import tasks

    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    with django_capture_on_commit_callbacks(execute=True):
        checkout.submit_checkout(
            booking=booking,
            user=world.approver,
            po_number="",
            routes={world.staffs.pk: "invoice", world.shrops.pk: "invoice"},
        )
    sent = len(mail.outbox)
    assert tasks.send_booking_confirmation(booking.pk) == 0
    assert len(mail.outbox) == sent == 3


def test_card_route_waits_for_payment_with_places_still_held(world):
    """Any council group paid by card: awaiting payment, lines still held (for billing to confirm)."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    checkout.submit_checkout(
        booking=booking, user=world.approver, po_number="", routes={world.staffs.pk: "card", world.shrops.pk: "invoice"}
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    assert set(booking.lines.values_list("status", flat=True)) == {"held"}
    from bookings.selectors import card_amount_due

    assert card_amount_due(booking_id=booking.pk) == Decimal("100.00")


def test_purchase_order_number_required_where_the_school_says_so(world):
    """A school that requires PO numbers gets a field error and nothing changes."""
    School.objects.filter(pk=world.school.pk).update(requires_purchase_order=True)
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    with pytest.raises(ValidationError) as caught:
        checkout.submit_checkout(
            booking=booking,
            user=world.approver,
            po_number="  ",
            routes={world.staffs.pk: "invoice", world.shrops.pk: "invoice"},
        )
    assert caught.value.message_dict == {"po_number": ["Enter your school's purchase order number."]}
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DRAFT and set(booking.lines.values_list("payment_route", flat=True)) == {""}


def test_recharge_only_for_a_maintained_school_of_the_providing_council(world):
    """Oakfield (maintained, Staffordshire) may be recharged by Staffordshire, not by Shropshire."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    with pytest.raises(ValidationError) as caught:
        checkout.submit_checkout(
            booking=booking,
            user=world.approver,
            po_number="",
            routes={world.staffs.pk: "recharge", world.shrops.pk: "recharge"},
        )
    assert set(caught.value.message_dict) == {f"route_{world.shrops.pk}"}
    checkout.submit_checkout(
        booking=booking,
        user=world.approver,
        po_number="",
        routes={world.staffs.pk: "recharge", world.shrops.pk: "invoice"},
    )
    assert dict(booking.lines.values_list("council_id", "payment_route")) == {
        world.staffs.pk: "recharge",
        world.shrops.pk: "invoice",
    }


def test_academy_is_never_offered_recharge(world):
    """An academy in Staffordshire gets invoice or card from Staffordshire, never recharge."""
    from bookings.selectors import payment_routes_for

    academy = SchoolFactory(la_code="860", funding_route="academy")
    assert [code for code, _ in payment_routes_for(school=academy, council=world.staffs)] == ["invoice", "card"]
    assert "recharge" in [code for code, _ in payment_routes_for(school=world.school, council=world.staffs)]


def test_expired_hold_cannot_be_submitted_and_is_released(world):
    """After the hold runs out, submitting is refused; the periodic release cancels it and frees the places."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="ran out"):
        checkout.submit_checkout(
            booking=booking,
            user=world.approver,
            po_number="",
            routes={world.staffs.pk: "invoice", world.shrops.pk: "invoice"},
        )
    assert release_expired_holds() == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert (_places(world.staffs_date), _places(world.shrops_date)) == (0, 0)
    assert release_expired_holds() == 0  # nothing left to do: safe to run again


def test_confirm_card_payment_is_idempotent(world, django_capture_on_commit_callbacks):
    """Billing's confirmation books the lines once; the same reference again is a no-op."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    checkout.submit_checkout(
        booking=booking, user=world.approver, po_number="", routes={world.staffs.pk: "card", world.shrops.pk: "card"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        checkout.confirm_card_payment(booking_id=booking.pk, payment_reference="pi_123")
    checkout.confirm_card_payment(booking_id=booking.pk, payment_reference="pi_123")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED and booking.payment_reference == "pi_123"
    assert set(booking.lines.values_list("status", flat=True)) == {"booked"}
    assert StatusChange.objects.filter(booking=booking, line=None, to_status="confirmed").count() == 1


def test_card_payment_for_a_cancelled_booking_is_refused_for_refund(world):
    """A payment arriving after the hold expired raises BookingNotPayable (billing refunds it)."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    checkout.submit_checkout(
        booking=booking, user=world.approver, po_number="", routes={world.staffs.pk: "card", world.shrops.pk: "card"}
    )
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    release_expired_holds()
    with pytest.raises(checkout.BookingNotPayable, match="cancelled"):
        checkout.confirm_card_payment(booking_id=booking.pk, payment_reference="pi_late")


def test_failed_card_payment_is_recorded_and_keeps_the_hold(world):
    """A failed payment goes on the audit trail; the booking still awaits payment with its places held."""
    booking = checkout.start_checkout(basket=_two_council_basket(world, world.approver), user=world.approver)
    checkout.submit_checkout(
        booking=booking, user=world.approver, po_number="", routes={world.staffs.pk: "card", world.shrops.pk: "card"}
    )
    checkout.record_card_payment_failed(booking_id=booking.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT and booking.payment_failed_at is not None
    assert StatusChange.objects.filter(booking=booking, reason__contains="payment failed").count() == 1
    assert _places(world.staffs_date) == 1


def test_checkout_pages_submit_by_invoice(world, client):
    """Through the pages: basket → checkout → confirm by invoice → confirmation page with the reference."""
    _two_council_basket(world)
    client.force_login(world.booker)
    response = client.post(reverse("bookings:checkout_start"), {"school": world.school.urn})
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "bookings:checkout", args=[booking.reference]
    )
    response = client.post(
        response["Location"],
        {"po_number": "PO-9", f"route_{world.staffs.pk}": "invoice", f"route_{world.shrops.pk}": "invoice"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Booking confirmed" in page and booking.reference in page


def test_checkout_page_shows_route_errors(world, client):
    """Submitting without routes shows one error per council group in the summary."""
    _two_council_basket(world)
    client.force_login(world.booker)
    location = client.post(reverse("bookings:checkout_start"), {"school": world.school.urn})["Location"]
    page = client.post(location, {"po_number": ""}).content.decode()
    assert "There is a problem" in page
    assert f'href="#id_route_{world.staffs.pk}"' in page and f'href="#id_route_{world.shrops.pk}"' in page


def test_full_date_page_offers_the_waiting_list(world, client):
    """Starting checkout when a date is full answers 409 with the item and a waiting-list link."""
    _two_council_basket(world)
    CourseDate.objects.filter(pk=world.shrops_date.pk).update(places_taken=world.shrops_date.capacity)
    client.force_login(world.booker)
    response = client.post(reverse("bookings:checkout_start"), {"school": world.school.urn})
    assert response.status_code == 409
    page = response.content.decode()
    join = reverse("bookings:waiting_list_join", kwargs={"course_date_id": world.shrops_date.pk})
    assert "Phonics in Practice" in page and f'href="{join}?school={world.school.urn}">Join the waiting list' in page


@pytest.mark.parametrize("who", ["anonymous", "colleague", "approver", "other_school", "council_staff"])
def test_only_the_booker_sees_their_checkout(world, client, who):
    """A checkout page belongs to the person who started it: everyone else gets 404 (anonymous: sign in)."""
    booking = checkout.start_checkout(basket=_two_council_basket(world), user=world.booker)
    users = {
        "colleague": lambda: school_user(world.school, "booker"),
        "approver": lambda: world.approver,
        "other_school": lambda: school_user(None, "approver"),
        "council_staff": lambda: CouncilMembershipFactory(council=world.staffs, role="course_admin").user,
    }
    if who != "anonymous":
        client.force_login(users[who]())
    for name in ("bookings:checkout", "bookings:confirmation"):
        response = client.get(reverse(name, args=[booking.reference]))
        assert response.status_code == (302 if who == "anonymous" else 404)
    response = client.post(reverse("bookings:checkout_abandon", args=[booking.reference]))
    assert response.status_code == (302 if who == "anonymous" else 404)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DRAFT


def test_abandon_releases_places_and_keeps_the_basket(world, client):
    """Going back from checkout frees the held places; the items stay in the basket."""
    booking = checkout.start_checkout(basket=_two_council_basket(world), user=world.booker)
    client.force_login(world.booker)
    client.post(reverse("bookings:checkout_abandon", args=[booking.reference]))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and _places(world.staffs_date) == 0
    assert Basket.objects.get(owner=world.booker).items.count() == 2


def test_delegates_are_copied_not_shared(world):
    """Each course line has its own Delegate row, so later erasure or substitution touches only that line."""
    booking = checkout.start_checkout(basket=_two_council_basket(world), user=world.booker)
    assert Delegate.objects.filter(line__booking=booking).count() == 2


def test_one_off_and_subscription_lines_take_no_place(world):
    """Only course places count against capacity; subscription lines carry their term."""
    basket = world.basket()
    (term,) = basket_service.terms_on_sale(service=world.sla)
    basket_service.add_subscription(basket=basket, service=world.sla, term_start=term)
    basket_service.add_one_off(basket=basket, service=world.one_off, quantity="2")
    booking = checkout.start_checkout(basket=basket, user=world.booker)
    sla_line = booking.lines.get(kind="subscription")
    assert (sla_line.term_start, sla_line.term_end) == (term, world.sla.term_end(term))
    assert sla_line.vat == Decimal("240.00") and sla_line.gross == Decimal("1440.00")
    assert booking.lines.get(kind="one_off").net == Decimal("800.00")
    assert _places(world.staffs_date) == 0


def test_unused_user_factory_is_not_a_member():
    """Sanity: a bare user belongs to no school (the access tests rely on it)."""
    assert not UserFactory().school_memberships.exists()


def test_course_date_added_for_another_course_is_independent(world):
    """Holding places on one date leaves another date of the same course untouched."""
    other = add_course_date(world.staffs_course, capacity=5, days_ahead=60)
    checkout.start_checkout(basket=_two_council_basket(world), user=world.booker)
    assert _places(other) == 0


# --- Review fixes: VAT by route, SLA terms bought once, membership, price changes with VAT --------------------


def _sla_basket(world, user):
    (term,) = basket_service.terms_on_sale(service=world.sla)
    basket_service.add_subscription(basket=world.basket(user), service=world.sla, term_start=term)
    return world.basket(user), term


def test_recharge_lines_carry_no_vat_and_invoice_lines_keep_it(world):
    """A standard-rated SLA recharged to Staffordshire's own school is outside the scope of VAT (gross = net)."""
    basket, _ = _sla_basket(world, world.approver)
    booking = checkout.start_checkout(basket=basket, user=world.approver)
    assert booking.lines.get().vat == Decimal("240.00")
    checkout.submit_checkout(booking=booking, user=world.approver, po_number="", routes={world.staffs.pk: "recharge"})
    line = booking.lines.get()
    assert (line.payment_route, line.vat_treatment, line.vat_rate, line.vat, line.gross) == (
        "recharge",
        "outside_scope",
        Decimal("0"),
        Decimal("0.00"),
        Decimal("1200.00"),
    )


def test_invoice_route_keeps_the_quoted_vat(world):
    """The same SLA by invoice keeps its 20% VAT."""
    basket, _ = _sla_basket(world, world.approver)
    booking = checkout.start_checkout(basket=basket, user=world.approver)
    checkout.submit_checkout(booking=booking, user=world.approver, po_number="", routes={world.staffs.pk: "invoice"})
    line = booking.lines.get()
    assert (line.vat_treatment, line.vat, line.gross) == ("standard", Decimal("240.00"), Decimal("1440.00"))


def test_same_sla_term_cannot_be_bought_twice(world):
    """A second checkout of the term is refused while the first holds it, and after it is confirmed."""
    basket, _ = _sla_basket(world, world.approver)
    first = checkout.start_checkout(basket=basket, user=world.approver)
    colleague = school_user(world.school, "approver")
    other_basket, _ = _sla_basket(world, colleague)
    with pytest.raises(
        checkout.CheckoutUnavailable, match=f"already being booked for your school \\(booking {first.reference}\\)"
    ):
        checkout.start_checkout(basket=other_basket, user=colleague)
    checkout.submit_checkout(booking=first, user=world.approver, po_number="", routes={world.staffs.pk: "invoice"})
    with pytest.raises(checkout.CheckoutUnavailable, match="already has this subscription|already being booked"):
        checkout.start_checkout(basket=other_basket, user=colleague)
    assert Booking.objects.filter(lines__kind="subscription").count() == 1


def test_sla_term_no_longer_on_sale_is_refused_at_checkout(world):
    """If the buy-back window closed after the item was added, checkout refuses the term."""
    from catalogue.models import SubscriptionServicePage

    basket, _ = _sla_basket(world, world.approver)
    SubscriptionServicePage.objects.filter(pk=world.sla.pk).update(
        buyback_opens_days_before=2, buyback_closes_days_before=1
    )
    with pytest.raises(checkout.CheckoutUnavailable, match="no longer on sale"):
        checkout.start_checkout(basket=basket, user=world.approver)


def test_someone_removed_from_the_school_cannot_complete_their_checkout(world):
    """A booker whose membership ended meanwhile is refused at submit, and nothing changes."""
    from portal.models import SchoolMembership

    booking = checkout.start_checkout(basket=_two_council_basket(world), user=world.booker)
    SchoolMembership.objects.filter(user=world.booker).delete()
    with pytest.raises(ValidationError, match="no longer belong"):
        checkout.submit_checkout(
            booking=booking,
            user=world.booker,
            po_number="",
            routes={world.staffs.pk: "invoice", world.shrops.pk: "invoice"},
        )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.DRAFT


def test_vat_change_alone_is_shown_as_a_price_change(world, client):
    """Same net price, but the service became standard rated: checkout shows the new total with VAT."""
    from catalogue.models import ServicePage

    basket = _two_council_basket(world)
    ServicePage.objects.filter(pk=world.staffs_course.pk).update(vat_treatment="standard")
    booking = checkout.start_checkout(basket=basket, user=world.booker)
    client.force_login(world.booker)
    page = client.get(reverse("bookings:checkout", args=[booking.reference])).content.decode()
    assert "The price with VAT has changed from £100.00 to £120.00 since you added this." in page


def test_checkout_start_reports_a_lock_timeout_as_busy(world, client, monkeypatch):
    """A lock timeout while holding places is a 'try again' message on the basket, not a server error."""
    from django.db import OperationalError

    _two_council_basket(world)

    def timed_out(**kwargs):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr("bookings.views.checkout.checkout.start_checkout", timed_out)
    client.force_login(world.booker)
    response = client.post(reverse("bookings:checkout_start"), {"school": world.school.urn}, follow=True)
    assert response.status_code == 200
    assert "Booking is very busy at the moment, so nothing was saved." in response.content.decode()


def test_basket_page_queries_do_not_grow_with_items(world, client):
    """The basket page loads each kind of service page once, not once per item."""
    client.force_login(world.booker)
    basket = world.basket()
    (term,) = basket_service.terms_on_sale(service=world.sla)
    basket_service.add_subscription(basket=basket, service=world.sla, term_start=term)
    basket_service.add_one_off(basket=basket, service=world.one_off, quantity="1")
    world.add_place()
    client.get(reverse("bookings:basket"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("bookings:basket"))
    for _ in range(4):
        world.add_place(course_date=world.shrops_date)
        basket_service.add_one_off(basket=basket, service=world.one_off, quantity="2")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("bookings:basket"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_checkout_page_asks_for_the_purchase_order_number_in_words(world, client):
    """A school that needs a PO number is told "Enter your school's purchase order number", not Django's default."""
    School.objects.filter(pk=world.school.pk).update(requires_purchase_order=True)
    _two_council_basket(world)
    client.force_login(world.booker)
    location = client.post(reverse("bookings:checkout_start"), {"school": world.school.urn})["Location"]
    page = client.post(location, {"po_number": ""}).content.decode()
    assert 'href="#id_po_number">Enter your school&#x27;s purchase order number</a>' in page
    assert "This field is required." not in page
