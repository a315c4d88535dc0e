"""Editing a course date in the admin never undoes bookings: places taken survive, capacity is checked against
the places taken now (not when the form was loaded), the status changes only through the Cancel date view, and
a date's course cannot change once anyone has booked it.

A booking is simulated with the bookings app's own statement (the conditional UPDATE of ``places_taken``), so
these tests stay inside the catalogue.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from catalogue.admin_forms import CourseDateForm
from catalogue.models import CourseDate, CourseDateStatus
from tests.catalogue.factories import CourseDateFactory, VenueFactory, add_service


def _book(course_date_id: int, count: int = 1) -> bool:
    """What a booking does to the date: the bookings app's conditional UPDATE."""
    return bool(
        CourseDate.objects.filter(pk=course_date_id, places_taken__lte=F("capacity") - count).update(
            places_taken=F("places_taken") + count
        )
    )


def _taken(course_date) -> int:
    return CourseDate.objects.values_list("places_taken", flat=True).get(pk=course_date.pk)


def _form_data(course_date: CourseDate, **changes) -> dict:
    def stamp(value):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    data = {
        "service": course_date.service_id,
        "starts_at": stamp(course_date.starts_at),
        "ends_at": stamp(course_date.ends_at),
        "venue": course_date.venue_id or "",
        "online_details": course_date.online_details,
        "capacity": course_date.capacity,
        "trainer": course_date.trainer,
        "booking_opens_at": stamp(course_date.booking_opens_at),
        "booking_closes_at": stamp(course_date.booking_closes_at),
        "price_override": "",
        "status": course_date.status,  # ignored now (no such field), but posted as the old form did
    }
    data.update(changes)
    return data


def _edit_url(course_date) -> str:
    return reverse("catalogue_coursedate:edit", args=[course_date.pk])


@pytest.fixture
def staffs_date(tree):
    course = add_service(tree.providers["staffordshire"], title="Staffs Safeguarding")
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=40)
    return CourseDateFactory(service=course, starts_at=start, capacity=10, trainer="Before")


@pytest.fixture
def during_validation(monkeypatch):
    """Run a callable while the edit form validates: after the view loaded the date, before it saves it."""
    hooks = []
    original = CourseDateForm.clean

    def clean(self):
        for hook in hooks:
            hook()
        return original(self)

    monkeypatch.setattr(CourseDateForm, "clean", clean)
    return hooks.append


@pytest.mark.django_db
def test_saving_a_date_loaded_before_a_booking_keeps_the_place(staffs_date):
    """An instance read before a booking took a place, then saved, leaves places_taken as the booking left it."""
    loaded = CourseDate.objects.get(pk=staffs_date.pk)
    assert _book(staffs_date.pk, 2)
    loaded.trainer = "After"
    loaded.full_clean()
    loaded.save()
    assert _taken(staffs_date) == 2
    assert CourseDate.objects.get(pk=staffs_date.pk).trainer == "After"


@pytest.mark.django_db
def test_edit_keeps_a_place_taken_while_the_form_was_being_saved(client, editors, staffs_date, during_validation):
    """A booking between the edit view loading the date and saving it is not overwritten by the edit."""
    client.force_login(editors["staffordshire"])
    during_validation(lambda: _book(staffs_date.pk))
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, trainer="After"))
    assert response.status_code == 302, response.context["form"].errors
    assert _taken(staffs_date) == 1
    assert CourseDate.objects.get(pk=staffs_date.pk).trainer == "After"


@pytest.mark.django_db
def test_capacity_is_checked_against_places_taken_now(client, editors, staffs_date, during_validation):
    """Lowering the capacity below places booked while the form was open is refused with a clear message."""
    client.force_login(editors["staffordshire"])
    assert _book(staffs_date.pk, 2)
    during_validation(lambda: _book(staffs_date.pk, 2))  # 4 taken by the time the form is checked
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, capacity=3, trainer="After"))
    assert response.status_code == 200
    assert response.context["form"].errors["capacity"] == [
        "4 places are already taken, so the capacity cannot be lower than that."
    ]
    fresh = CourseDate.objects.get(pk=staffs_date.pk)
    assert (fresh.capacity, fresh.places_taken, fresh.trainer) == (10, 4, "Before")


@pytest.mark.django_db
def test_capacity_can_be_lowered_to_the_places_taken(client, editors, staffs_date):
    """A full date is fine: capacity equal to the places taken is accepted."""
    client.force_login(editors["staffordshire"])
    assert _book(staffs_date.pk, 4)
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, capacity=4))
    assert response.status_code == 302, response.context["form"].errors
    assert CourseDate.objects.values_list("capacity", "places_taken").get(pk=staffs_date.pk) == (4, 4)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_edit_racing_a_booking_on_postgresql_loses_no_place(client, editors, staffs_date, during_validation):
    """PostgreSQL, two connections: a booking committed while an edit is being saved still counts afterwards.

    The booking runs in another thread (its own connection) while the edit form validates. Without the row
    lock it commits at once and the edit would write its stale count over it; with the lock it waits for
    the edit to commit and then takes its place. Either way exactly one place must be taken at the end.
    """
    client.force_login(editors["staffordshire"])
    booked: list[bool] = []

    def booking():
        try:
            with transaction.atomic():
                booked.append(_book(staffs_date.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=booking)

    def start_booking():
        thread.start()
        # Give the booking the chance to commit inside the edit (it does, unless the edit holds the row lock).
        thread.join(timeout=2)

    during_validation(start_booking)
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, trainer="After", capacity=12))
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert response.status_code == 302, response.context["form"].errors
    assert booked == [True]
    fresh = CourseDate.objects.get(pk=staffs_date.pk)
    assert (fresh.places_taken, fresh.capacity, fresh.trainer) == (1, 12, "After")


@pytest.mark.django_db
def test_edit_form_has_no_status_and_a_posted_status_is_ignored(client, editors, staffs_date):
    """Only the Cancel date view cancels (it tells the bookings app): the edit form cannot change the status."""
    client.force_login(editors["staffordshire"])
    response = client.get(_edit_url(staffs_date))
    assert "status" not in response.context["form"].fields
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, status="cancelled", trainer="After"))
    assert response.status_code == 302, response.context["form"].errors
    fresh = CourseDate.objects.get(pk=staffs_date.pk)
    assert (fresh.status, fresh.trainer) == (CourseDateStatus.SCHEDULED, "After")


@pytest.mark.django_db
def test_course_of_a_booked_date_cannot_change(client, editors, tree, staffs_date):
    """Once a place is booked the course is shown but fixed; a posted change of course is ignored."""
    other = add_service(tree.providers["staffordshire"], title="Staffs Other Course")
    assert _book(staffs_date.pk)
    client.force_login(editors["staffordshire"])
    form = client.get(_edit_url(staffs_date)).context["form"]
    assert form.fields["service"].disabled
    assert "cannot be changed" in form.fields["service"].help_text
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, service=other.pk, trainer="After"))
    assert response.status_code == 302, response.context["form"].errors
    fresh = CourseDate.objects.get(pk=staffs_date.pk)
    assert (fresh.service_id, fresh.trainer) == (staffs_date.service_id, "After")


@pytest.mark.django_db
def test_course_of_an_unbooked_date_can_change(client, editors, tree, staffs_date):
    """A date nobody has booked can still be moved to another of the council's courses."""
    other = add_service(tree.providers["staffordshire"], title="Staffs Other Course")
    client.force_login(editors["staffordshire"])
    assert not client.get(_edit_url(staffs_date)).context["form"].fields["service"].disabled
    response = client.post(_edit_url(staffs_date), _form_data(staffs_date, service=other.pk))
    assert response.status_code == 302, response.context["form"].errors
    assert CourseDate.objects.get(pk=staffs_date.pk).service_id == other.pk


@pytest.mark.django_db
def test_new_dates_are_scheduled_without_a_status_field(client, editors, tree):
    """Adding a date has no status field either: a new date is scheduled."""
    course = add_service(tree.providers["staffordshire"], title="Staffs New Course")
    venue = VenueFactory(council=course.council)
    client.force_login(editors["staffordshire"])
    add_url = reverse("catalogue_coursedate:add")
    assert "status" not in client.get(add_url).context["form"].fields
    start = timezone.now().replace(second=0, microsecond=0) + timedelta(days=20)
    draft = CourseDate(service=course, starts_at=start, ends_at=start + timedelta(hours=3), venue=venue, capacity=5)
    response = client.post(add_url, _form_data(draft, status="cancelled", trainer="New"))
    assert response.status_code == 302, response.context["form"].errors
    assert CourseDate.objects.get(trainer="New").status == CourseDateStatus.SCHEDULED


@pytest.mark.django_db
def test_delete_view_rechecks_with_the_row_locked(client, editors, staffs_date, monkeypatch):
    """A booking that arrives after the delete view's first check still stops the delete, with a message."""
    from django.contrib.messages import get_messages

    from catalogue import admin_views

    original = admin_views.deletion_refusal

    def check_then_book(course_date):
        reason = original(course_date)
        _book(course_date.pk)  # a school books between the view's check and the delete
        return reason

    monkeypatch.setattr(admin_views, "deletion_refusal", check_then_book)
    client.force_login(editors["staffordshire"])
    response = client.post(reverse("catalogue_coursedate:delete", args=[staffs_date.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("catalogue_coursedate:cancel", args=[staffs_date.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This date cannot be deleted because 1 place is booked on it. Cancel the date instead."
    ]
    assert _taken(staffs_date) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_edit_of_a_date_locked_too_long_asks_to_try_again(client, editors, staffs_date, monkeypatch):
    """PostgreSQL: when the date's row stays locked past the lock timeout, the editor is asked to try again
    and nothing is saved (instead of a server error or an endless wait)."""
    from django.contrib.messages import get_messages

    from catalogue import services

    monkeypatch.setattr(services, "LOCK_TIMEOUT", "200ms")
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                CourseDate.objects.select_for_update().get(pk=staffs_date.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        client.force_login(editors["staffordshire"])
        response = client.post(_edit_url(staffs_date), _form_data(staffs_date, trainer="After"))
    finally:
        release.set()
        holder.join(timeout=30)
    assert response.status_code == 302
    assert response["Location"] == _edit_url(staffs_date)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Someone is booking or changing this date right now. Try again in a moment."
    ]
    assert CourseDate.objects.get(pk=staffs_date.pk).trainer == "Before"
