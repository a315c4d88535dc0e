"""The school dashboard's bookings sections: upcoming courses and delegates, waiting-list offers, subscriptions,
past bookings and "your data" — each showing only the user's own schools."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings.models import BookingStatus
from bookings.services import cancellations, waiting_list
from tests.bookings.factories import SubscriptionFactory, World, add_course_date, school_user
from tests.bookings.flows import another_school, confirmed_place, fill

pytestmark = pytest.mark.django_db

DASHBOARD = "/dashboard/"


@pytest.fixture
def world(councils):
    return World(councils)


def _html(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    return response.content.decode()


def test_upcoming_courses_show_each_delegate_and_link_the_booking(client, world):
    """Both of the school's places are listed with the delegate and a link to the booking."""
    a = confirmed_place(school=world.school, user=world.approver, course_date=world.staffs_date, name="Ann Lee")
    confirmed_place(school=world.school, user=world.approver, course_date=world.shrops_date, name="Bob Ray")
    html = _html(client, world.booker)
    assert 'id="section-upcoming_courses"' in html
    assert "Ann Lee" in html and "Bob Ray" in html and "Phonics in Practice" in html
    assert reverse("bookings:detail", args=[a.booking.reference]) in html


def test_another_schools_bookings_never_appear(client, world):
    """A user of another school sees none of Oakfield's places, subscriptions or past bookings."""
    confirmed_place(school=world.school, user=world.approver, course_date=world.staffs_date, name="Ann Lee")
    SubscriptionFactory(school=world.school, service=world.sla)
    _, stranger = another_school()
    html = _html(client, stranger)
    assert "Ann Lee" not in html and "HR Advice SLA" not in html and "Oakfield" not in html
    assert "No courses booked" in html


def test_subscriptions_and_past_bookings_are_listed(client, world):
    """The SLA the school holds appears with its term; a cancelled booking moves to past bookings."""
    SubscriptionFactory(school=world.school, service=world.sla, auto_renew=True)
    line = confirmed_place(school=world.school, user=world.approver, course_date=world.staffs_date, name="Cy")
    cancellations.cancel_line(line=line, by=world.approver)
    html = _html(client, world.booker)
    assert "HR Advice SLA" in html
    assert reverse("bookings:subscriptions", args=[world.school.urn]) in html
    assert 'id="section-past_bookings"' in html and line.booking.reference in html
    line.booking.refresh_from_db()
    assert line.booking.status == BookingStatus.CANCELLED


def test_an_offered_place_is_shown_with_a_link_to_accept(client, world, django_capture_on_commit_callbacks):
    """The requester sees "Place offered" with the accept link; before that, "Waiting"."""
    one = add_course_date(world.staffs_course, capacity=1, days_ahead=20)
    (line,) = fill(one, school=world.school, user=world.approver)
    elm, elm_booker = another_school()
    entry = waiting_list.join_waiting_list(course_date=one, school=elm, user=elm_booker, delegate_name="Wes")
    assert "Waiting" in _html(client, elm_booker)
    with django_capture_on_commit_callbacks(execute=True):
        cancellations.cancel_line(line=line, by=world.approver)
    html = _html(client, elm_booker)
    assert "Place offered" in html and reverse("bookings:waiting_list_offer", args=[entry.pk]) in html
    assert "Wes" not in _html(client, world.booker)  # Oakfield does not see Elm's waiting entry


def test_someone_without_a_school_sees_only_the_data_link(client, world):
    """A signed-in user without a school gets no bookings sections, but can download their data."""
    from tests.factories import UserFactory

    html = _html(client, UserFactory())
    assert 'id="section-upcoming_courses"' not in html and 'id="section-subscriptions"' not in html
    assert reverse("bookings:your_data") in html


def test_the_dashboard_costs_the_same_queries_for_one_place_or_many(client, world):
    """The bookings sections load their rows in a fixed number of queries (no query per place)."""
    booker = school_user(world.school, "approver")
    confirmed_place(school=world.school, user=booker, course_date=world.staffs_date)
    client.force_login(world.booker)
    client.get(reverse("portal:dashboard"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("portal:dashboard"))
    for _ in range(5):
        confirmed_place(school=world.school, user=booker, course_date=world.shrops_date)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("portal:dashboard"))
    assert len(many) == len(one)
