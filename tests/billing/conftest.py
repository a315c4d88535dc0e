"""Billing fixtures: the local fake Stripe server (from tests/stripe_fake.py) and the in-memory gateway.

Transactional tests here (``transaction=True``) also ask for ``serialized_rollback=True``: their closing flush then
skips post_migrate, which would otherwise recreate content types that the browser tests' serialized rollback
restores next, failing them with duplicate keys when both run in one session (as in CI).
"""

import pytest

from billing.fake_gateway import InMemoryGateway
from billing.gateway import override_gateway
from tests.stripe_fake import localstripe, localstripe_server, stripe_gateway  # noqa: F401 - fixtures


@pytest.fixture
def fake_gateway():
    """An in-memory gateway used by everything in billing for the duration of the test."""
    with override_gateway(InMemoryGateway()) as gateway:
        yield gateway
