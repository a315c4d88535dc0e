"""Catalogue model rules: price rule validation, course date constraints, denormalised councils, revisions."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalogue.models import CourseDate, PriceRule
from tests.catalogue.factories import CourseDateFactory, PriceRuleFactory, VenueFactory, add_service

D = Decimal

PRICE_RULE_CASES = [
    # (fields, {field: message}) — an empty dict means the rule is valid.
    ({"kind": "flat", "amount": D("95.00")}, {}),
    ({"kind": "flat"}, {"amount": "Enter the fee."}),
    (
        {"kind": "flat", "amount": D("95"), "rate_per_pupil": D("1.5")},
        {"rate_per_pupil": "Only a per-pupil price has a rate per pupil."},
    ),
    (
        {"kind": "flat", "amount": D("95"), "minimum": D("10")},
        {"minimum": "Only a per-pupil price has a minimum charge."},
    ),
    ({"kind": "day_rate", "amount": D("550.00")}, {}),
    ({"kind": "day_rate"}, {"amount": "Enter the price of one day."}),
    ({"kind": "band", "amount": D("400"), "pupils_from": 0, "pupils_to": 100}, {}),
    ({"kind": "band", "amount": D("900"), "pupils_from": 501}, {}),
    ({"kind": "band", "pupils_from": 0, "pupils_to": 100}, {"amount": "Enter the price for schools in this band."}),
    (
        {"kind": "band", "amount": D("400")},
        {"pupils_from": "Enter the pupil numbers this band covers (from, and to unless it is the top band)."},
    ),
    (
        {"kind": "band", "amount": D("400"), "pupils_from": 200, "pupils_to": 100},
        {"pupils_to": "The band must end at or above where it starts."},
    ),
    (
        {
            "kind": "per_pupil",
            "rate_per_pupil": D("3.10"),
            "minimum": D("450"),
            "maximum": D("2500"),
            "phase": "primary",
        },
        {},
    ),
    ({"kind": "per_pupil"}, {"rate_per_pupil": "Enter the rate per pupil on roll."}),
    (
        {"kind": "per_pupil", "rate_per_pupil": D("3.1"), "amount": D("10")},
        {"amount": "A per-pupil price has no fixed amount: use the rate, minimum and maximum."},
    ),
    (
        {"kind": "per_pupil", "rate_per_pupil": D("3.1"), "minimum": D("500"), "maximum": D("400")},
        {"maximum": "The maximum charge cannot be below the minimum charge."},
    ),
    ({"kind": "flat", "amount": D("-1")}, {"amount": "Ensure this value is greater than or equal to 0."}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "messages"), PRICE_RULE_CASES)
def test_price_rule_clean_messages(tree, fields, messages):
    """PriceRule.full_clean accepts each well-formed kind and names the field and fix for each mistake."""
    course = add_service(tree.providers["staffordshire"])
    rule = PriceRule(service=course, **fields)
    if not messages:
        rule.full_clean()
        return
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert {field: errors for field, errors in caught.value.message_dict.items() if field in messages} == {
        field: [message] for field, message in messages.items()
    }


@pytest.mark.django_db
def test_subscriber_price_must_name_another_service(tree):
    """A subscriber price cannot make a service its own qualifying SLA."""
    sla = add_service(tree.providers["shropshire"], "subscription")
    rule = PriceRule(service=sla, kind="flat", amount=D("10"), subscriber_service_id=sla.pk)
    with pytest.raises(ValidationError) as caught:
        rule.full_clean()
    assert caught.value.message_dict["subscriber_service"] == [
        "A subscriber price must name a different service from this one."
    ]


@pytest.mark.django_db
def test_to_spec_carries_every_field(tree):
    """to_spec() hands the price engine every condition and amount of the rule, with the SLA's name."""
    from catalogue.pricing import RuleSpec

    provider = tree.providers["worcestershire"]
    course = add_service(provider, title="Phonics in Reception")
    sla = add_service(provider, "subscription", title="School Improvement SLA")
    rule = PriceRuleFactory(
        service=course,
        kind="per_pupil",
        label="Primary",
        amount=None,
        rate_per_pupil=D("1.2500"),
        minimum=D("100.00"),
        maximum=D("900.00"),
        pupils_from=1,
        pupils_to=999,
        phase="primary",
        customer_type="own_maintained",
        subscriber_service=sla,
    )
    rule = PriceRule.objects.select_related("subscriber_service").get(pk=rule.pk)
    assert rule.to_spec() == RuleSpec(
        id=rule.pk,
        kind="per_pupil",
        label="Primary",
        amount=None,
        rate_per_pupil=D("1.2500"),
        minimum=D("100.00"),
        maximum=D("900.00"),
        pupils_from=1,
        pupils_to=999,
        phase="primary",
        customer_type="own_maintained",
        subscriber_service_id=sla.pk,
        subscriber_service_name="School Improvement SLA",
    )
    assert PriceRuleFactory(service=course, phase="").to_spec().phase is None


@pytest.mark.django_db
def test_service_takes_kind_and_council_from_tree(tree, councils):
    """Each kind of page records its kind, and its council comes from the provider page above it."""
    for slug, provider in tree.providers.items():
        for kind in ("course", "subscription", "one_off"):
            page = add_service(provider, kind)
            assert (page.kind, page.council_id) == (kind, councils[slug].pk)


@pytest.mark.django_db
def test_ledger_codes_default_from_council(tree, councils):
    """Blank cost centre and income code fall back to the council's; set ones win."""
    page = add_service(tree.providers["shropshire"], "one_off")
    assert (page.effective_cost_centre, page.effective_income_code) == ("SHR-LRN-200", "SHR-8200")
    page.cost_centre, page.income_code = "EP-1", "EP-9"
    assert (page.effective_cost_centre, page.effective_income_code) == ("EP-1", "EP-9")


@pytest.mark.django_db
def test_course_date_takes_council_from_course(tree):
    """A course date's council is copied from its course on save, whatever it was set to."""
    course = add_service(tree.providers["worcestershire"])
    date_ = CourseDateFactory(service=course, council_id=tree.providers["staffordshire"].council_id)
    assert date_.council_id == course.council_id


@pytest.mark.django_db
def test_publishing_and_reverting_keeps_dates_and_prices(tree):
    """Publishing a new revision and reverting to an old one leave course dates and price rules, same ids."""
    course = add_service(tree.providers["staffordshire"], title="Prevent awareness")
    first_revision = course.latest_revision
    dates = [CourseDateFactory(service=course).pk for _ in range(3)]
    rules = [PriceRuleFactory(service=course).pk, PriceRuleFactory(service=course, kind="day_rate").pk]

    course.title = "Prevent awareness for all staff"
    course.save_revision().publish()
    first_revision.as_object().save_revision(previous_revision=first_revision).publish()  # revert

    course.refresh_from_db()
    assert course.title == "Prevent awareness"
    assert list(CourseDate.objects.filter(service=course).values_list("pk", flat=True)) == dates
    assert list(PriceRule.objects.filter(service=course).values_list("pk", flat=True)) == rules


@pytest.mark.django_db
def test_database_refuses_more_places_than_capacity(tree):
    """The check constraint refuses places_taken above capacity, whatever the code does."""
    course_date = CourseDateFactory(service=add_service(tree.providers["shropshire"]), capacity=12)
    CourseDate.objects.filter(pk=course_date.pk).update(places_taken=12)
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseDate.objects.filter(pk=course_date.pk).update(places_taken=13)


@pytest.mark.django_db
def test_database_refuses_end_before_start(tree):
    """The check constraint refuses a course date that ends before it starts."""
    course_date = CourseDateFactory(service=add_service(tree.providers["shropshire"]))
    with pytest.raises(IntegrityError), transaction.atomic():
        CourseDate.objects.filter(pk=course_date.pk).update(ends_at=course_date.starts_at - timedelta(minutes=1))


@pytest.mark.django_db
def test_course_date_clean_messages(tree):
    """Capacity below places taken, another council's venue and booking windows get clear messages."""
    course = add_service(tree.providers["staffordshire"])
    course_date = CourseDateFactory(service=course, capacity=10)
    # Places are taken by bookings' own UPDATE, not by the instance being edited (which still says 0).
    CourseDate.objects.filter(pk=course_date.pk).update(places_taken=8)
    course_date.capacity = 5
    course_date.venue = VenueFactory(council=tree.providers["worcestershire"].council)
    course_date.booking_opens_at = course_date.starts_at - timedelta(days=2)
    course_date.booking_closes_at = course_date.starts_at - timedelta(days=3)
    with pytest.raises(ValidationError) as caught:
        course_date.full_clean()
    assert caught.value.message_dict == {
        "capacity": ["8 places are already taken, so the capacity cannot be lower than that."],
        "venue": ["Choose one of the venues of the council that runs this course."],
        "booking_closes_at": ["Booking must close after it opens."],
    }


@pytest.mark.django_db
def test_a_stale_count_in_the_edited_instance_does_not_fail_validation(tree):
    """An editor's copy read when 8 places were taken validates against the 2 taken now (6 were cancelled)."""
    course_date = CourseDateFactory(service=add_service(tree.providers["shropshire"]), capacity=10)
    CourseDate.objects.filter(pk=course_date.pk).update(places_taken=8)
    course_date.refresh_from_db()
    CourseDate.objects.filter(pk=course_date.pk).update(places_taken=2)
    course_date.capacity = 5
    course_date.full_clean()
    assert course_date.places_taken == 2


@pytest.mark.django_db
def test_places_left_and_open_for_booking(tree):
    """Places left never goes below zero; a full, cancelled or closed date is not open for booking."""
    course_date = CourseDateFactory(service=add_service(tree.providers["shropshire"]), capacity=10)
    now = timezone.now()
    assert (course_date.places_left, course_date.is_open_for_booking(now)) == (10, True)
    course_date.places_taken = 10
    assert (course_date.places_left, course_date.is_open_for_booking(now)) == (0, False)
    course_date.places_taken = 2
    course_date.booking_closes_at = now - timedelta(minutes=1)
    assert not course_date.is_open_for_booking(now)
    course_date.booking_closes_at = None
    course_date.status = "cancelled"
    assert not course_date.is_open_for_booking(now)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("term_type", "today", "term_start", "on_sale"),
    [
        ("financial", date(2027, 1, 10), date(2026, 4, 1), date(2027, 4, 1)),
        ("financial", date(2026, 12, 31), date(2026, 4, 1), None),
        ("financial", date(2027, 4, 1), date(2027, 4, 1), date(2027, 4, 1)),
        ("financial", date(2027, 4, 2), date(2027, 4, 1), None),
        ("academic", date(2027, 6, 3), date(2026, 9, 1), date(2027, 9, 1)),
        ("academic", date(2027, 9, 1), date(2027, 9, 1), date(2027, 9, 1)),
    ],
)
def test_subscription_terms_and_buyback(tree, term_type, today, term_start, on_sale):
    """An SLA's term and its buy-back window (90 days before the start until the first day) by term type."""
    sla = add_service(tree.providers["staffordshire"], "subscription", term_type=term_type)
    assert sla.term_start_for(today) == term_start
    assert sla.term_on_sale(today) == on_sale
    assert sla.term_end(date(2027, 4, 1)) == date(2028, 3, 31)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("total", "parts"),
    [
        (D("1200.00"), [D("700.00"), D("500.00")]),
        (D("1000.01"), [D("583.34"), D("416.67")]),
        (D("0.05"), [D("0.03"), D("0.02")]),
    ],
)
def test_two_part_invoicing_adds_up(tree, total, parts):
    """A 7/12 + 5/12 schedule splits the year's price into parts that add up to it exactly."""
    sla = add_service(tree.providers["shropshire"], "subscription", invoice_schedule="two_part")
    assert sla.instalments(total) == parts
    assert sum(parts) == total
