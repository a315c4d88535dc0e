"""Course dates: when and where a course runs, and how many places it has.

A plain model, not an inline child of the page: publishing, reverting or editing a course page never deletes
or recreates a date, so bookings can point at dates safely (the bookings app's lines use ``on_delete=PROTECT``).

``places_taken`` belongs to the bookings app: it changes only there, inside the booking transaction, with the
row locked (``select_for_update``) or by a conditional UPDATE, and the database refuses more places than the
capacity (the check constraint below). Editors see it but never edit it, and saving an existing date never
writes it (see ``save``), so an edit cannot undo a booking made since the date was read.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import dateformat, timezone


class CourseDateStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class CourseDate(models.Model):
    service = models.ForeignKey(
        "catalogue.CourseServicePage", on_delete=models.PROTECT, related_name="dates", verbose_name="course"
    )
    council = models.ForeignKey(
        "portal.Council",
        on_delete=models.PROTECT,
        related_name="course_dates",
        editable=False,
        help_text="Copied from the course on save.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    venue = models.ForeignKey(
        "catalogue.Venue",
        on_delete=models.PROTECT,
        related_name="course_dates",
        null=True,
        blank=True,
        help_text="Leave empty for a course held online.",
    )
    online_details = models.TextField(
        blank=True, help_text="For online courses: the platform, and when joining instructions are sent."
    )
    capacity = models.PositiveIntegerField(validators=[MinValueValidator(1)], help_text="Places available in total.")
    places_taken = models.PositiveIntegerField(default=0, editable=False)
    booking_opens_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty to open straight away.")
    booking_closes_at = models.DateTimeField(null=True, blank=True, help_text="Leave empty to close at the start.")
    trainer = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=20, choices=CourseDateStatus.choices, default=CourseDateStatus.SCHEDULED)
    price_override = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Net price per place for this date only, replacing the course's price rules. Usually empty.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["council", "starts_at"], name="coursedate_council_start_idx"),
            models.Index(fields=["service", "starts_at"], name="coursedate_service_start_idx"),
            models.Index(fields=["status", "starts_at"], name="coursedate_status_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="coursedate_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="coursedate_capacity_positive"),
            models.CheckConstraint(
                condition=Q(places_taken__lte=F("capacity")), name="coursedate_places_within_capacity"
            ),
            models.CheckConstraint(
                condition=Q(booking_opens_at__isnull=True)
                | Q(booking_closes_at__isnull=True)
                | Q(booking_closes_at__gt=F("booking_opens_at")),
                name="coursedate_booking_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        when = dateformat.format(timezone.localtime(self.starts_at), "j M Y, g:i a")
        where = self.venue.town if self.venue_id else "online"
        return f"{self.service.title} — {when}, {where}"

    def save(self, *args, **kwargs):
        if self.service_id:
            self.council_id = self.service.council_id
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            # An edit writes every column but places_taken: the count it read may already be stale (a booking
            # took a place since), and writing it back would undo that booking. Bookings change it with their
            # own conditional UPDATE; an explicit ``update_fields`` is taken as meant.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "places_taken"
            ]
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must be after the start."
        if self.venue_id is None and not self.online_details.strip():
            errors["online_details"] = "Choose a venue, or say how delegates join online."
        if self.service_id and self.venue_id and self.venue.council_id != self.service.council_id:
            errors["venue"] = "Choose one of the venues of the council that runs this course."
        places_taken = self.current_places_taken()
        # Validate (and let full_clean's constraint check see) the count as it is now, not as it was read:
        # save() never writes it, so this only keeps a stale count from failing the capacity constraint.
        self.places_taken = places_taken
        if self.capacity is not None and self.capacity < places_taken:
            errors["capacity"] = f"{places_taken} places are already taken, so the capacity cannot be lower than that."
        if self.booking_opens_at and self.booking_closes_at and self.booking_closes_at <= self.booking_opens_at:
            errors["booking_closes_at"] = "Booking must close after it opens."
        if self.booking_closes_at and self.starts_at and self.booking_closes_at > self.starts_at:
            errors["booking_closes_at"] = "Booking must close no later than the start of the course."
        if errors:
            raise ValidationError(errors)

    def current_places_taken(self) -> int:
        """Places taken as the database has them now (this instance's count may be older than a booking).

        The admin's edit view holds the row lock while it validates and saves, so the count cannot move
        between this check and the save.
        """
        if self._state.adding or self.pk is None:
            return self.places_taken
        current = type(self).objects.filter(pk=self.pk).values_list("places_taken", flat=True).first()
        return self.places_taken if current is None else current

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.places_taken, 0)

    @property
    def is_online(self) -> bool:
        return self.venue_id is None

    @property
    def is_cancelled(self) -> bool:
        return self.status == CourseDateStatus.CANCELLED

    @property
    def can_be_deleted(self) -> bool:
        """A date that anyone has booked is kept (cancel it instead), so bookings and invoices keep their link."""
        return self.places_taken == 0

    def is_open_for_booking(self, at=None) -> bool:
        at = at or timezone.now()
        if self.status != CourseDateStatus.SCHEDULED or self.places_left == 0:
            return False
        if self.booking_opens_at and at < self.booking_opens_at:
            return False
        closes = self.booking_closes_at or self.starts_at
        return at < closes
