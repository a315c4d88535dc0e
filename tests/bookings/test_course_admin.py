"""The council's course administration in Wagtail's admin: bookings per date (own council only), the register
with needs for course admins only, attendance marking, waiting lists, waivers and the printable register."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingStatus, LineStatus, StatusChange
from bookings.services import cancellations, waiting_list
from bookings.services.course_admin import record_attendance
from catalogue.models import CourseDate
from tests.bookings.factories import World, add_course_date
from tests.bookings.flows import another_school, confirmed_place, fill
from tests.factories import CouncilMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(councils):
    return World(councils, capacity=2)


def staff(council, role):
    user = UserFactory()
    CouncilMembershipFactory(user=user, council=council, role=role)
    return user


@pytest.fixture
def booked(world):
    """Two Oakfield places on the Staffordshire date, one delegate with needs, plus a Shropshire booking."""
    first = confirmed_place(
        school=world.school,
        user=world.approver,
        course_date=world.staffs_date,
        name="Ann Access",
        access_needs="Wheelchair user: step-free room please",
        dietary_needs="Halal",
    )
    second = confirmed_place(school=world.school, user=world.approver, course_date=world.staffs_date, name="Bob Plain")
    shrops = confirmed_place(school=world.school, user=world.approver, course_date=world.shrops_date, name="Sal Shrops")
    return first, second, shrops


def _start(course_date, hours_ago=1):
    now = timezone.now()
    CourseDate.objects.filter(pk=course_date.pk).update(
        starts_at=now - timedelta(hours=hours_ago), ends_at=now + timedelta(hours=5)
    )
    course_date.refresh_from_db()


def test_a_course_admin_sees_only_their_councils_dates(client, world, booked):
    """The index lists Staffordshire's date with its counts and not Shropshire's; Shropshire's date is 404."""
    client.force_login(staff(world.staffs, "course_admin"))
    html = client.get(reverse("bookings_admin:index")).content.decode()
    assert "Safeguarding Update" in html and "2 of 2" in html
    assert "Phonics in Practice" not in html
    assert client.get(reverse("bookings_admin:course_date", args=[world.shrops_date.pk])).status_code == 404
    assert client.get(reverse("bookings_admin:register_print", args=[world.shrops_date.pk])).status_code == 404


def test_the_register_shows_needs_to_course_admins_only(client, world, booked):
    """Course admins see access and dietary needs on the register and printout; editors see names only."""
    date_url = reverse("bookings_admin:course_date", args=[world.staffs_date.pk])
    print_url = reverse("bookings_admin:register_print", args=[world.staffs_date.pk])
    client.force_login(staff(world.staffs, "course_admin"))
    for url in (date_url, print_url):
        html = client.get(url).content.decode()
        assert "Ann Access" in html and "Bob Plain" in html
        assert "step-free room" in html and "Halal" in html
    client.force_login(staff(world.staffs, "editor"))
    for url in (date_url, print_url):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200 and "Ann Access" in html
        assert "step-free room" not in html and "Halal" not in html


def test_the_printable_register_is_a_page_of_its_own_with_print_styles(client, world, booked):
    """No admin chrome, the print stylesheet, a signature column and one row per booked delegate."""
    client.force_login(staff(world.staffs, "editor"))
    html = client.get(reverse("bookings_admin:register_print", args=[world.staffs_date.pk])).content.decode()
    assert "bookings/register_print.css" in html and "Signature" in html
    assert html.count('class="register__signature"></td>') == 2
    assert "wagtail" not in html.lower()


def test_finance_and_school_users_have_no_course_admin(client, world, booked):
    """A finance officer or a school user is turned away by Wagtail (sent to its login), never shown data."""
    url = reverse("bookings_admin:course_date", args=[world.staffs_date.pk])
    for user in (staff(world.staffs, "finance"), world.approver):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_attendance_can_be_marked_once_the_course_has_started(client, world, booked):
    """Before the start the register refuses marks; after it, attended and no-show are saved with the audit
    trail, can be corrected, and a booking whose places are all settled is completed."""
    first, second, _ = booked
    editor = staff(world.staffs, "editor")
    with pytest.raises(ValidationError, match="once the course has started"):
        record_attendance(course_date=world.staffs_date, marks={first.pk: "attended"}, by=editor)
    _start(world.staffs_date)
    client.force_login(editor)
    url = reverse("bookings_admin:course_date", args=[world.staffs_date.pk])
    response = client.post(url, {f"mark_{first.pk}": "attended", f"mark_{second.pk}": "no_show"})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (LineStatus.ATTENDED, LineStatus.NO_SHOW)
    assert StatusChange.objects.filter(line=first, to_status="attended", by=editor).exists()
    first.booking.refresh_from_db()
    second.booking.refresh_from_db()
    assert first.booking.status == second.booking.status == BookingStatus.COMPLETED
    assert record_attendance(course_date=world.staffs_date, marks={second.pk: "attended"}, by=editor) == 1
    assert record_attendance(course_date=world.staffs_date, marks={second.pk: "attended"}, by=editor) == 0


def test_attendance_for_another_councils_line_is_refused_and_nothing_changes(client, world, booked):
    """Posting a Shropshire line's id on a Staffordshire register is an error; the whole post is refused."""
    first, _, shrops = booked
    _start(world.staffs_date)
    _start(world.shrops_date)
    client.force_login(staff(world.staffs, "course_admin"))
    url = reverse("bookings_admin:course_date", args=[world.staffs_date.pk])
    response = client.post(url, {f"mark_{first.pk}": "attended", f"mark_{shrops.pk}": "no_show"})
    assert response.status_code == 400
    first.refresh_from_db()
    shrops.refresh_from_db()
    assert first.status == shrops.status == LineStatus.BOOKED
    other = staff(world.shrops, "course_admin")
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        record_attendance(course_date=world.staffs_date, marks={first.pk: "attended"}, by=other)


def test_the_date_page_lists_the_waiting_list_and_cancellations_with_a_waiver(client, world):
    """A full date's page shows who waits, in order; a late cancellation's charge is waived from it."""
    soon = add_course_date(world.staffs_course, capacity=1, days_ahead=5)
    (line,) = fill(soon, school=world.school, user=world.approver)
    elm, elm_booker = another_school(name="Elm Grove Primary")
    waiting_list.join_waiting_list(course_date=soon, school=elm, user=elm_booker, delegate_name="Wally Wait")
    line = cancellations.cancel_line(line=line, by=world.approver)
    assert line.cancellation_charge == Decimal("100.00")
    admin = staff(world.staffs, "course_admin")
    client.force_login(admin)
    html = client.get(reverse("bookings_admin:course_date", args=[soon.pk])).content.decode()
    assert "Elm Grove Primary" in html and "Wally Wait" in html
    assert "£100.00" in html and reverse("bookings_admin:waive_charge", args=[line.pk]) in html
    waive = reverse("bookings_admin:waive_charge", args=[line.pk])
    assert client.post(waive, {"reason": ""}).status_code == 400
    response = client.post(waive, {"reason": "Head teacher's bereavement"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.cancellation_charge == Decimal("0.00") and line.charge_waived_by == admin
    client.force_login(staff(world.staffs, "editor"))
    refused = client.get(waive)  # Wagtail turns an admin view's PermissionDenied into a redirect home
    assert (refused.status_code, refused["Location"]) == (302, reverse("wagtailadmin_home"))
    client.force_login(staff(world.shrops, "course_admin"))
    assert client.get(waive).status_code == 404


def test_cancelling_the_date_in_the_admin_cancels_its_bookings(
    client, world, booked, django_capture_on_commit_callbacks
):
    """The catalogue's "Cancel date" action, confirmed by a course admin, cancels every booking on it free."""
    first, second, _ = booked
    client.force_login(staff(world.staffs, "course_admin"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("catalogue_coursedate:cancel", args=[world.staffs_date.pk]))
    assert response.status_code == 302
    for line in (first, second):
        line.refresh_from_db()
        assert (line.status, line.cancellation_charge) == (LineStatus.CANCELLED, Decimal("0.00"))


def test_the_menu_item_shows_only_to_course_staff(client, world):
    """Course admins and editors see "Course bookings" in the admin menu."""
    client.force_login(staff(world.staffs, "course_admin"))
    assert "Course bookings" in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_list_and_the_date_page_agree_on_places_taken_outside_the_portal(client, world):
    """Places taken outside the portal (places_taken with no line, e.g. by phone) count on the list, and the
    date page says how many there are; a date without any says nothing of them."""
    course_date = add_course_date(world.staffs_course, capacity=20, days_ahead=45)
    confirmed_place(school=world.school, user=world.approver, course_date=course_date, name="Ann Online")
    CourseDate.objects.filter(pk=course_date.pk).update(places_taken=8)
    client.force_login(staff(world.staffs, "course_admin"))
    listing = client.get(reverse("bookings_admin:index")).content.decode()
    assert "8 of 20 <span" in listing and "(7 outside the portal)" in listing and "1 of 20" not in listing
    page = client.get(reverse("bookings_admin:course_date", args=[course_date.pk])).content.decode()
    assert "8 of 20 taken (1 booked, 0 held" in page and "7 taken outside the portal" in page
    plain = client.get(reverse("bookings_admin:course_date", args=[world.staffs_date.pk])).content.decode()
    assert "outside the portal" not in plain
