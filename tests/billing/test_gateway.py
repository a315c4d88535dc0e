"""The gateway contract, run against StripeGateway + localstripe and against the in-memory fake alike."""

import socket
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from billing.fake_gateway import DECLINED, NEEDS_3DS, SUCCEEDS, InMemoryGateway
from billing.gateway import (
    CardDeclined,
    GatewayMisconfigured,
    GatewayUnavailable,
    NotRefundable,
    PaymentGateway,
    RefundTooLarge,
    StripeGateway,
    get_gateway,
    override_gateway,
)


@dataclass
class Backend:
    name: str
    gateway: PaymentGateway
    three_d_secure_card: Callable[[], str]
    authenticate: Callable[..., None]
    refunds_of: Callable[[str], int]


@pytest.fixture(params=["localstripe", "in-memory"])
def backend(request):
    """Each contract test runs once against localstripe and once against the in-memory fake."""
    if request.param == "localstripe":
        server = request.getfixturevalue("localstripe")
        gateway = request.getfixturevalue("stripe_gateway")
        return Backend(
            name="localstripe",
            gateway=gateway,
            three_d_secure_card=lambda: server.create_card("4000002500003155"),
            authenticate=lambda intent, success=True: server.authenticate(
                intent.id, intent.client_secret, success=success
            ),
            refunds_of=lambda pi: len(server.get(f"/v1/refunds?payment_intent={pi}")["data"]),
        )
    fake = InMemoryGateway()
    return Backend(
        name="in-memory",
        gateway=fake,
        three_d_secure_card=lambda: NEEDS_3DS,
        authenticate=lambda intent, success=True: fake.authenticate(intent.id, success=success),
        refunds_of=lambda pi: sum(1 for r in fake.refunds.values() if r.payment_intent_id == pi),
    )


def _pay(backend, amount=12_345, method=SUCCEEDS, key="basket:1/attempt:1", **metadata):
    customer = backend.gateway.create_customer(name="Severn Valley Academy", email="sbm@severn.example")
    return backend.gateway.create_payment(
        amount_pence=amount,
        customer_id=customer,
        payment_method_id=method,
        idempotency_key=key,
        metadata={"portal_payment_id": "7", "council_893": "12345", **metadata},
    )


@pytest.mark.stripe
def test_gateways_satisfy_the_protocol(backend):
    """Both implementations are PaymentGateways."""
    assert isinstance(backend.gateway, PaymentGateway)


@pytest.mark.stripe
def test_customer_and_setup_intent(backend):
    """A customer per school and a SetupIntent whose client secret the browser confirms."""
    customer = backend.gateway.create_customer(name="Oakfield Primary School", metadata={"school_urn": "123456"})
    assert customer.startswith("cus_")
    intent = backend.gateway.create_setup_intent(customer_id=customer)
    assert intent.id.startswith("seti_") and intent.client_secret.startswith(intent.id)
    assert intent.status == "requires_payment_method"


@pytest.mark.stripe
def test_successful_payment_in_pounds_with_council_breakdown(backend):
    """A good card pays at once, in GBP, and the re-fetched intent says so with our metadata intact."""
    result = _pay(backend)
    assert result.succeeded and not result.requires_action
    assert (result.amount_pence, result.currency) == (12_345, "gbp")
    fetched = backend.gateway.retrieve_payment(result.id)
    assert fetched.succeeded and fetched.amount_received_pence == 12_345
    assert fetched.metadata["council_893"] == "12345" and fetched.metadata["portal_payment_id"] == "7"
    assert fetched.latest_charge_id.startswith("ch_")
    fee = backend.gateway.payment_fee(result.id)
    assert isinstance(fee, int) and fee >= 0


@pytest.mark.stripe
def test_declined_card_raises_card_declined_with_the_intent(backend):
    """A declined card raises CardDeclined with a message for the school and the failed intent to record."""
    with pytest.raises(CardDeclined) as caught:
        _pay(backend, method=DECLINED, key="basket:2/attempt:1")
    error = caught.value
    assert "declined" in error.user_message and "invoice" in error.user_message
    assert error.payment_intent is not None and error.payment_intent.failed
    fetched = backend.gateway.retrieve_payment(error.payment_intent.id)
    assert fetched.status == "requires_payment_method" and fetched.failure_code
    with pytest.raises(NotRefundable):
        backend.gateway.refund(payment_intent_id=fetched.id, amount_pence=1, idempotency_key="refund:declined")


@pytest.mark.stripe
def test_three_d_secure_requires_action_then_succeeds(backend):
    """A 3-D Secure card needs the browser: requires_action with a client secret, then succeeded."""
    result = _pay(backend, method=backend.three_d_secure_card(), key="basket:3/attempt:1")
    assert result.requires_action and result.client_secret
    assert backend.gateway.retrieve_payment(result.id).status == "requires_action"
    backend.authenticate(result)
    assert backend.gateway.retrieve_payment(result.id).succeeded


@pytest.mark.stripe
def test_failed_three_d_secure_leaves_the_payment_unpaid(backend):
    """Failing 3-D Secure sends the intent back to needing a payment method: nothing is taken."""
    result = _pay(backend, method=backend.three_d_secure_card(), key="basket:4/attempt:1")
    backend.authenticate(result, success=False)
    fetched = backend.gateway.retrieve_payment(result.id)
    assert fetched.status == "requires_payment_method" and fetched.refundable_pence == 0


@pytest.mark.stripe
def test_partial_refunds_never_exceed_the_payment(backend):
    """Part refunds are recorded; asking for more than remains is refused before Stripe is asked."""
    result = _pay(backend, amount=10_000, key="basket:5/attempt:1")
    first = backend.gateway.refund(payment_intent_id=result.id, amount_pence=3_000, idempotency_key="refund:5:1")
    assert first.id.startswith("re_") and first.amount_pence == 3_000
    assert backend.gateway.retrieve_payment(result.id).amount_refunded_pence == 3_000
    with pytest.raises(RefundTooLarge) as caught:
        backend.gateway.refund(payment_intent_id=result.id, amount_pence=7_001, idempotency_key="refund:5:2")
    assert "£70.00" in caught.value.user_message or backend.name == "in-memory"
    assert backend.refunds_of(result.id) == 1  # the refused refund never reached the server
    backend.gateway.refund(payment_intent_id=result.id, amount_pence=7_000, idempotency_key="refund:5:3")
    fetched = backend.gateway.retrieve_payment(result.id)
    assert (fetched.amount_refunded_pence, fetched.refundable_pence) == (10_000, 0)
    with pytest.raises(RefundTooLarge):
        backend.gateway.refund(payment_intent_id=result.id, amount_pence=1, idempotency_key="refund:5:4")


@pytest.mark.stripe
def test_wrong_api_key_is_a_configuration_error(localstripe):
    """A key Stripe rejects is GatewayMisconfigured (no retry will help)."""
    gateway = StripeGateway(api_key="sk_", api_base=localstripe.url, max_network_retries=0)
    with pytest.raises(GatewayMisconfigured):
        gateway.create_customer(name="x")


def test_unreachable_stripe_is_retryable_with_a_plain_message():
    """No server at the address: GatewayUnavailable, retryable, telling the school it was not charged."""
    gateway = StripeGateway(api_key="sk_test_x", api_base=f"http://127.0.0.1:{closed_port()}", max_network_retries=0)
    with pytest.raises(GatewayUnavailable) as caught:
        gateway.retrieve_payment("pi_123")
    assert caught.value.retryable and "not been charged" in caught.value.user_message


def test_get_gateway_defaults_to_stripe_and_can_be_overridden(settings):
    """Settings choose Stripe's address; override_gateway swaps the gateway inside a block only."""
    settings.STRIPE_API_BASE = "http://127.0.0.1:1"
    assert isinstance(get_gateway(), StripeGateway)
    fake = InMemoryGateway()
    with override_gateway(fake):
        assert get_gateway() is fake
    assert isinstance(get_gateway(), StripeGateway)


def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
