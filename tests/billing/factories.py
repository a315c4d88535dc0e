"""Builders for billing tests: lines and documents issued through the real services."""

from decimal import Decimal

from billing.services.documents import LineInput, issue_invoice
from billing.vat import VatTreatment


def exempt_course(unit_net_pence: int = 12_000, quantity: Decimal | int = 1, **kwargs) -> LineInput:
    """A training course: exempt from VAT."""
    return LineInput(
        description=kwargs.pop("description", "Safeguarding refresher (course, 12 March 2026)"),
        unit_net_pence=unit_net_pence,
        quantity=Decimal(quantity),
        vat_treatment=kwargs.pop("vat_treatment", VatTreatment.EXEMPT),
        **kwargs,
    )


def standard_service(unit_net_pence: int = 45_000, quantity: Decimal | int = 1, **kwargs) -> LineInput:
    """A traded service that is standard-rated (20%)."""
    return LineInput(
        description=kwargs.pop("description", "HR advisory SLA 2026-27 (first instalment 7/12)"),
        unit_net_pence=unit_net_pence,
        quantity=Decimal(quantity),
        vat_treatment=kwargs.pop("vat_treatment", VatTreatment.STANDARD),
        **kwargs,
    )


def make_invoice(*, council, school, lines=None, **kwargs):
    """An invoice issued through issue_invoice, with an exempt and a standard-rated line by default."""
    return issue_invoice(
        council=council,
        customer=school,
        lines=lines or [exempt_course(), standard_service(quantity=Decimal("2.5"), unit_net_pence=33_333)],
        **kwargs,
    )


def people(*, school, council, other_school, other_council) -> dict:
    """One user for every role that could ask for a billing page, keyed by a readable name (None: anonymous)."""
    from tests.factories import CouncilMembershipFactory, SchoolMembershipFactory, UserFactory

    cast = {"anonymous": None}
    cast["booker"] = SchoolMembershipFactory(school=school, role="booker").user
    cast["approver"] = SchoolMembershipFactory(school=school, role="approver").user
    cast["other_school_booker"] = SchoolMembershipFactory(school=other_school, role="booker").user
    cast["other_school_approver"] = SchoolMembershipFactory(school=other_school, role="approver").user
    for role in ("finance", "editor", "course_admin"):
        cast[role] = CouncilMembershipFactory(council=council, role=role).user
        cast[f"other_council_{role}"] = CouncilMembershipFactory(council=other_council, role=role).user
    cast["admin"] = UserFactory(is_superuser=True, is_staff=True)
    return cast
