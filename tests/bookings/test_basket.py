"""The basket: adding course places, SLA terms and one-off services, with clear refusals, prices and access."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import Basket, BasketItem, BookingLine
from bookings.services import basket as basket_service
from catalogue.models import CourseDate, PriceRule
from tests.bookings.factories import (
    BookingLineFactory,
    DelegateFactory,
    SubscriptionFactory,
    World,
    add_course_date,
    school_user,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils)


def _errors(caught) -> dict:
    return caught.value.message_dict


def test_course_place_is_added_with_its_quoted_price_and_delegate(world):
    """A place keeps the delegate's details and the price quoted for the school when it was added."""
    item = world.add_place(name="Ann Lee", email="Ann.Lee@Oakfield.example", access_needs="Step-free access")
    assert item.kind == "course_place"
    assert (item.quoted_net, item.quoted_vat, item.quoted_gross) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("100.00"),
    )
    assert item.delegate_name == "Ann Lee" and item.delegate_email == "ann.lee@oakfield.example"
    assert item.delegate_access_needs == "Step-free access"
    assert "£100.00" in item.quoted_explanation


def test_delegate_name_and_a_valid_email_are_required(world):
    """Named-delegate courses refuse a place without a name, and a malformed email, each against its field."""
    with pytest.raises(ValidationError) as caught:
        world.add_place(name=" ", email="")
    assert set(_errors(caught)) == {"delegate_name", "delegate_email"}
    with pytest.raises(ValidationError) as caught:
        world.add_place(name="Ann", email="not-an-email")
    assert _errors(caught)["delegate_email"] == ["Enter an email address in the correct format, like name@example.org."]
    assert not BasketItem.objects.exists()


def test_a_full_date_is_refused_with_the_waiting_list_code(world):
    """When no place is left the refusal carries the FULL code, so the page can offer the waiting list."""
    CourseDate.objects.filter(pk=world.staffs_date.pk).update(places_taken=world.staffs_date.capacity)
    world.staffs_date.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        world.add_place()
    error = caught.value.error_dict["course_date"][0]
    assert error.code == basket_service.FULL
    assert "waiting list" in error.message


def test_basket_cannot_hold_more_places_than_are_left(world):
    """With one place left, a second place on the same date in the same basket is refused."""
    CourseDate.objects.filter(pk=world.staffs_date.pk).update(places_taken=world.staffs_date.capacity - 1)
    world.staffs_date.refresh_from_db()
    world.add_place()
    with pytest.raises(ValidationError, match="Only 1 place"):
        world.add_place()


def test_same_delegate_twice_on_a_date_is_refused(world):
    """A person cannot be put on one date twice, neither in the basket nor when already booked."""
    world.add_place(email="ann@oakfield.example")
    with pytest.raises(ValidationError, match="already has a place on this date in your basket"):
        world.add_place(email="ANN@oakfield.example")
    line = BookingLineFactory(course_date=world.shrops_date, status="booked")
    DelegateFactory(line=line, email="bob@oakfield.example")
    with pytest.raises(ValidationError, match="already booked on this date"):
        world.add_place(course_date=world.shrops_date, email="bob@oakfield.example")


def test_cancelled_or_closed_dates_are_refused(world):
    """A cancelled date, or one whose booking has closed, cannot be added."""
    CourseDate.objects.filter(pk=world.staffs_date.pk).update(status="cancelled")
    world.staffs_date.refresh_from_db()
    with pytest.raises(ValidationError, match="cancelled"):
        world.add_place()
    started = add_course_date(world.shrops_course, starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ValidationError, match="closed"):
        world.add_place(course_date=started)


def test_subscription_for_the_term_on_sale(world):
    """An SLA is added for the term whose buy-back window is open, priced with its VAT."""
    (term,) = basket_service.terms_on_sale(service=world.sla)
    item = basket_service.add_subscription(basket=world.basket(), service=world.sla, term_start=term)
    assert (item.quoted_net, item.quoted_vat, item.quoted_gross) == (
        Decimal("1200.00"),
        Decimal("240.00"),
        Decimal("1440.00"),
    )
    with pytest.raises(ValidationError, match="already in your basket"):
        basket_service.add_subscription(basket=world.basket(), service=world.sla, term_start=term)


def test_subscription_refused_for_a_term_not_on_sale_or_already_held(world):
    """Terms outside the buy-back window and terms the school already holds are refused."""
    (term,) = basket_service.terms_on_sale(service=world.sla)
    with pytest.raises(ValidationError, match="not on sale"):
        basket_service.add_subscription(
            basket=world.basket(), service=world.sla, term_start=term.replace(year=term.year + 1)
        )
    SubscriptionFactory(school=world.school, service=world.sla, term_start=term, term_end=world.sla.term_end(term))
    with pytest.raises(ValidationError, match="already has this subscription"):
        basket_service.add_subscription(basket=world.basket(), service=world.sla, term_start=term)


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("0", "more than 0"),
        ("-2", "more than 0"),
        ("two", "as a number"),
        ("1.25", "whole or half days"),
        ("1.234", "two decimal places"),
        ("400", "365 or less"),
        ("NaN", "more than 0"),
    ],
)
def test_one_off_quantity_is_checked(world, quantity, message):
    """Quantities must be positive numbers of whole or half days, with a clear message otherwise."""
    with pytest.raises(ValidationError, match=message):
        basket_service.add_one_off(basket=world.basket(), service=world.one_off, quantity=quantity)


def test_one_off_days_are_priced_at_the_day_rate(world):
    """2.5 days at £400 a day, standard rated: £1,000 + £200 VAT."""
    item = basket_service.add_one_off(basket=world.basket(), service=world.one_off, quantity="2.5")
    assert (item.quantity, item.quoted_net, item.quoted_vat) == (Decimal("2.50"), Decimal("1000.00"), Decimal("200.00"))


def test_subscriber_price_applies_to_holders_of_the_sla(world):
    """A school holding the matching SLA gets the course's subscriber price; others pay the standard one."""
    PriceRule.objects.create(
        service=world.staffs_course, kind="flat", amount=Decimal("60.00"), subscriber_service=world.sla
    )
    assert world.add_place().quoted_net == Decimal("100.00")
    SubscriptionFactory(school=world.school, service=world.sla)
    assert world.add_place().quoted_net == Decimal("60.00")


def test_no_price_for_this_school_is_a_clear_refusal(world):
    """A service with no rule for this kind of school says so instead of pricing at zero."""
    PriceRule.objects.filter(service=world.shrops_course).update(customer_type="academy")
    with pytest.raises(ValidationError) as caught:
        world.add_place(course_date=world.shrops_date)
    assert caught.value.messages and not BasketItem.objects.exists()


def test_only_members_have_a_basket_for_a_school(world):
    """A user who does not belong to the school cannot get (or fill) its basket."""
    with pytest.raises(PermissionDenied):
        basket_service.get_basket(school=world.school, owner=UserFactory())


def test_removing_only_works_on_your_own_basket(world):
    """An item of another user's basket is 'not in your basket'."""
    item = world.add_place()
    colleague = school_user(world.school, "booker")
    with pytest.raises(ValidationError, match="not in your basket"):
        basket_service.remove_item(basket=world.basket(colleague), item_id=item.pk)
    basket_service.remove_item(basket=world.basket(), item_id=item.pk)
    assert not BasketItem.objects.exists()


# --- Pages ----------------------------------------------------------------------------------------------


def test_basket_survives_logout_and_is_grouped_by_council(world, client):
    """Items added in one session are there after signing out and in again, grouped by providing council."""
    client.force_login(world.booker)
    response = client.post(
        reverse("bookings:basket_add", args=[world.staffs_course.pk]),
        {"course_date": world.staffs_date.pk, "delegate_name": "Ann Lee", "delegate_email": "ann@oakfield.example"},
    )
    assert response.status_code == 302
    client.post(
        reverse("bookings:basket_add", args=[world.one_off.pk]),
        {"quantity": "1"},
    )
    client.logout()
    client.force_login(world.booker)
    page = client.get(reverse("bookings:basket")).content.decode()
    assert "From Staffordshire County Council" in page and "From Worcestershire County Council" in page
    assert "Ann Lee" in page and 'data-testid="basket-total">£580.00' in page
    assert Basket.objects.get(owner=world.booker).items.count() == 2


def test_add_page_shows_errors_against_fields(world, client):
    """A bad submission re-renders the form with an error summary linking to the field."""
    client.force_login(world.booker)
    response = client.post(
        reverse("bookings:basket_add", args=[world.staffs_course.pk]),
        {"course_date": world.staffs_date.pk, "delegate_name": "", "delegate_email": "nope"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page and 'href="#id_delegate_name"' in page
    assert "Enter the name of the person who will attend." in page
    assert not BasketItem.objects.exists()


def test_basket_pages_need_a_school(world, client):
    """Signed out: sent to sign in; a user without a school is sent to join one."""
    assert client.get(reverse("bookings:basket")).status_code == 302
    loner = UserFactory()
    client.force_login(loner)
    response = client.get(reverse("bookings:basket"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:school_search")


def test_basket_of_another_school_is_404(world, client):
    """Asking for the basket of a school you do not belong to is a 404, not an empty basket."""
    other = school_user(None, "booker")
    client.force_login(other)
    assert client.get(reverse("bookings:basket"), {"school": world.school.urn}).status_code == 404


def test_lines_are_not_created_by_the_basket(world):
    """Adding to the basket takes no place and writes no booking."""
    world.add_place()
    world.staffs_date.refresh_from_db()
    assert world.staffs_date.places_taken == 0 and not BookingLine.objects.exists()


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("", "Enter how many days"), ("123456789", "Enter a number of days from 0.5 to 365")],
)
def test_add_page_says_what_to_do_about_a_quantity(world, client, quantity, message):
    """An empty or over-long quantity gets a message in the service's unit, not Django's default."""
    client.force_login(world.booker)
    page = client.post(reverse("bookings:basket_add", args=[world.one_off.pk]), {"quantity": quantity})
    html = page.content.decode()
    assert f'href="#id_quantity">{message}</a>' in html
    assert "This field is required." not in html and "Ensure this value" not in html
