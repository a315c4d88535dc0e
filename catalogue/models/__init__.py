"""Models of the catalogue app, one concept a module."""

from .categories import Category
from .course_dates import CourseDate, CourseDateStatus
from .pages import CatalogueIndexPage, ProviderPage
from .phases import CATALOGUE_PHASES, Phase
from .price_rules import CustomerType, PriceRule, PriceRuleKind
from .service_kinds import (
    CourseServicePage,
    InvoiceSchedule,
    OneOffServicePage,
    OneOffUnit,
    SubscriptionServicePage,
    TermType,
)
from .services import VAT_RATES, ServiceKind, ServicePage, VatTreatment
from .venues import Venue

__all__ = [
    "CATALOGUE_PHASES",
    "VAT_RATES",
    "CatalogueIndexPage",
    "Category",
    "CourseDate",
    "CourseDateStatus",
    "CourseServicePage",
    "CustomerType",
    "InvoiceSchedule",
    "OneOffServicePage",
    "OneOffUnit",
    "Phase",
    "PriceRule",
    "PriceRuleKind",
    "ProviderPage",
    "ServiceKind",
    "ServicePage",
    "SubscriptionServicePage",
    "TermType",
    "VatTreatment",
    "Venue",
]
