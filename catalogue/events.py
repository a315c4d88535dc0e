"""Signals the catalogue sends for higher apps to act on (the catalogue never imports them).

``course_date_cancelled`` is sent inside the cancelling transaction, with ``course_date`` and ``user``; a
receiver that sends email must enqueue it with ``transaction.on_commit``.
"""

from django.dispatch import Signal

course_date_cancelled = Signal()
