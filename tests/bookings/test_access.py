"""Every role against every booking URL: who may see what, and everyone else gets 403 or 404, never data.

Roles: anonymous; the booker and the approver of the school that booked; a booker and an approver of another
school; an editor, a finance officer and a course administrator of the providing council and of another
council; a partnership administrator. URLs: every named pattern of ``bookings.urls`` and of the course admin
in Wagtail (``bookings_admin``); a URL added without a row in ``EXPECTED`` fails the completeness test.

Redirects count as refusals only where they are the framework's: anonymous users are sent to sign in, and
Wagtail sends users without admin access to its login (and a refused admin action to the admin home).
Refused POSTs must also change nothing.
"""

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from bookings.models import BookingStatus, LineStatus, SchoolBookingSettings, WaitingStatus
from bookings.services import cancellations, waiting_list
from bookings.services.basket import add_course_place, add_one_off, get_basket
from bookings.services.checkout import start_checkout, submit_checkout
from tests.bookings.factories import SubscriptionFactory, World, add_course_date, add_service, school_user
from tests.bookings.flows import confirmed_place, fill
from tests.factories import CouncilMembershipFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "booker",
    "approver",
    "other_booker",
    "other_approver",
    "staffs_editor",
    "staffs_finance",
    "staffs_course_admin",
    "shrops_editor",
    "shrops_finance",
    "shrops_course_admin",
    "admin",
)
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
SCHOOL = frozenset({"booker", "approver"})

DELEGATE = "Zebedee Quixotic"
NEEDS = "Needs-Marker-7F3K"
WAITER = "Wilhelmina Waitlist"
SLA_TITLE = "Marker SLA Zeta"


@dataclass(frozen=True)
class Rule:
    """Who sees the object (``data``: 200, markers allowed), who gets a page of their own (``personal``: 200
    or a redirect, without the markers), who also sees needs; everyone else is refused."""

    data: frozenset = frozenset()
    personal: frozenset = frozenset()
    needs: frozenset = frozenset()
    admin_area: bool = False


# url name -> Rule. "needs" must be a subset of "data".
EXPECTED = {
    "bookings:basket": Rule(personal=SIGNED_IN),
    "bookings:basket_add": Rule(personal=SIGNED_IN),
    "bookings:basket_remove": Rule(personal=SIGNED_IN),  # POST only: acts on the requester's own basket
    "bookings:checkout_start": Rule(personal=SIGNED_IN),  # POST only: the requester's own basket
    "bookings:checkout": Rule(data=frozenset({"booker"})),
    "bookings:confirmation": Rule(personal=frozenset({"booker"})),  # a draft: sends its owner back to checkout
    "bookings:checkout_abandon": Rule(data=frozenset({"booker"})),
    "bookings:approvals": Rule(data=frozenset({"approver"}), personal=SIGNED_IN - {"approver"}),
    "bookings:approval_settings": Rule(data=frozenset({"approver", "admin"})),
    "bookings:detail": Rule(
        data=SCHOOL | {"staffs_editor", "staffs_finance", "staffs_course_admin", "admin"},
        needs=SCHOOL | {"staffs_course_admin"},  # not admins: the privacy notice names who sees needs
    ),
    "bookings:approve": Rule(data=frozenset({"approver", "admin"})),
    "bookings:decline": Rule(data=frozenset({"approver", "admin"})),
    "bookings:waiting_list_join": Rule(personal=SIGNED_IN),
    "bookings:waiting_list_offer": Rule(data=frozenset({"booker", "approver", "admin"})),
    "bookings:waiting_list_withdraw": Rule(data=frozenset({"booker", "approver", "admin"})),
    "bookings:subscriptions": Rule(data=frozenset({"booker", "approver", "admin"})),
    "bookings:subscription_renewal": Rule(data=frozenset({"approver", "admin"})),
    "bookings:your_data": Rule(personal=SIGNED_IN),
    "bookings:your_data_download": Rule(data=SCHOOL, personal=SIGNED_IN - SCHOOL),
    "bookings:cancel_line": Rule(data=frozenset({"approver", "staffs_course_admin", "admin"}), needs=frozenset()),
    # The school decides who it sends: its approver, or whoever booked (here the approver); not council staff.
    "bookings:substitute": Rule(data=frozenset({"approver", "admin"})),
    "bookings_admin:index": Rule(
        data=frozenset({"staffs_editor", "staffs_course_admin", "admin"}),
        personal=frozenset({"shrops_editor", "shrops_course_admin"}),
        admin_area=True,
    ),
    "bookings_admin:course_date": Rule(
        data=frozenset({"staffs_editor", "staffs_course_admin", "admin"}),
        needs=frozenset({"staffs_course_admin"}),
        admin_area=True,
    ),
    "bookings_admin:register_print": Rule(
        data=frozenset({"staffs_editor", "staffs_course_admin", "admin"}),
        needs=frozenset({"staffs_course_admin"}),
        admin_area=True,
    ),
    "bookings_admin:waive_charge": Rule(data=frozenset({"staffs_course_admin", "admin"}), admin_area=True),
}
POST_ONLY = {
    "bookings:basket_remove",
    "bookings:checkout_start",
    "bookings:checkout_abandon",
    "bookings:approve",
    "bookings:subscription_renewal",
}


def _named_patterns(patterns, namespace: str) -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _named_patterns(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}")
    return names


def test_every_booking_url_has_a_row_in_the_matrix():
    """Every named URL of the bookings app and of its Wagtail course admin is checked below."""
    from bookings import urls
    from bookings.wagtail_hooks import admin_urlpatterns

    found = _named_patterns(urls.urlpatterns, "bookings") | _named_patterns(admin_urlpatterns, "bookings_admin")
    assert found == set(EXPECTED), (
        f"Add to EXPECTED: {sorted(found - set(EXPECTED))}; stale: {sorted(set(EXPECTED) - found)}"
    )
    for name, rule in EXPECTED.items():
        assert rule.needs <= rule.data, name
    reverse("bookings:basket")  # the app's URLs are mounted
    assert get_resolver()


class Scene:
    """Oakfield's bookings from Staffordshire, with everyone who might ask about them."""

    def __init__(self, councils):
        world = self.world = World(councils, capacity=3)
        staffs, shrops = world.staffs, world.shrops
        self.users = {"anonymous": None, "booker": world.booker, "approver": world.approver}
        other = SchoolFactory(name="Birchwood Academy")
        self.users["other_booker"] = school_user(other, "booker")
        self.users["other_approver"] = school_user(other, "approver")
        for council, prefix in ((staffs, "staffs"), (shrops, "shrops")):
            for role in ("editor", "finance", "course_admin"):
                user = UserFactory()
                CouncilMembershipFactory(user=user, council=council, role=role)
                self.users[f"{prefix}_{role}"] = user
        self.users["admin"] = UserFactory(is_superuser=True, is_staff=True)

        # A confirmed booking made by the approver, whose delegate has needs.
        self.line = confirmed_place(
            school=world.school, user=world.approver, course_date=world.staffs_date, name=DELEGATE, access_needs=NEEDS
        )
        self.booking = self.line.booking
        # The booker's draft at checkout, and a booking of theirs waiting for the approver.
        basket = get_basket(school=world.school, owner=world.booker)
        add_course_place(
            basket=basket, course_date=world.shrops_date, delegate_name="Dora Draft", delegate_email="d@o.example"
        )
        self.draft = start_checkout(basket=basket, user=world.booker)
        SchoolBookingSettings.objects.create(school=world.school, approval_policy="always")
        awaiting_basket = get_basket(school=world.school, owner=world.booker)
        self.item = add_one_off(basket=awaiting_basket, service=world.one_off, quantity="1")
        # Two checkouts by one user share one basket: submit the draft first, then keep a fresh item.
        self.awaiting = submit_checkout(
            booking=self.draft, user=world.booker, po_number="", routes={world.shrops.pk: "invoice"}
        )
        self.draft = start_checkout(basket=awaiting_basket, user=world.booker)
        self.item = add_one_off(basket=awaiting_basket, service=world.one_off, quantity="2")
        # The booker waits for a full date; the school holds an SLA; a late cancellation carries a charge.
        full = add_course_date(world.staffs_course, capacity=1, days_ahead=60)
        fill(full, school=world.school, user=world.approver)
        self.entry = waiting_list.join_waiting_list(
            course_date=full, school=world.school, user=world.booker, delegate_name=WAITER
        )
        sla = add_service(staffs, "subscription", title=SLA_TITLE)
        self.subscription = SubscriptionFactory(school=world.school, service=sla, auto_renew=True)
        soon = add_course_date(world.staffs_course, capacity=2, days_ahead=3)
        late = confirmed_place(school=world.school, user=world.approver, course_date=soon, name="Late Lou")
        self.charged = cancellations.cancel_line(line=late, by=world.approver)
        self.markers = [self.booking.reference, DELEGATE, NEEDS, WAITER, SLA_TITLE, self.awaiting.reference]

    def url(self, name: str) -> str:
        w = self.world
        args = {
            "bookings:basket_add": [w.one_off.pk],
            "bookings:basket_remove": [self.item.pk],
            "bookings:checkout": [self.draft.reference],
            "bookings:confirmation": [self.draft.reference],
            "bookings:checkout_abandon": [self.draft.reference],
            "bookings:approval_settings": [w.school.urn],
            "bookings:detail": [self.booking.reference],
            "bookings:approve": [self.awaiting.reference],
            "bookings:decline": [self.awaiting.reference],
            "bookings:waiting_list_join": [w.staffs_date.pk],
            "bookings:waiting_list_offer": [self.entry.pk],
            "bookings:waiting_list_withdraw": [self.entry.pk],
            "bookings:subscriptions": [w.school.urn],
            "bookings:subscription_renewal": [w.school.urn, self.subscription.pk],
            "bookings:cancel_line": [self.booking.reference, self.line.pk],
            "bookings:substitute": [self.booking.reference, self.line.pk],
            "bookings_admin:course_date": [w.staffs_date.pk],
            "bookings_admin:register_print": [w.staffs_date.pk],
            "bookings_admin:waive_charge": [self.charged.pk],
        }.get(name, [])
        return reverse(name, args=args)

    def unchanged(self) -> list[str]:
        """What a refused POST might have changed, checked afterwards."""
        problems = []
        self.line.refresh_from_db()
        self.awaiting.refresh_from_db()
        self.draft.refresh_from_db()
        self.entry.refresh_from_db()
        self.subscription.refresh_from_db()
        self.charged.refresh_from_db()
        if self.line.status != LineStatus.BOOKED:
            problems.append("the booked line changed")
        if self.awaiting.status != BookingStatus.AWAITING_APPROVAL:
            problems.append("the booking awaiting approval changed")
        if self.draft.status != BookingStatus.DRAFT:
            problems.append("the draft changed")
        if self.entry.status != WaitingStatus.WAITING:
            problems.append("the waiting entry changed")
        if not self.subscription.auto_renew:
            problems.append("the subscription's renewal changed")
        if not self.charged.cancellation_charge:
            problems.append("the cancellation charge was waived")
        if not type(self.item).objects.filter(pk=self.item.pk).exists():
            problems.append("the basket item was removed")
        return problems


def _refused(response, rule: Rule, role: str) -> bool:
    if response.status_code in (403, 404, 405):
        return True
    if response.status_code == 302:
        location = response["Location"]
        if role == "anonymous" and ("/accounts/login/" in location or "/admin/login/" in location):
            return True
        if rule.admin_area and ("/admin/login/" in location or location == reverse("wagtailadmin_home")):
            return True
    return False


@pytest.mark.parametrize("role", ROLES)
def test_role_against_every_booking_url(client, councils, role):
    """This role sees exactly what EXPECTED grants; every other URL answers 403/404 (or the sign-in
    redirect) without any of the booking's data, and refused POSTs change nothing."""
    scene = Scene(councils)
    user = scene.users[role]
    if user is not None:
        client.force_login(user)
    problems = []
    for name, rule in EXPECTED.items():
        url = scene.url(name)
        if name not in POST_ONLY:
            response = client.get(url)
            body = response.content.decode(errors="replace")
            if role in rule.data:
                if response.status_code != 200:
                    problems.append(f"{name}: expected 200, got {response.status_code}")
                if (NEEDS in body) != (role in rule.needs) and name in (
                    "bookings:detail",
                    "bookings_admin:course_date",
                    "bookings_admin:register_print",
                ):
                    problems.append(f"{name}: needs {'shown' if NEEDS in body else 'hidden'} wrongly")
            elif role in rule.personal:
                if response.status_code not in (200, 302):
                    problems.append(f"{name}: expected their own page, got {response.status_code}")
            elif not _refused(response, rule, role):
                problems.append(f"{name}: expected a refusal, got {response.status_code}")
            if role not in rule.data:
                leaked = [marker for marker in scene.markers if marker in body]
                if (
                    name == "bookings_admin:index"
                    and reverse("bookings_admin:course_date", args=[scene.world.staffs_date.pk]) in body
                ):
                    leaked.append("a Staffordshire date")
                if leaked:
                    problems.append(f"{name}: leaked {leaked}")
        if role not in rule.data and role not in rule.personal:
            response = client.post(url, {"reason": "Because", "auto_renew": "", "payment_route": "invoice"})
            if not _refused(response, rule, role):
                problems.append(f"{name}: POST expected a refusal, got {response.status_code}")
            if leaked := [m for m in scene.markers if m in response.content.decode(errors="replace")]:
                problems.append(f"{name}: POST leaked {leaked}")
    problems += scene.unchanged()
    assert not problems, f"{role}:\n" + "\n".join(problems)
