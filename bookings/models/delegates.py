"""Who attends a course place. Personal data: kept apart from the line so it can be erased on its own.

Access and dietary needs are special-category-adjacent data shown only to the school and the providing
council's course admins; a periodic task blanks them a set time after the course (``needs_erased_at``
records when), keeping the name and email for the register and certificates.
"""

from django.db import models


class Delegate(models.Model):
    line = models.OneToOneField("bookings.BookingLine", on_delete=models.CASCADE, related_name="delegate")
    name = models.CharField(max_length=120)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=120, blank=True)
    access_needs = models.TextField(blank=True, max_length=1000)
    dietary_needs = models.TextField(blank=True, max_length=1000)
    needs_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_needs(self) -> bool:
        return bool(self.access_needs or self.dietary_needs)
