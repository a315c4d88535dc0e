"""Models of the bookings app, one concept a module."""

from .audit import StatusChange
from .baskets import Basket, BasketItem, ItemKind
from .bookings import HOLDING_STATUSES, Booking, BookingStatus, new_reference
from .delegates import Delegate
from .lines import PLACE_TAKING_STATUSES, BookingLine, LineStatus, PaymentRoute
from .school_settings import ApprovalPolicy, SchoolBookingSettings
from .subscriptions import Subscription, SubscriptionStatus
from .waiting_list import WaitingListEntry, WaitingStatus

__all__ = [
    "HOLDING_STATUSES",
    "PLACE_TAKING_STATUSES",
    "ApprovalPolicy",
    "Basket",
    "BasketItem",
    "Booking",
    "BookingLine",
    "BookingStatus",
    "Delegate",
    "ItemKind",
    "LineStatus",
    "PaymentRoute",
    "SchoolBookingSettings",
    "StatusChange",
    "Subscription",
    "SubscriptionStatus",
    "WaitingListEntry",
    "WaitingStatus",
    "new_reference",
]
