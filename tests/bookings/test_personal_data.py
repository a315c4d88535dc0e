"""Personal data: access and dietary needs erased after the retention period (names kept), a user's own data
as a JSON download without other people's needs, and the privacy notice promising what the code does."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Delegate
from bookings.services import cancellations
from bookings.services.basket import add_course_place, get_basket
from bookings.services.personal_data import DEFAULT_RETENTION_DAYS, erase_expired_needs, export_user_data
from catalogue.models import CourseDate
from tests.bookings.factories import World, add_course_date
from tests.bookings.flows import another_school, confirmed_place

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils)


def _needs_place(world, name="Ann Lee", email="ann@oakfield.example"):
    course_date = add_course_date(world.staffs_course, capacity=5)
    return confirmed_place(
        school=world.school,
        user=world.approver,
        course_date=course_date,
        name=name,
        email=email,
        access_needs="Hearing loop",
        dietary_needs="Gluten free",
    )


def _course_ended(line, days_ago):
    ends = timezone.now() - timedelta(days=days_ago)
    CourseDate.objects.filter(pk=line.course_date_id).update(starts_at=ends - timedelta(hours=6), ends_at=ends)


def test_needs_are_erased_30_days_after_the_course_and_the_name_is_kept(world):
    """29 days after the course the needs stay; at 30 they are blanked (name, email and attendance kept)."""
    recent, old = _needs_place(world), _needs_place(world, name="Old Timer", email="old@oakfield.example")
    _course_ended(recent, days_ago=29)
    _course_ended(old, days_ago=30)
    assert erase_expired_needs() == 1
    kept, erased = Delegate.objects.get(line=recent), Delegate.objects.get(line=old)
    assert (kept.access_needs, kept.dietary_needs, kept.needs_erased_at) == ("Hearing loop", "Gluten free", None)
    assert (erased.access_needs, erased.dietary_needs) == ("", "")
    assert erased.name == "Old Timer" and erased.email == "old@oakfield.example" and erased.needs_erased_at
    assert erase_expired_needs() == 0


def test_needs_of_a_cancelled_place_go_30_days_after_the_cancellation(world):
    """A place cancelled long before its course loses the needs 30 days after it was cancelled."""
    line = cancellations.cancel_line(line=_needs_place(world), by=world.approver)
    type(line).objects.filter(pk=line.pk).update(cancelled_at=timezone.now() - timedelta(days=31))
    assert erase_expired_needs() == 1
    assert Delegate.objects.get(line=line).access_needs == ""


def test_the_retention_period_is_a_setting(world, settings):
    """BOOKINGS_NEEDS_RETENTION_DAYS = 7 erases a week after the course."""
    settings.BOOKINGS_NEEDS_RETENTION_DAYS = 7
    line = _needs_place(world)
    _course_ended(line, days_ago=8)
    assert erase_expired_needs() == 1


def test_basket_items_for_long_past_dates_lose_their_needs(world):
    """Needs typed into a basket for a course that ended long ago are blanked too."""
    course_date = add_course_date(world.staffs_course, capacity=5)
    item = add_course_place(
        basket=get_basket(school=world.school, owner=world.booker),
        course_date=course_date,
        delegate_name="Ann",
        delegate_email="ann@oakfield.example",
        access_needs="Ramp",
    )
    CourseDate.objects.filter(pk=course_date.pk).update(
        starts_at=timezone.now() - timedelta(days=41), ends_at=timezone.now() - timedelta(days=40)
    )
    erase_expired_needs()
    item.refresh_from_db()
    assert item.delegate_access_needs == "" and item.delegate_name == "Ann"


def test_the_periodic_task_erases(world):
    """The beat task runs the same erasure and reports how many it erased."""
    from bookings import tasks

    _course_ended(_needs_place(world), days_ago=45)
    assert tasks.erase_delegate_needs() == 1


# --- Your data ----------------------------------------------------------------------------------------


def test_the_export_has_your_bookings_and_your_own_needs_but_not_colleagues(world):
    """The approver's export lists the bookings they made (delegate names) without colleagues' needs; the
    delegate's own export includes the needs recorded for them."""
    line = _needs_place(world, name="Ann Lee", email="ann@oakfield.example")
    booker_data = export_user_data(user=world.approver)
    made = booker_data["bookings_made"]
    assert [b["reference"] for b in made] == [line.booking.reference]
    assert made[0]["lines"][0]["delegate_name"] == "Ann Lee"
    assert "Hearing loop" not in json.dumps(booker_data)
    from tests.factories import UserFactory

    ann = UserFactory(email="ann@oakfield.example", full_name="Ann Lee")
    ann_data = export_user_data(user=ann)
    (place,) = ann_data["places_booked_for_you"]
    assert (place["access_needs"], place["dietary_needs"]) == ("Hearing loop", "Gluten free")
    assert place["booking_reference"] == line.booking.reference
    assert ann_data["bookings_made"] == []


def test_the_download_is_json_of_the_signed_in_user_only(client, world):
    """The download is an attachment of JSON about the requester; anonymous users are sent to sign in."""
    _needs_place(world)
    url = reverse("bookings:your_data_download")
    assert client.get(url).status_code == 302
    _, stranger = another_school()
    client.force_login(stranger)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["account"]["email"] == stranger.email and data["bookings_made"] == []
    assert "oakfield" not in response.content.decode().lower()
    page = client.get(reverse("bookings:your_data")).content.decode()
    assert url in page and "/privacy/" in page


# --- The privacy notice -------------------------------------------------------------------------------


def test_the_privacy_notice_says_what_the_code_does_with_needs():
    """The seeded /privacy/ text names access and dietary needs, who sees them and the same 30 days."""
    from portal.demo_pages import PRIVACY

    text = re.sub(r"<[^>]+>", " ", " ".join(str(block) for block in PRIVACY.body))
    text = " ".join(text.split())
    assert "Access and dietary needs" in text or "access and dietary needs" in text
    assert f"deleted {DEFAULT_RETENTION_DAYS} days after the course ends" in text
    assert "30 days after the booking is cancelled" in text
    assert "Councils do not see each other's bookings" in text


def test_beat_runs_the_flows_periodic_tasks_by_registered_name():
    """Beat schedules the offer expiry, the buy-back round and the needs erasure, each a registered task."""
    from portal.celery import BEAT_SCHEDULE, app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    for name in (
        "bookings.tasks.expire_waiting_list_offers",
        "bookings.tasks.run_subscription_buyback",
        "bookings.tasks.erase_delegate_needs",
    ):
        assert name in scheduled and name in app.tasks, name


def test_forms_asking_for_needs_say_how_long_the_setting_keeps_them(settings):
    """The hint on every form that asks for access or dietary needs follows BOOKINGS_NEEDS_RETENTION_DAYS."""
    from bookings.views.substitutions import SubstituteForm
    from bookings.views.waiting_list import AcceptForm

    settings.BOOKINGS_NEEDS_RETENTION_DAYS = 45
    for form_class in (SubstituteForm, AcceptForm):
        fields = form_class.base_fields
        assert "deleted 45 days after the course" in str(fields["access_needs"].help_text)
        assert str(fields["dietary_needs"].help_text) == "Deleted 45 days after the course, like access needs."
