"""Bookings to bill, made through bookings' real services (basket → checkout → submit), for billing-3's tests.

``Market`` is one course from each council (Staffordshire £100 exempt, Shropshire £150 exempt, Worcestershire
£80 standard-rated) and a Staffordshire SLA (£1,200 standard-rated), with two schools: Severn Valley Academy (an
academy in Shropshire: invoiced by everyone) and Oakfield Primary (a maintained Staffordshire school, which
Staffordshire may recharge). Their users are approvers, so nothing waits for approval.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

from bookings.models import Booking
from bookings.services.basket import add_course_place, add_one_off, get_basket
from bookings.services.checkout import start_checkout, submit_checkout
from tests.bookings.factories import add_course_date, add_service, school_user
from tests.factories import SchoolFactory

_numbers = itertools.count(1)


class Market:
    def __init__(self, councils, *, capacity: int = 30):
        self.staffs = councils["staffordshire"]
        self.shrops = councils["shropshire"]
        self.worcs = councils["worcestershire"]
        self.academy = SchoolFactory(
            name="Severn Valley Academy", funding_route="academy", la_code="893", la_name="Shropshire",
            council=self.shrops, town="Bridgnorth", postcode="WV16 4ER",
        )  # fmt: skip
        self.sbm = school_user(self.academy, "approver", email="sbm@severnvalley.example", full_name="Sam Brook")
        self.maintained = SchoolFactory(name="Oakfield Primary School", la_code="860", council=self.staffs)
        self.head = school_user(self.maintained, "approver", email="head@oakfield.example", full_name="Hana Head")
        self.staffs_course = add_service(self.staffs, "course", title="Safeguarding Update", price=Decimal("100.00"))
        self.staffs_date = add_course_date(self.staffs_course, capacity=capacity, days_ahead=30)
        self.shrops_course = add_service(self.shrops, "course", title="Phonics in Practice", price=Decimal("150.00"))
        self.shrops_date = add_course_date(self.shrops_course, capacity=capacity, days_ahead=40)
        self.worcs_course = add_service(
            self.worcs, "course", title="Health and Safety Lead", price=Decimal("80.00"), vat_treatment="standard"
        )
        self.worcs_date = add_course_date(self.worcs_course, capacity=capacity, days_ahead=50)
        self.staffs_one_off = add_service(
            self.staffs, "one_off", title="Data Protection Audit", price=Decimal("250.00"), vat_treatment="standard"
        )

    def user_for(self, school):
        return self.sbm if school == self.academy else self.head

    def another_academy(self):
        """A further academy (in Worcestershire) with its own approver: (school, user)."""
        n = next(_numbers)
        school = SchoolFactory(name=f"Academy {n}", funding_route="academy", la_code="885", council=self.worcs)
        return school, school_user(school, "approver", email=f"sbm{n}@academy.example")

    def book(
        self, *, school=None, user=None, dates=None, routes: dict | None = None, po_number: str = "PO-1", one_off=0
    ):
        """A booking of one place on each date (default: all three councils), submitted with ``routes``
        ({council: route}, default invoice for every council)."""
        school = school or self.academy
        user = user or self.user_for(school)
        dates = dates if dates is not None else [self.staffs_date, self.shrops_date, self.worcs_date]
        basket = get_basket(school=school, owner=user)
        for course_date in dates:
            n = next(_numbers)
            add_course_place(
                basket=basket,
                course_date=course_date,
                delegate_name=f"Delegate {n}",
                delegate_email=f"delegate{n}@school.example",
            )
        if one_off:
            add_one_off(basket=basket, service=self.staffs_one_off, quantity=one_off)
        booking = start_checkout(basket=basket, user=user)
        councils = {line.council for line in booking.lines.select_related("council")}
        chosen = {council.pk: (routes or {}).get(council, "invoice") for council in councils}
        return submit_checkout(booking=booking, user=user, po_number=po_number, routes=chosen)

    def refreshed(self, booking: Booking) -> Booking:
        return Booking.objects.select_related("school").get(pk=booking.pk)
