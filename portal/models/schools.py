"""Schools, as the DfE's "Get Information About Schools" (GIAS) describes them.

A school is identified by its URN. Its LAESTAB (LA code + four-digit establishment number) is how councils
know it. ``funding_route`` and ``phase`` are derived from GIAS fields when a school is imported, because
prices depend on them (maintained or academy; primary, secondary, special ...).
"""

from django.db import models
from django.db.models.functions import Upper


class FundingRoute(models.TextChoices):
    MAINTAINED = "maintained", "Maintained"
    ACADEMY = "academy", "Academy or free school"
    INDEPENDENT = "independent", "Independent"
    OTHER = "other", "Other"


class Phase(models.TextChoices):
    NURSERY = "nursery", "Nursery"
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    ALL_THROUGH = "all_through", "All-through"
    SPECIAL = "special", "Special"
    PRU = "pru", "Pupil referral unit / alternative provision"
    SIXTEEN_PLUS = "sixteen_plus", "16 plus"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


# GIAS "EstablishmentTypeGroup (code)" values that decide the funding route.
TYPE_GROUP_LA_MAINTAINED = 4
TYPE_GROUP_SPECIAL = 5
TYPE_GROUP_INDEPENDENT = 3
TYPE_GROUP_ACADEMIES = 10
TYPE_GROUP_FREE_SCHOOLS = 11


def derive_funding_route(type_group_code: int | None, type_name: str) -> str:
    """How a school is funded, from its GIAS type group (and, for special schools, its type name)."""
    name = (type_name or "").lower()
    if type_group_code in (TYPE_GROUP_ACADEMIES, TYPE_GROUP_FREE_SCHOOLS) or name.startswith(("academy", "free")):
        return FundingRoute.ACADEMY
    if type_group_code == TYPE_GROUP_LA_MAINTAINED:
        return FundingRoute.MAINTAINED
    # Independent schools, special or not ("Other independent special school" sits in type group 5).
    if type_group_code == TYPE_GROUP_INDEPENDENT or "independent" in name:
        return FundingRoute.INDEPENDENT
    if type_group_code == TYPE_GROUP_SPECIAL:
        # Community and foundation special schools are maintained; non-maintained special schools are not.
        return FundingRoute.OTHER if "non-maintained" in name else FundingRoute.MAINTAINED
    return FundingRoute.OTHER


def derive_phase(phase_name: str, type_group_code: int | None, type_name: str) -> str:
    """The phase used for pricing: GIAS phase, except that special schools and PRUs are their own phase."""
    name = (type_name or "").lower()
    if "pupil referral" in name or "alternative provision" in name:
        return Phase.PRU
    if type_group_code == TYPE_GROUP_SPECIAL or "special" in name:
        return Phase.SPECIAL
    value = (phase_name or "").lower()
    if "nursery" in value:
        return Phase.NURSERY
    if "all-through" in value or "all through" in value:
        return Phase.ALL_THROUGH
    if "primary" in value:  # includes "Middle deemed primary"
        return Phase.PRIMARY
    if "secondary" in value:  # includes "Middle deemed secondary"
        return Phase.SECONDARY
    if "16 plus" in value:
        return Phase.SIXTEEN_PLUS
    return Phase.NOT_APPLICABLE


class School(models.Model):
    urn = models.PositiveIntegerField("URN", unique=True)
    la_code = models.CharField("LA code", max_length=3, db_index=True)
    la_name = models.CharField("LA name", max_length=100)
    establishment_number = models.CharField(max_length=4, blank=True)
    laestab = models.CharField("LAESTAB", max_length=7, blank=True, db_index=True)
    name = models.CharField(max_length=200)
    type_of_establishment = models.CharField(max_length=120, blank=True)
    type_group_code = models.PositiveSmallIntegerField(null=True, blank=True)
    type_group = models.CharField(max_length=120, blank=True)
    funding_route = models.CharField(max_length=20, choices=FundingRoute.choices, default=FundingRoute.OTHER)
    phase_of_education = models.CharField("phase (GIAS)", max_length=60, blank=True)
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.NOT_APPLICABLE)
    status = models.CharField(max_length=60, blank=True, help_text="GIAS status, e.g. 'Open'.")
    number_on_roll = models.PositiveIntegerField(null=True, blank=True)
    census_date = models.DateField(null=True, blank=True)
    open_date = models.DateField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True)
    street = models.CharField(max_length=200, blank=True)
    locality = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True, db_index=True)
    telephone = models.CharField(max_length=40, blank=True)
    website = models.CharField(max_length=255, blank=True)
    ukprn = models.CharField("UKPRN", max_length=8, blank=True)
    trust_name = models.CharField(max_length=200, blank=True)
    email_domain = models.CharField(
        max_length=120,
        blank=True,
        help_text="Staff whose verified email is at this domain join the school as bookers without approval.",
    )
    council = models.ForeignKey(
        "portal.Council",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="schools",
        help_text="The partnership council whose area the school is in, if any.",
    )
    # What the school asks of its own bookings: set by its approver (see the bookings issue).
    requires_purchase_order = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Upper("name"), name="school_name_upper_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.urn})"

    @property
    def is_open(self) -> bool:
        return self.status.lower().startswith("open")

    @property
    def address_lines(self) -> list[str]:
        return [part for part in (self.street, self.locality, self.town, self.postcode) if part]
