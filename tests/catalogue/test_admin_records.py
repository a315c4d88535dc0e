"""Venues, course dates and price rules in the Wagtail admin: each council's editors see and touch only their own."""

from datetime import timedelta
from decimal import Decimal
from itertools import permutations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from catalogue.events import course_date_cancelled
from catalogue.models import CourseDate, CourseDateStatus, PriceRule, Venue
from catalogue.services import CourseDateInUse, delete_course_date
from tests.catalogue.conftest import COUNCIL_SLUGS
from tests.catalogue.factories import CourseDateFactory, PriceRuleFactory, VenueFactory, add_service, council_user

PAIRS = list(permutations(COUNCIL_SLUGS, 2))
NAMESPACES = {
    "venue": "wagtailsnippets_catalogue_venue",
    "course date": "catalogue_coursedate",
    "price rule": "catalogue_pricerule",
}


@pytest.fixture
def records(tree):
    """For each council: a venue, a course with one date, and a price rule, with names that say whose they are."""
    made = {}
    for slug in COUNCIL_SLUGS:
        provider = tree.providers[slug]
        venue = VenueFactory(council=provider.council, name=f"{slug.title()} Venue", town=f"{slug.title()}town")
        course = add_service(provider, title=f"{slug.title()} First Aid")
        date = CourseDateFactory(service=course, venue=venue, trainer=f"{slug.title()} Trainer")
        rule = PriceRuleFactory(service=course, label=f"{slug.title()} Rule")
        made[slug] = {"venue": venue, "course date": date, "price rule": rule, "course": course}
    return made


def _url(kind: str, view: str, *args) -> str:
    return reverse(f"{NAMESPACES[kind]}:{view}", args=args)


@pytest.mark.django_db
@pytest.mark.parametrize("own", COUNCIL_SLUGS)
@pytest.mark.parametrize("kind", NAMESPACES)
def test_listing_shows_only_own_councils_records(client, editors, records, own, kind):
    """An editor's admin listing of venues, course dates or price rules holds their council's rows only."""
    client.force_login(editors[own])
    response = client.get(_url(kind, "list"))
    assert response.status_code == 200
    listed = list(response.context["object_list"])
    assert listed == [records[own][kind]]
    html = response.content.decode()
    for other in set(COUNCIL_SLUGS) - {own}:
        assert other.title() not in html


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), PAIRS, ids=[f"{a}-editor-on-{b}" for a, b in PAIRS])
@pytest.mark.parametrize("kind", NAMESPACES)
def test_other_councils_record_answers_404(client, editors, records, kind, own, other):
    """Every admin URL of another council's venue, course date or price rule answers 404 and changes nothing."""
    client.force_login(editors[own])
    record = records[other][kind]
    pk = record.pk
    statuses = {
        "edit": client.get(_url(kind, "edit", pk)).status_code,
        "edit (save)": client.post(_url(kind, "edit", pk), {"name": "Taken", "label": "Taken"}).status_code,
        "delete": client.get(_url(kind, "delete", pk)).status_code,
        "delete (confirm)": client.post(_url(kind, "delete", pk)).status_code,
        "history": client.get(_url(kind, "history", pk)).status_code,
        "usage": client.get(_url(kind, "usage", pk)).status_code,
    }
    assert statuses == dict.fromkeys(statuses, 404)
    assert type(record).objects.filter(pk=pk).exists()
    assert str(type(record).objects.get(pk=pk)) == str(record)


@pytest.mark.django_db
@pytest.mark.parametrize("own", COUNCIL_SLUGS)
def test_bulk_delete_skips_other_councils_records(client, editors, records, own):
    """Bulk-deleting a mixture of course dates deletes only the editor's own council's."""
    client.force_login(editors[own])
    ids = [records[slug]["course date"].pk for slug in COUNCIL_SLUGS]
    url = reverse("wagtail_bulk_action", args=["catalogue", "coursedate", "delete"])
    client.post(f"{url}?{'&'.join(f'id={pk}' for pk in ids)}", {})
    remaining = set(CourseDate.objects.values_list("pk", flat=True))
    assert remaining == {records[slug]["course date"].pk for slug in COUNCIL_SLUGS if slug != own}


@pytest.mark.django_db
@pytest.mark.parametrize(("own", "other"), PAIRS, ids=[f"{a}-editor-into-{b}" for a, b in PAIRS])
def test_editor_cannot_create_records_for_another_council(client, editors, records, own, other):
    """Posting another council's id (council, course, service) fails validation and creates nothing."""
    client.force_login(editors[own])
    counts = (Venue.objects.count(), CourseDate.objects.count(), PriceRule.objects.count())
    start = timezone.localtime(timezone.now() + timedelta(days=40)).replace(microsecond=0)

    venue = client.post(
        _url("venue", "add"),
        {
            "council": records[other]["course"].council_id,
            "name": "Sneaky Hall",
            "address_line_1": "1 Road",
            "town": "Town",
            "postcode": "AB1 2CD",
        },
    )
    date = client.post(
        _url("course date", "add"),
        {
            "service": records[other]["course"].pk,
            "starts_at": start.strftime("%Y-%m-%d %H:%M"),
            "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"),
            "online_details": "Teams",
            "capacity": 10,
            "status": "scheduled",
        },
    )
    rule = client.post(
        _url("price rule", "add"),
        {
            "service": records[other]["course"].pk,
            "kind": "flat",
            "amount": "10.00",
            "customer_type": "any",
            "sort_order": 0,
        },
    )
    for response, field in ((venue, "council"), (date, "service"), (rule, "service")):
        assert response.status_code == 200
        assert "Select a valid choice" in str(response.context["form"].errors[field])
    assert (Venue.objects.count(), CourseDate.objects.count(), PriceRule.objects.count()) == counts


@pytest.mark.django_db
def test_editor_adds_course_date_to_own_course(client, editors, records):
    """A course date added in the admin takes its council from the course; places taken start at zero."""
    client.force_login(editors["shropshire"])
    start = timezone.localtime(timezone.now() + timedelta(days=50)).replace(second=0, microsecond=0)
    response = client.post(
        _url("course date", "add"),
        {
            "service": records["shropshire"]["course"].pk,
            "starts_at": start.strftime("%Y-%m-%d %H:%M"),
            "ends_at": (start + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M"),
            "venue": records["shropshire"]["venue"].pk,
            "capacity": 24,
            "trainer": "A. Trainer",
            "status": "scheduled",
            "places_taken": 20,  # not a form field: ignored
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    date = CourseDate.objects.get(trainer="A. Trainer")
    assert date.council.slug == "shropshire"
    assert date.places_taken == 0
    assert date.starts_at == start


@pytest.mark.django_db
def test_course_date_form_explains_bad_input(client, editors, records):
    """An end before the start, and no venue nor online details, get clear messages on their fields."""
    client.force_login(editors["staffordshire"])
    start = timezone.localtime(timezone.now() + timedelta(days=5)).replace(second=0, microsecond=0)
    response = client.post(
        _url("course date", "add"),
        {
            "service": records["staffordshire"]["course"].pk,
            "starts_at": start.strftime("%Y-%m-%d %H:%M"),
            "ends_at": (start - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "capacity": 10,
            "status": "scheduled",
        },
    )
    errors = response.context["form"].errors
    assert errors["ends_at"] == ["The end must be after the start."]
    assert errors["online_details"] == ["Choose a venue, or say how delegates join online."]


@pytest.mark.django_db
def test_booked_course_date_cannot_be_deleted(client, editors, records):
    """A date with places taken is not deleted by any route; the editor is told why and offered cancelling."""
    date = records["worcestershire"]["course date"]
    CourseDate.objects.filter(pk=date.pk).update(places_taken=3)
    client.force_login(editors["worcestershire"])

    response = client.post(_url("course date", "delete", date.pk))
    assert response.status_code == 302
    assert response["Location"] == _url("course date", "cancel", date.pk)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This date cannot be deleted because 3 places are booked on it. Cancel the date instead."
    ]
    bulk = reverse("wagtail_bulk_action", args=["catalogue", "coursedate", "delete"])
    client.post(f"{bulk}?id={date.pk}", {})
    with pytest.raises(CourseDateInUse):
        delete_course_date(course_date=date)
    assert CourseDate.objects.filter(pk=date.pk, places_taken=3).exists()


@pytest.mark.django_db
def test_unbooked_course_date_can_be_deleted(client, editors, records):
    """A date nobody has booked is deleted from the admin as usual."""
    date = records["staffordshire"]["course date"]
    client.force_login(editors["staffordshire"])
    response = client.post(_url("course date", "delete", date.pk))
    assert response.status_code == 302
    assert not CourseDate.objects.filter(pk=date.pk).exists()


@pytest.mark.django_db
def test_cancelling_a_date_keeps_it_and_tells_listeners(client, editors, records):
    """Cancelling sets the status (the row and its places stay) and sends course_date_cancelled once."""
    date = records["shropshire"]["course date"]
    CourseDate.objects.filter(pk=date.pk).update(places_taken=2)
    heard = []

    def listener(sender, course_date, user, **kwargs):
        heard.append((course_date.pk, user.email))

    course_date_cancelled.connect(listener)
    try:
        client.force_login(editors["shropshire"])
        assert client.get(_url("course date", "cancel", date.pk)).status_code == 200
        assert client.post(_url("course date", "cancel", date.pk)).status_code == 302
        client.post(_url("course date", "cancel", date.pk))  # a second click changes nothing
    finally:
        course_date_cancelled.disconnect(listener)
    date.refresh_from_db()
    assert date.status == CourseDateStatus.CANCELLED
    assert date.places_taken == 2
    assert heard == [(date.pk, editors["shropshire"].email)]


@pytest.mark.django_db
def test_other_council_cannot_cancel_a_date(client, editors, records):
    """The cancel page of another council's date answers 404 and the date stays scheduled."""
    date = records["shropshire"]["course date"]
    client.force_login(editors["worcestershire"])
    assert client.get(_url("course date", "cancel", date.pk)).status_code == 404
    assert client.post(_url("course date", "cancel", date.pk)).status_code == 404
    date.refresh_from_db()
    assert date.status == CourseDateStatus.SCHEDULED


@pytest.mark.django_db
def test_course_administrator_manages_dates_but_not_prices(client, councils, records):
    """A course administrator sees their council's dates and venues, and cannot open price rules or pages."""
    user = council_user(councils["staffordshire"], "course_admin")
    client.force_login(user)
    response = client.get(_url("course date", "list"))
    assert list(response.context["object_list"]) == [records["staffordshire"]["course date"]]
    assert client.get(_url("venue", "list")).status_code == 200
    as_script = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}
    assert client.get(_url("price rule", "list"), **as_script).status_code == 403
    page_id = records["staffordshire"]["course"].pk
    assert client.get(reverse("wagtailadmin_pages:edit", args=[page_id]), **as_script).status_code == 403


@pytest.mark.django_db
def test_price_rule_form_shows_clean_messages(client, editors, records):
    """A band without pupil numbers is refused in the admin with the model's message."""
    client.force_login(editors["staffordshire"])
    response = client.post(
        _url("price rule", "add"),
        {
            "service": records["staffordshire"]["course"].pk,
            "kind": "band",
            "amount": "100.00",
            "customer_type": "any",
            "sort_order": 0,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["pupils_from"] == [
        "Enter the pupil numbers this band covers (from, and to unless it is the top band)."
    ]
    assert PriceRule.objects.filter(kind="band").count() == 0


@pytest.mark.django_db
def test_service_edit_view_links_its_prices_and_dates(client, editors, records):
    """A course's edit view lists its price rules and dates, with links to add more for that course."""
    course = records["staffordshire"]["course"]
    client.force_login(editors["staffordshire"])
    html = client.get(reverse("wagtailadmin_pages:edit", args=[course.pk])).content.decode()
    assert f"{_url('course date', 'add')}?service={course.pk}" in html
    assert f"{_url('price rule', 'add')}?service={course.pk}" in html
    assert _url("price rule", "edit", records["staffordshire"]["price rule"].pk) in html
    assert Decimal("120.00") == records["staffordshire"]["price rule"].amount


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["venue", "coursedate", "pricerule"])
def test_choosers_offer_only_own_councils_records(client, editors, records, model):
    """The snippet chooser lists only the editor's council's records and refuses to return another's."""
    kind = {"venue": "venue", "coursedate": "course date", "pricerule": "price rule"}[model]
    client.force_login(editors["shropshire"])
    response = client.get(reverse(f"wagtailsnippetchoosers_catalogue_{model}:choose"))
    assert response.status_code == 200
    assert [item.pk for item in response.context["results"]] == [records["shropshire"][kind].pk]
    own = reverse(f"wagtailsnippetchoosers_catalogue_{model}:chosen", args=[records["shropshire"][kind].pk])
    theirs = reverse(f"wagtailsnippetchoosers_catalogue_{model}:chosen", args=[records["staffordshire"][kind].pk])
    assert client.get(own).status_code == 200
    assert client.get(theirs).status_code == 404


@pytest.mark.django_db
def test_categories_are_chosen_by_editors_but_managed_by_partnership_admins(client, editors, records):
    """Editors tick categories on their pages but cannot open the category admin; a superuser can."""
    from catalogue.models import Category
    from portal.models import User

    Category.objects.create(name="Safeguarding", slug="safeguarding")
    client.force_login(editors["staffordshire"])
    categories_url = reverse("wagtailsnippets_catalogue_category:list")
    assert client.get(categories_url, HTTP_X_REQUESTED_WITH="XMLHttpRequest").status_code == 403
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[records["staffordshire"]["course"].pk]))
    assert 'name="categories"' in edit.content.decode() and "Safeguarding" in edit.content.decode()

    client.force_login(User.objects.create_superuser(email="admin@partnership.test", password="unused-password-1"))
    assert client.get(categories_url).status_code == 200
