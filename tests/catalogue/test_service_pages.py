"""The public provider and service pages: what each kind shows, and the council following the tree."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone
from wagtail.models import Page

from catalogue.models import CourseDate
from portal.models import User
from tests.catalogue.factories import CourseDateFactory, PriceRuleFactory, add_service


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.django_db
def test_course_page_lists_upcoming_dates_with_places(client, tree):
    """A course page shows its future dates with places left, "Full" and "Cancelled", and not past dates."""
    course = add_service(tree.providers["shropshire"], title="Paediatric first aid", duration="Two days")
    soon = timezone.now() + timedelta(days=10)
    CourseDateFactory(service=course, starts_at=soon, capacity=16, trainer="open")
    full = CourseDateFactory(service=course, starts_at=soon + timedelta(days=7), capacity=12)
    CourseDate.objects.filter(pk=full.pk).update(places_taken=12)
    CourseDateFactory(service=course, starts_at=soon + timedelta(days=14), status="cancelled")
    CourseDateFactory(service=course, starts_at=timezone.now() - timedelta(days=3), venue=None, online_details="x")

    main = _main(client.get(course.url))
    assert "Shropshire · Course" in main
    assert main.count('<tr class="govuk-table__row">') == 1 + 3  # header + three upcoming dates
    assert ">Full</strong>" in main and ">Cancelled</strong>" in main
    assert "16" in main and "Two days" in main
    assert "Online" not in main  # the only online date is in the past


@pytest.mark.django_db
def test_service_page_shows_key_facts_and_price_table(client, tree):
    """Every kind shows its council, VAT treatment, cancellation policy and the public price table."""
    provider = tree.providers["worcestershire"]
    for kind, fact in (("subscription", "Buying for next year"), ("one_off", "Priced per"), ("course", "Dates")):
        page = add_service(provider, kind, vat_treatment="standard", cancellation_free_days=21)
        PriceRuleFactory(service=page, amount="250.00")
        main = _main(client.get(page.url))
        assert "Worcestershire County Council" in main
        assert fact in main
        assert "20%" in main
        assert "up to 21 days before" in main
        assert "£250.00" in main
        # Only a course has places, a waiting list and attendance.
        assert ("waiting list" in page.cancellation_policy_text) == (kind == "course")


@pytest.mark.django_db
@time_machine.travel(date(2027, 2, 1), tick=False)
def test_subscription_page_says_when_buy_back_is_open(client, tree):
    """An April SLA's page says buy-back is open in February, for the year starting 1 April."""
    sla = add_service(tree.providers["staffordshire"], "subscription", term_type="financial")
    main = _main(client.get(sla.url))
    assert "Open now for the year starting 1 April 2027, until 1 April 2027." in main


@pytest.mark.django_db
def test_provider_page_lists_its_live_services_by_kind(client, tree):
    """A provider page lists its own published services under their kind, not drafts or other councils'."""
    provider = tree.providers["staffordshire"]
    add_service(provider, "course", title="Safer recruitment")
    add_service(provider, "subscription", title="Payroll SLA")
    add_service(provider, "one_off", title="Educational psychology day")
    add_service(provider, "course", title="Draft course", publish=False)
    add_service(tree.providers["shropshire"], "course", title="Shropshire course")
    main = _main(client.get(provider.url))
    for text in ("Courses and training", "Subscriptions (SLAs)", "Pay as you go", "Safer recruitment", "Payroll SLA"):
        assert text in main
    assert "Draft course" not in main and "Shropshire course" not in main


@pytest.mark.django_db
def test_moved_service_and_its_dates_follow_the_new_council(tree):
    """When a partnership administrator moves a service to another provider, it and its dates change council."""
    course = add_service(tree.providers["staffordshire"], title="Phonics")
    course_date = CourseDateFactory(service=course)
    admin = User.objects.create_superuser(email="admin@partnership.test", password="unused-password-1")
    from wagtail.actions.move_page import MovePageAction

    MovePageAction(
        Page.objects.get(pk=course.pk), tree.providers["worcestershire"], pos="last-child", user=admin
    ).execute()
    course.refresh_from_db()
    course_date.refresh_from_db()
    worcestershire = tree.providers["worcestershire"].council_id
    assert (course.council_id, course_date.council_id) == (worcestershire, worcestershire)
