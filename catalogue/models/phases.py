"""The phases of education a service suits, as a small table so that pages can pick several of them.

The codes are the portal's pricing phases (``portal.models.schools.Phase``): a school's ``phase`` can be
matched against a service's phases, and a price rule's ``phase`` condition, without translation. The rows
are created by a data migration and are not edited in the admin.
"""

from django.db import models

from portal.models.schools import Phase as SchoolPhase

# The phases a catalogue page can be tagged with, in the order they are shown.
CATALOGUE_PHASES: list[tuple[str, str]] = [
    (SchoolPhase.NURSERY.value, "Nursery"),
    (SchoolPhase.PRIMARY.value, "Primary"),
    (SchoolPhase.SECONDARY.value, "Secondary"),
    (SchoolPhase.SPECIAL.value, "Special"),
    (SchoolPhase.ALL_THROUGH.value, "All-through"),
    (SchoolPhase.PRU.value, "Pupil referral unit"),
]


class Phase(models.Model):
    code = models.CharField(max_length=20, unique=True, choices=CATALOGUE_PHASES)
    name = models.CharField(max_length=60)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name
