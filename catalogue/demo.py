"""The demo catalogue: categories, venues, 100 or so published services, their prices and course dates.

``seed`` is what ``manage.py seed_demo`` calls for this app (``CatalogueConfig.demo_seeder``), after the portal
has created the councils and demo users. It is idempotent: pages are found by slug under their provider page,
categories by slug, venues by council and name; a service's price rules and a course's dates are created only
when it has none. Random choices come from ``random.Random`` seeded with the seed, the council and the service,
so the same seed gives the same catalogue (course dates are placed relative to the day the seed first runs).
"""

import json
import random
from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import slugify

from portal.councils import ensure_partnership_councils
from portal.models import Council, CouncilMembership, CouncilRole

from .demo_data import CATEGORIES, CONTACTS, COURSES, NOT_OFFERED, ONE_OFFS, SUBSCRIPTIONS, VENUES
from .models import (
    Category,
    CourseDate,
    CourseServicePage,
    OneOffServicePage,
    Phase,
    PriceRule,
    ProviderPage,
    ServicePage,
    SubscriptionServicePage,
    Venue,
)
from .permissions import reviewers_group_name
from .setup import ensure_catalogue

LONDON = ZoneInfo("Europe/London")
SLOTS = {
    "day": (time(9, 30), time(15, 30)),
    "morning": (time(9, 30), time(12, 30)),
    "twilight": (time(15, 45), time(17, 45)),
    "evening": (time(18, 30), time(20, 30)),
}
TRAINERS = {
    "staffordshire": ["Karen Whitehouse", "Mark Adeyemi", "Louise Barratt", "Steve Holloway", "Priya Shah"],
    "shropshire": ["Rhian Evans", "David Corbett", "Helen Morris", "Owen Jarvis", "Amy Tranter"],
    "worcestershire": ["Sarah Pitt", "James Oduya", "Nicola Haines", "Peter Lucas", "Fiona Grant"],
}
ONLINE_DETAILS = "Online on Microsoft Teams. The joining link is emailed to each delegate two working days before."
DATE_WINDOW_DAYS = 182  # course dates over the next six months


def seed(*, seed: int, stdout) -> str:
    councils = ensure_partnership_councils()
    tree = ensure_catalogue(councils=councils.values())
    categories = ensure_categories()
    phases = {phase.code: phase for phase in Phase.objects.all()}
    today = timezone.localdate()
    totals = {"services": 0, "rules": 0, "dates": 0, "venues": 0}
    for provider in tree.providers.values():
        venues = ensure_venues(council=provider.council)
        totals["venues"] += len(venues)
        made = seed_provider(
            provider=provider, categories=categories, phases=phases, venues=venues, seed=seed, today=today
        )
        for key in totals.keys() - {"venues"}:
            totals[key] += made[key]
    reviewers = ensure_demo_reviewers(councils=councils.values())
    live = ServicePage.objects.live().count()
    return (
        f"{live} published services ({totals['services']} new), {totals['rules']} new price rules, "
        f"{totals['dates']} new course dates, {totals['venues']} venues, {len(categories)} categories; "
        f"reviewers: {', '.join(reviewers) or 'none'}"
    )


def ensure_categories() -> dict[str, Category]:
    categories = {}
    for slug, name, description in CATEGORIES:
        category, _ = Category.objects.update_or_create(slug=slug, defaults={"name": name, "description": description})
        categories[slug] = category
    return categories


def ensure_venues(*, council: Council) -> list[Venue]:
    venues = []
    for name, line_1, line_2, town, postcode, access in VENUES[council.slug]:
        venue = Venue.objects.filter(council=council, name=name).first()
        if venue is None:
            venue = Venue(
                council=council,
                name=name,
                address_line_1=line_1,
                address_line_2=line_2,
                town=town,
                postcode=postcode,
                accessibility_notes=access,
            )
            venue.full_clean()
            venue.save()
        venues.append(venue)
    return venues


def seed_provider(*, provider: ProviderPage, categories, phases, venues, seed: int, today) -> dict[str, int]:
    slug = provider.council.slug
    made = {"services": 0, "rules": 0, "dates": 0}
    pages: dict[str, ServicePage] = {}
    groups = (
        (SubscriptionServicePage, SUBSCRIPTIONS),
        (CourseServicePage, COURSES),
        (OneOffServicePage, ONE_OFFS),
    )
    for model, specs in groups:
        for spec in specs:
            if spec["key"] in NOT_OFFERED[slug]:
                continue
            page, created = ensure_service(
                model=model, provider=provider, spec=spec, categories=categories, phases=phases
            )
            made["services"] += created
            pages[spec["key"]] = page
    for model, specs in groups:
        for spec in specs:
            page = pages.get(spec["key"])
            if page is None:
                continue
            rng = random.Random(f"{seed}:{slug}:{spec['key']}")
            if not PriceRule.objects.filter(service=page).exists():
                made["rules"] += create_price_rules(service=page, pattern=spec["prices"], slas=pages)
            if model is CourseServicePage and not CourseDate.objects.filter(service=page).exists():
                made["dates"] += create_course_dates(course=page, spec=spec, venues=venues, rng=rng, today=today)
    return made


def _body(spec: dict, model) -> str:
    blocks = []
    for item in spec["body"] if isinstance(spec["body"], list) else [spec["body"]]:
        if isinstance(item, tuple):
            heading, bullets = item
            blocks.append({"type": "heading", "value": {"text": heading, "level": "h2"}})
            items = "".join(f"<li>{escape(bullet)}</li>" for bullet in bullets)
            blocks.append({"type": "paragraph", "value": f"<ul>{items}</ul>"})
        else:
            blocks.append({"type": "paragraph", "value": f"<p>{escape(item)}</p>"})
    if model is CourseServicePage:
        blocks.append(
            {
                "type": "callout",
                "value": {
                    "text": "<p>Places are confirmed by email to the delegate and the booker. Cancel at least 14 days "
                    "before the course to avoid a charge.</p>"
                },
            }
        )
    for question, answer in spec.get("faq", []):
        blocks.append({"type": "faq", "value": {"question": question, "answer": f"<p>{escape(answer)}</p>"}})
    return json.dumps(blocks)


def ensure_service(*, model, provider: ProviderPage, spec: dict, categories, phases) -> tuple[ServicePage, bool]:
    slug = slugify(spec["title"])[:80]
    existing = ServicePage.objects.child_of(provider).filter(slug=slug).first()
    if existing:
        return existing.specific, False
    council = provider.council
    team, phone = CONTACTS[council.slug]
    fields = {
        "title": spec["title"],
        "slug": slug,
        "summary": spec["summary"],
        "body": _body(spec, model),
        "contact_name": team,
        "contact_email": council.email,
        "contact_phone": phone,
        "vat_treatment": spec.get("vat", "exempt"),
        "requires_school_approval": spec.get("approval", False),
    }
    if model is CourseServicePage:
        fields.update(duration=spec["duration"], audience=spec["audience"], delegates_must_be_named=True)
    elif model is SubscriptionServicePage:
        fields.update(
            term_type=spec["term"],
            invoice_schedule=spec["schedule"],
            buyback_opens_days_before=90,
            buyback_closes_days_before=0,
            auto_renew=True,
            cancellation_free_days=30,
        )
    else:
        fields.update(unit=spec["unit"])
    page = model(**fields)
    page.categories = [categories[key] for key in spec["categories"]]
    page.phases = [phases[code] for code in spec["phases"]]
    provider.add_child(instance=page)
    page.save_revision().publish()
    return page, True


def _money(value: str | Decimal, factor: str = "1") -> Decimal:
    return (Decimal(value) * Decimal(factor)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rules_for(pattern: tuple, slas: dict[str, ServicePage]) -> list[dict]:
    kind = pattern[0]
    if kind == "delegate":
        _, fee, sla_key, sla_fee = pattern
        rules = [{"kind": "flat", "label": "Standard price", "amount": _money(fee)}]
        if sla_key in slas:
            rules.append(
                {
                    "kind": "flat",
                    "label": "Subscriber price",
                    "amount": _money(sla_fee),
                    "subscriber_service": slas[sla_key],
                }
            )
        return rules
    if kind == "route":
        _, own, academy, other, independent = pattern
        return [
            {"kind": "flat", "customer_type": "own_maintained", "amount": _money(own)},
            {"kind": "flat", "customer_type": "academy", "amount": _money(academy)},
            {"kind": "flat", "customer_type": "other_council", "amount": _money(other)},
            {"kind": "flat", "customer_type": "independent", "amount": _money(independent)},
        ]
    if kind == "per_pupil":
        _, by_phase, academy_uplift = pattern
        rules = []
        for phase, (rate, minimum, maximum) in by_phase.items():
            rules.append(
                {
                    "kind": "per_pupil",
                    "phase": phase,
                    "rate_per_pupil": Decimal(rate),
                    "minimum": _money(minimum),
                    "maximum": _money(maximum),
                }
            )
            if Decimal(academy_uplift) != 1:
                rules.append(
                    {
                        "kind": "per_pupil",
                        "phase": phase,
                        "customer_type": "academy",
                        "label": "Academy rate",
                        "rate_per_pupil": (Decimal(rate) * Decimal(academy_uplift)).quantize(Decimal("0.0001")),
                        "minimum": _money(minimum, academy_uplift),
                        "maximum": _money(maximum, academy_uplift),
                    }
                )
        rate, minimum, maximum = by_phase.get("primary") or next(iter(by_phase.values()))
        rules.append(
            {
                "kind": "per_pupil",
                "label": "Other phases",
                "rate_per_pupil": Decimal(rate),
                "minimum": _money(minimum),
                "maximum": _money(maximum),
            }
        )
        return rules
    if kind == "bands":
        return [
            {"kind": "band", "pupils_from": low, "pupils_to": high, "amount": _money(amount)}
            for low, high, amount in pattern[1]
        ]
    if kind == "day":
        _, own, others = pattern
        return [
            {"kind": "day_rate", "customer_type": "own_maintained", "amount": _money(own)},
            {"kind": "day_rate", "label": "Standard day rate", "amount": _money(others)},
        ]
    if kind == "flat":
        return [{"kind": "flat", "amount": _money(pattern[1])}]
    if kind == "phase_flat":
        return [{"kind": "flat", "phase": phase, "amount": _money(amount)} for phase, amount in pattern[1].items()]
    raise ValueError(f"Unknown demo price pattern {kind!r}")


def create_price_rules(*, service: ServicePage, pattern: tuple, slas: dict[str, ServicePage]) -> int:
    rules = _rules_for(pattern, slas)
    for order, fields in enumerate(rules):
        rule = PriceRule(service=service, sort_order=order, **fields)
        rule.full_clean()
        rule.save()
    return len(rules)


def _weekdays(rng: random.Random, today, count: int, length: int) -> list:
    """``count`` different start days, each followed by ``length`` - 1 more weekdays (no weekend courses)."""
    days = set()
    while len(days) < count:
        day = today + timedelta(days=rng.randint(7, DATE_WINDOW_DAYS))
        if all((day + timedelta(days=offset)).weekday() < 5 for offset in range(length)):
            days.add(day)
    return sorted(days)


def _places_taken(rng: random.Random, capacity: int) -> int:
    roll = rng.random()
    if roll < 0.2:  # nearly full, now and then full
        return capacity - rng.randint(0, 2)
    if roll < 0.5:
        return rng.randint(capacity // 2, capacity - 3)
    return rng.randint(0, capacity // 2)


def create_course_dates(
    *, course: CourseServicePage, spec: dict, venues: list[Venue], rng: random.Random, today
) -> int:
    starts, ends = SLOTS[spec["slot"]]
    days_long = spec.get("days", 1)
    trainers = TRAINERS[course.council.slug]
    count = 0
    for day in _weekdays(rng, today, rng.randint(4, 6), days_long):
        online = spec.get("online") or (spec["slot"] in ("twilight", "evening") and rng.random() < 0.35)
        capacity = rng.choice([12, 15, 16, 20, 24, 25, 30])
        starts_at = datetime.combine(day, starts, tzinfo=LONDON)
        ends_at = datetime.combine(day + timedelta(days=days_long - 1), ends, tzinfo=LONDON)
        cancelled = rng.random() < 0.03
        course_date = CourseDate(
            service=course,
            starts_at=starts_at,
            ends_at=ends_at,
            venue=None if online else rng.choice(venues),
            online_details=ONLINE_DETAILS if online else "",
            capacity=capacity,
            booking_closes_at=starts_at - timedelta(days=2),
            trainer=rng.choice(trainers),
            status="cancelled" if cancelled else "scheduled",
        )
        course_date.full_clean()
        course_date.save()
        # The demo's places are set directly (bookings normally move this count, under a row lock).
        taken = 0 if cancelled else _places_taken(rng, capacity)
        CourseDate.objects.filter(pk=course_date.pk).update(places_taken=taken)
        count += 1
    return count


def ensure_demo_reviewers(*, councils) -> list[str]:
    """Each council's demo editor (editor@<council>.example) also reviews, so the demo can show approval."""
    names = []
    for council in councils:
        membership = (
            CouncilMembership.objects.filter(
                council=council, role=CouncilRole.EDITOR, user__email=f"editor@{council.slug}.example"
            )
            .select_related("user")
            .first()
        )
        if membership is None:
            continue
        membership.user.groups.add(Group.objects.get(name=reviewers_group_name(council)))
        names.append(membership.user.email)
    return names
