"""Paying councils what the partnership's Stripe account collected for them: an interface and two providers.

``PayoutProvider.transfer`` sends one settlement's amount to a council's account and must be idempotent by the
settlement id: asking twice for the same settlement returns the first transfer and moves no more money.

- ``FakePayoutProvider`` records transfers in memory (tests, demos, and ``make run``: the local fake Stripe server
  has no Connect).
- ``StripeConnectPayoutProvider`` is the live implementation on Stripe Connect (``client.v1.transfers``). It cannot
  run here: localstripe has no Connect accounts or transfers, so it has no test against a server. What a live
  set-up needs is in the README (billing section): each council onboarded as a connected account, its account id in
  ``BILLING_PAYOUT_ACCOUNTS``, and ``BILLING_PAYOUT_PROVIDER`` set to ``stripe_connect``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import stripe
from django.conf import settings

from billing.gateway import CURRENCY, translate_stripe_error
from portal.models import Council


@dataclass(frozen=True)
class TransferResult:
    id: str
    amount_pence: int
    destination: str
    status: str = "paid"


@runtime_checkable
class PayoutProvider(Protocol):
    def transfer(
        self, *, settlement_id: int, amount_pence: int, destination: str, description: str = ""
    ) -> TransferResult:
        """Send ``amount_pence`` to ``destination`` once per settlement id (a repeat returns the first transfer)."""


def destination_for(council: Council) -> str:
    """The council's payout account: ``BILLING_PAYOUT_ACCOUNTS[la_code]``, or a fake one when none is set."""
    accounts = getattr(settings, "BILLING_PAYOUT_ACCOUNTS", None) or {}
    return accounts.get(council.la_code, f"acct_fake_{council.la_code}")


class FakePayoutProvider:
    """Transfers recorded in memory, keyed by settlement id: a repeat returns the same transfer."""

    def __init__(self) -> None:
        self.transfers: dict[int, TransferResult] = {}
        self.calls: list[int] = []
        self._lock = threading.Lock()

    def transfer(
        self, *, settlement_id: int, amount_pence: int, destination: str, description: str = ""
    ) -> TransferResult:
        if not isinstance(amount_pence, int) or amount_pence <= 0:
            raise ValueError("a transfer must be a positive whole number of pence")
        with self._lock:
            self.calls.append(settlement_id)
            existing = self.transfers.get(settlement_id)
            if existing is not None:
                return existing
            result = TransferResult(
                id=f"tr_fake_{settlement_id:06d}", amount_pence=amount_pence, destination=destination
            )
            self.transfers[settlement_id] = result
            return result

    @property
    def total_pence(self) -> int:
        return sum(transfer.amount_pence for transfer in self.transfers.values())


class StripeConnectPayoutProvider:
    """Stripe Connect transfers from the platform (partnership) balance to a council's connected account.

    NOT RUNNABLE HERE: the local fake Stripe server has no Connect, so this class is exercised only against a live
    Stripe test account. Stripe's own idempotency key (``settlement:<id>``) makes a retried transfer safe.
    """

    def __init__(self, *, api_key: str, api_base: str | None = None):
        base_addresses = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(api_key, base_addresses=base_addresses, max_network_retries=2)

    def transfer(
        self, *, settlement_id: int, amount_pence: int, destination: str, description: str = ""
    ) -> TransferResult:
        params = {
            "amount": amount_pence,
            "currency": CURRENCY,
            "destination": destination,
            "description": description[:500],
            "transfer_group": f"settlement:{settlement_id}",
            "metadata": {"portal_settlement_id": str(settlement_id)},
        }
        try:
            transfer = self.client.v1.transfers.create(
                params=params, options={"idempotency_key": f"settlement:{settlement_id}"}
            )
        except stripe.StripeError as error:
            raise translate_stripe_error(error) from error
        return TransferResult(id=transfer.id, amount_pence=int(transfer.amount), destination=destination)


_override: PayoutProvider | None = None
_fake = FakePayoutProvider()


def get_payout_provider() -> PayoutProvider:
    """The configured provider: an override (tests), Stripe Connect when configured, else the in-memory fake."""
    if _override is not None:
        return _override
    if getattr(settings, "BILLING_PAYOUT_PROVIDER", "fake") == "stripe_connect":
        return StripeConnectPayoutProvider(api_key=settings.STRIPE_SECRET_KEY, api_base=settings.STRIPE_API_BASE)
    return _fake


@contextlib.contextmanager
def override_payout_provider(provider: PayoutProvider) -> Iterator[PayoutProvider]:
    global _override
    previous, _override = _override, provider
    try:
        yield provider
    finally:
        _override = previous
