"""Where the bookings app listens to lower apps, and plugs itself into them (imported by ``BookingsConfig.ready``).

The catalogue and the portal never import bookings (DESIGN.md's layering), so:

- a council cancelling a course date reaches us through the catalogue's ``course_date_cancelled`` signal,
  sent inside the cancelling transaction: every booking line on the date is cancelled without charge in that
  same transaction, and the schools and delegates are emailed after commit;
- an editor saving a course date (raising its capacity, typically) reaches us through ``post_save``: any free
  place is offered to the waiting list after commit (the periodic offer sweep is the safety net for saves
  that bypass signals, such as ``QuerySet.update``);
- the school dashboard's bookings sections are registered with ``portal.dashboard``;
- the catalogue's "Your price" learns which SLAs a school holds (subscriber prices).
"""

from django.db.models.signals import post_save

from catalogue.events import course_date_cancelled
from catalogue.models import CourseDate
from catalogue.prices import register_subscriptions_lookup

from .selectors import active_subscription_service_ids
from .services.cancellations import on_course_date_cancelled
from .services.waiting_list import on_course_date_saved
from .views import dashboard  # noqa: F401  (registers the dashboard sections on import)

course_date_cancelled.connect(on_course_date_cancelled, dispatch_uid="bookings_cancel_lines_of_cancelled_date")
post_save.connect(on_course_date_saved, sender=CourseDate, dispatch_uid="bookings_offer_places_after_date_saved")
register_subscriptions_lookup(active_subscription_service_ids)
