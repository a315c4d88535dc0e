"""Where other code plugs into billing: handlers for Stripe event types, and hooks on payment outcomes.

Two registries, both keyed by a string and run in registration order:

- ``stripe_event_handlers``: ``handler(event: StripeEvent) -> None`` for a Stripe event type (e.g.
  ``"payment_intent.succeeded"``). They run in the ``billing.process_stripe_event`` Celery task, after the event
  is stored; they must be idempotent (a task can run twice) and must not trust the payload alone.
- ``payment_hooks``: ``hook(payment: Payment) -> None`` for a payment reaching a status (``"succeeded"``,
  ``"failed"``, ``"refunded"`` ...). They run inside the transaction that records the change, with the payment row
  locked, exactly once per change: so the bookings integration can confirm a booking and issue its receipt
  atomically with the payment, and an exception rolls the whole change back (the webhook task then retries).
  Work that leaves the process (email, PDF) should be enqueued from a hook with ``transaction.on_commit``.

Registering the same function twice for a key is a no-op, so module reloads and repeated ``ready()`` calls
are harmless.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable


class Registry:
    def __init__(self, name: str):
        self.name = name
        self._handlers: dict[str, list[Callable]] = defaultdict(list)

    def register(self, *keys: str) -> Callable[[Callable], Callable]:
        """Decorator: ``@registry.register("payment_intent.succeeded", "payment_intent.payment_failed")``."""

        def decorator(function: Callable) -> Callable:
            for key in keys:
                self.add(key, function)
            return function

        return decorator

    def add(self, key: str, function: Callable) -> None:
        if function not in self._handlers[key]:
            self._handlers[key].append(function)

    def remove(self, key: str, function: Callable) -> None:
        if function in self._handlers.get(key, []):
            self._handlers[key].remove(function)

    def handlers_for(self, key: str) -> list[Callable]:
        return list(self._handlers.get(key, ()))

    def keys(self) -> Iterable[str]:
        return [key for key, handlers in self._handlers.items() if handlers]

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {sorted(self.keys())}>"


stripe_event_handlers = Registry("stripe event handlers")
payment_hooks = Registry("payment status hooks")
