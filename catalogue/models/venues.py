"""Venues where a council runs its courses. Each venue belongs to one council; editors see only their own."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.search import index


class Venue(index.Indexed, models.Model):
    council = models.ForeignKey("portal.Council", on_delete=models.PROTECT, related_name="venues")
    name = models.CharField(max_length=120)
    address_line_1 = models.CharField(max_length=120)
    address_line_2 = models.CharField(max_length=120, blank=True)
    town = models.CharField(max_length=80, db_index=True)
    postcode = models.CharField(max_length=10)
    accessibility_notes = models.TextField(
        blank=True, help_text="Step-free access, hearing loop, parking for disabled visitors, and so on."
    )

    panels = [
        FieldPanel("council"),
        FieldPanel("name"),
        FieldPanel("address_line_1"),
        FieldPanel("address_line_2"),
        FieldPanel("town"),
        FieldPanel("postcode"),
        FieldPanel("accessibility_notes"),
    ]
    search_fields = [index.SearchField("name"), index.SearchField("town"), index.FilterField("council")]

    class Meta:
        ordering = ["town", "name"]
        constraints = [models.UniqueConstraint(fields=["council", "name"], name="venue_name_unique_per_council")]

    def __str__(self) -> str:
        return f"{self.name}, {self.town}"

    @property
    def address_lines(self) -> list[str]:
        return [
            part for part in (self.name, self.address_line_1, self.address_line_2, self.town, self.postcode) if part
        ]
