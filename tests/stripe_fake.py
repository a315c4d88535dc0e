"""The local fake Stripe server (localstripe) for tests: started once per session, emptied per module.

Any test package can use it: ``from tests.stripe_fake import localstripe, stripe_gateway  # noqa: F401`` in
its conftest (tests/billing/conftest.py does). The server runs in a subprocess bound to 127.0.0.1 on the first
free port of LOCALSTRIPE_TEST_PORTS (default 8441-8449), with its state kept in memory: localstripe would
otherwise pickle its whole store to /tmp/localstripe.pickle on every write, which slows it down as data grows
and would mix the state of servers run side by side. It never retries webhooks and sends no refund events.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

SERVER_SCRIPT = """
import sys
import localstripe.resources
localstripe.resources.Store.dump_to_disk = lambda self: None
import localstripe.server
from aiohttp import web
web.run_app(localstripe.server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def _port_range() -> range:
    first, _, last = os.environ.get("LOCALSTRIPE_TEST_PORTS", "8441-8449").partition("-")
    return range(int(first), int(last or first) + 1)


def _free_port() -> int:
    for port in _port_range():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port for localstripe in {_port_range()} (set LOCALSTRIPE_TEST_PORTS)")


class LocalStripe:
    """A running localstripe: its URL, and the two /_config calls tests need."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret_key = "sk_test_localstripe_tests"
        self.publishable_key = "pk_test_localstripe_tests"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> LocalStripe:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", SERVER_SCRIPT, str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"localstripe did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def _request(self, method: str, path: str, payload: dict | None = None) -> int:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1 only
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status

    def clear(self) -> None:
        """Forget every object (customers, intents, refunds ...)."""
        self._request("DELETE", "/_config/data")

    def register_webhook(self, webhook_id: str, *, url: str, secret: str, events: list[str] | None = None) -> None:
        """Have localstripe POST signed events to ``url`` (replaces an earlier webhook of the same id)."""
        payload = {"url": url, "secret": secret}
        if events is not None:
            payload["events"] = events
        self._request("POST", f"/_config/webhooks/{webhook_id}", payload)

    def authenticate(self, payment_intent_id: str, client_secret: str, *, success: bool = True) -> int:
        """What localstripe's Stripe.js does when the card holder passes (or fails) 3-D Secure."""
        body = urllib.parse.urlencode(
            {"key": self.publishable_key, "client_secret": client_secret, "success": "true" if success else "false"}
        ).encode()
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}/v1/payment_intents/{payment_intent_id}/_authenticate", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status

    def create_card(self, number: str) -> str:
        """A card PaymentMethod from a test card number (e.g. 4000002500003155 for 3-D Secure); its id."""
        body = urllib.parse.urlencode(
            {
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}/v1/payment_methods",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.secret_key}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)["id"]

    def get(self, path: str) -> dict:
        """GET an API path as JSON (to look at the fake's state directly)."""
        request = urllib.request.Request(  # noqa: S310
            self.url + path, headers={"Authorization": f"Bearer {self.secret_key}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.load(response)


@pytest.fixture(scope="session")
def localstripe_server():
    """The session's localstripe process."""
    server = LocalStripe().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def localstripe(localstripe_server):
    """localstripe, emptied at the start of each test module (it slows down as its data grows)."""
    localstripe_server.clear()
    return localstripe_server


@pytest.fixture
def stripe_gateway(localstripe, settings):
    """A StripeGateway talking to localstripe, and settings pointing there too (for code using get_gateway)."""
    from billing.gateway import StripeGateway

    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_SECRET_KEY = localstripe.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = localstripe.publishable_key
    return StripeGateway(api_key=localstripe.secret_key, api_base=localstripe.url, max_network_retries=0)
