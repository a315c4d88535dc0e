"""Builders for the waiting-list, cancellation, subscription and course-admin tests (bookings-flows).

Bookings are made through the real services (basket → checkout → submit by invoice), so places taken,
lines, delegates and the audit trail are exactly what a school's booking leaves behind.
"""

from __future__ import annotations

import itertools

from bookings.models import BookingLine
from bookings.services.basket import add_course_place, get_basket
from bookings.services.checkout import start_checkout, submit_checkout
from tests.bookings.factories import school_user
from tests.factories import SchoolFactory

_numbers = itertools.count(1)


def another_school(name: str = "", **fields):
    """A second school with its own booker (returned as (school, booker))."""
    n = next(_numbers)
    school = SchoolFactory(name=name or f"Elm Grove Primary {n}", **fields)
    return school, school_user(school, "booker", email=f"booker{n}@elmgrove.example", full_name=f"Booker {n}")


def confirmed_place(
    *,
    school,
    user,
    course_date,
    name: str = "",
    email: str = "",
    access_needs: str = "",
    dietary_needs: str = "",
    route: str = "invoice",
) -> BookingLine:
    """One place booked and confirmed (invoice) for the school by ``user``, who needs no approval."""
    n = next(_numbers)
    basket = get_basket(school=school, owner=user)
    add_course_place(
        basket=basket,
        course_date=course_date,
        delegate_name=name or f"Delegate {n}",
        delegate_email=email or f"delegate{n}@school.example",
        delegate_role="Teacher",
        access_needs=access_needs,
        dietary_needs=dietary_needs,
    )
    booking = start_checkout(basket=basket, user=user)
    booking = submit_checkout(booking=booking, user=user, po_number="", routes={course_date.council_id: route})
    return booking.lines.select_related("delegate", "booking", "course_date").get()


def fill(course_date, *, school, user) -> list[BookingLine]:
    """Book every place left on the date for the school."""
    course_date.refresh_from_db()
    return [confirmed_place(school=school, user=user, course_date=course_date) for _ in range(course_date.places_left)]
