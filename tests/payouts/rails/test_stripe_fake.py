"""The Stripe fake, driven by the real `stripe.StripeClient` over loopback HTTP."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe

from tests.stripe_fake import FakeStripe

API_KEY = "sk_test_fake_marketplace"
WEBHOOK_SECRET = "whsec_test_marketplace"


@dataclass
class Received:
    """A webhook as the receiver got it: raw body and signature header."""

    body: bytes
    signature: str

    def construct(self, secret: str = WEBHOOK_SECRET) -> stripe.Event:
        return stripe.Webhook.construct_event(self.body, self.signature, secret)


@dataclass
class WebhookReceiver:
    """A tiny loopback endpoint that keeps what it receives; it answers `failures` 500s first."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    failures: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.condition:
            assert self.condition.wait_for(lambda: len(self.received) >= count, timeout), self.received
            return list(self.received)

    def events(self, type_: str) -> list[stripe.Event]:
        with self.condition:
            received = list(self.received)
        return [event for event in (item.construct() for item in received) if event.type == type_]


def _receiver_handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with receiver.condition:
                failing = receiver.failures > 0
                if failing:
                    receiver.failures -= 1
                else:
                    receiver.received.append(Received(body, self.headers.get("Stripe-Signature", "")))
                    receiver.condition.notify_all()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _receiver_handler(receiver))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    yield receiver
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def fake(receiver: WebhookReceiver) -> Iterator[FakeStripe]:
    with FakeStripe(webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET,
                    webhook_retry_delays=(0.01, 0.02)) as server:
        yield server
        assert server.internal_errors == []


def _client(fake: FakeStripe, http_client: stripe.HTTPClient, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": fake.url}, http_client=http_client,
                               max_network_retries=retries)


@pytest.fixture
def http_client(fake: FakeStripe) -> Iterator[stripe.HTTPClient]:
    client = stripe.RequestsClient(timeout=5)
    yield client
    client.close()


@pytest.fixture
def client(fake: FakeStripe, http_client: stripe.HTTPClient) -> stripe.StripeClient:
    return _client(fake, http_client)


def _account(client: stripe.StripeClient, fake: FakeStripe | None = None) -> stripe.Account:
    account = client.v1.accounts.create(params={
        "type": "express", "country": "FR", "email": "lea@example.fr",
        "capabilities": {"transfers": {"requested": True}}, "metadata": {"expert_id": "42"},
    })
    if fake is not None:
        fake.complete_onboarding(account.id)
    return account


def _pay(client: stripe.StripeClient, destination: str, amount: int = 1500, key: str | None = None,
         **extra: Any) -> stripe.Transfer:
    params = {"amount": amount, "currency": "eur", "destination": destination,
              "metadata": {"payout_item": "7"}, **extra}
    return client.v1.transfers.create(params=params, options={"idempotency_key": key} if key else None)


def _open(url: str) -> tuple[int, str | None]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", parts.path)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location")
    finally:
        connection.close()


def test_an_account_link_onboards_the_account_and_a_signed_account_updated_arrives(fake, client, receiver):
    account = _account(client)
    assert account.capabilities["transfers"] == "inactive"
    assert (account.payouts_enabled, account.details_submitted) == (False, False)
    link = client.v1.account_links.create(params={
        "account": account.id, "type": "account_onboarding",
        "refresh_url": "http://127.0.0.1/refresh", "return_url": "http://127.0.0.1/done",
    })
    assert link.object == "account_link" and link.expires_at > link.created

    assert _open(link.url) == (302, "http://127.0.0.1/done")
    assert _open(link.url) == (302, "http://127.0.0.1/refresh")  # links are single-use

    onboarded = client.v1.accounts.retrieve(account.id)
    assert onboarded.capabilities["transfers"] == "active"
    assert (onboarded.payouts_enabled, onboarded.details_submitted) == (True, True)
    event = receiver.wait_for(1)[0].construct()
    assert event.type == "account.updated"
    assert event.account == account.id and event.data.object.id == account.id
    assert event.data.previous_attributes.capabilities.transfers == "inactive"


def test_a_transfer_moves_money_from_the_platform_to_the_connected_account(fake, client, receiver):
    account = _account(client, fake)
    transfer = _pay(client, account.id, 1500, transfer_group="batch_1")
    assert transfer.id.startswith("tr_") and transfer.object == "transfer"
    assert (transfer.amount, transfer.currency, transfer.livemode) == (1500, "eur", False)
    assert transfer.metadata.to_dict() == {"payout_item": "7"}
    available = client.v1.balance.retrieve().available
    assert [(entry.amount, entry.currency) for entry in available] == [(10_000_000 - 1500, "eur")]
    connected = client.v1.balance.retrieve(options={"stripe_account": account.id})
    assert connected.available[0].amount == 1500
    assert fake.transfers_to(account.id)[0]["id"] == transfer.id
    assert receiver.wait_for(2)[-1].construct().type == "transfer.created"


def test_a_transfer_to_an_account_without_transfers_is_refused_naming_destination(fake, client):
    account = _account(client)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _pay(client, account.id)
    assert refused.value.param == "destination"
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        _pay(client, "acct_nobody")
    assert (unknown.value.param, unknown.value.code) == ("destination", "resource_missing")
    fake.complete_onboarding(account.id)
    fake.restrict_account(account.id)
    with pytest.raises(stripe.InvalidRequestError) as restricted:
        _pay(client, account.id)
    assert restricted.value.param == "destination"
    assert fake.transfers() == [] and fake.balance() == 10_000_000


@pytest.mark.parametrize(("params", "param"), [
    ({"currency": "eur"}, "amount"),
    ({"amount": 10.5, "currency": "eur"}, "amount"),
    ({"amount": 0, "currency": "eur"}, "amount"),
    ({"amount": 100}, "currency"),
    ({"amount": 100, "currency": "eur", "colour": "blue"}, "colour"),
])
def test_bad_transfer_parameters_are_refused_naming_the_field(fake, client, params, param):
    account = _account(client, fake)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params={"destination": account.id, **params})
    assert refused.value.http_status == 400 and refused.value.param == param
    assert fake.transfers() == []


def test_an_unknown_object_is_resource_missing_and_a_live_key_is_refused(fake, client, http_client):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.transfers.retrieve("tr_missing")
    assert (missing.value.http_status, missing.value.code, missing.value.param) == (404, "resource_missing", "id")
    live = stripe.StripeClient("sk_live_nope", base_addresses={"api": fake.url}, http_client=http_client)
    with pytest.raises(stripe.AuthenticationError):
        live.v1.balance.retrieve()


def test_the_same_key_with_the_same_parameters_replays_the_first_transfer(fake, client):
    account = _account(client, fake)
    first = _pay(client, account.id, key="payout-item-7")
    again = _pay(client, account.id, key="payout-item-7")
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(fake.transfers()) == 1 and fake.balance() == 10_000_000 - 1500


def test_the_same_key_with_other_parameters_is_an_idempotency_error(fake, client):
    account = _account(client, fake)
    _pay(client, account.id, 1500, key="payout-item-7")
    with pytest.raises(stripe.IdempotencyError):
        _pay(client, account.id, 1600, key="payout-item-7")
    assert len(fake.transfers()) == 1


def test_concurrent_requests_with_one_key_make_one_transfer(fake, client):
    account = _account(client, fake)
    ids: list[str] = []

    def pay() -> None:
        http_client = stripe.RequestsClient(timeout=5)
        try:
            ids.append(_pay(_client(fake, http_client), account.id, key="payout-item-7").id)
        finally:
            http_client.close()

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1 and len(fake.transfers()) == 1


def test_an_injected_500_is_an_api_error_and_nothing_is_kept_for_the_key(fake, client):
    account = _account(client, fake)
    fake.fail_next(1, method="POST", path="/v1/transfers")
    client.v1.balance.retrieve()  # another path: not affected
    with pytest.raises(stripe.APIError) as failed:
        _pay(client, account.id, key="payout-item-7")
    assert failed.value.http_status == 500 and fake.transfers() == []
    assert _pay(client, account.id, key="payout-item-7").id == fake.transfers()[0]["id"]


@pytest.mark.parametrize(("answer", "error"), [("close", stripe.APIConnectionError), ("500", stripe.APIError)])
def test_a_lost_answer_is_an_error_and_the_retry_with_the_key_gets_the_same_transfer(fake, client, answer, error):
    account = _account(client, fake)
    fake.lose_response_next(answer=answer, path="/v1/transfers")
    with pytest.raises(error):
        _pay(client, account.id, key="payout-item-7")
    assert len(fake.transfers()) == 1  # it took effect
    retried = _pay(client, account.id, key="payout-item-7")
    assert retried.id == fake.transfers()[0]["id"] and len(fake.transfers()) == 1


def test_the_sdk_retrying_a_lost_answer_gets_the_first_transfer(fake, http_client):
    client = _client(fake, http_client, retries=1)
    account = _account(client, fake)
    fake.lose_response_next(path="/v1/transfers")
    transfer = _pay(client, account.id)  # the SDK's own key, the same on its retry
    assert transfer.id == fake.transfers()[0]["id"] and len(fake.transfers()) == 1
    assert [record.replayed for record in fake.requests() if record.path == "/v1/transfers"] == [False, True]


@pytest.mark.parametrize("effect", ["before", "after", "none"])
def test_a_timeout_is_a_connection_error_and_the_retry_with_the_key_is_safe(fake, client, effect):
    account = _account(client, fake)
    # held well past the client's 0.2 s; with "after", long enough for the retry below to meet it running
    fake.time_out_next(seconds=1.0 if effect == "after" else 0.5, effect=effect, path="/v1/transfers")
    impatient = stripe.RequestsClient(timeout=0.2)
    try:
        with pytest.raises(stripe.APIConnectionError):
            _pay(_client(fake, impatient), account.id, key="payout-item-7")
    finally:
        impatient.close()
    if effect == "after":  # the first request is still running: Stripe answers 409, try again later
        with pytest.raises(stripe.APIError) as busy:
            _pay(client, account.id, key="payout-item-7")
        assert busy.value.http_status == 409
        assert busy.value.json_body["error"]["code"] == "idempotency_key_in_use"
        _wait_until(lambda: fake.transfers() != [])
    retried = _pay(client, account.id, key="payout-item-7")
    assert [t["id"] for t in fake.transfers()] == [retried.id]


def _wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_transfer_above_the_balance_is_balance_insufficient_and_its_answer_is_kept(fake, client):
    account = _account(client, fake)
    fake.set_balance(1000)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        _pay(client, account.id, 1001, key="payout-item-7")
    assert refused.value.code == "balance_insufficient" and fake.transfers() == []
    fake.set_balance(5000)
    with pytest.raises(stripe.InvalidRequestError):  # Stripe replays a kept error: a new attempt needs a new key
        _pay(client, account.id, 1001, key="payout-item-7")
    assert _pay(client, account.id, 1001, key="payout-item-7-attempt-2").amount == 1001


def test_a_reversal_gives_the_money_back_and_emits_transfer_reversed(fake, client, receiver):
    account = _account(client, fake)
    transfer = _pay(client, account.id, 1500)
    partial = client.v1.transfers.reversals.create(transfer.id, params={"amount": 500})
    assert partial.id.startswith("trr_") and partial.transfer == transfer.id
    rest = client.v1.transfers.reversals.create(transfer.id)
    assert rest.amount == 1000
    reversed_ = client.v1.transfers.retrieve(transfer.id)
    assert (reversed_.amount_reversed, reversed_.reversed) == (1500, True)
    assert fake.balance() == 10_000_000 and fake.balance(account=account.id) == 0
    listed = client.v1.transfers.reversals.list(transfer.id)
    assert [r.id for r in listed.data] == [rest.id, partial.id]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.reversals.create(transfer.id, params={"amount": 1})
    assert refused.value.param == "amount"
    assert fake.wait_for_webhooks()
    reversals = receiver.events("transfer.reversed")
    assert [event.data.object.amount_reversed for event in reversals] == [500, 1500]


def test_transfers_and_events_are_listed_newest_first_in_pages(fake, client):
    account = _account(client, fake)
    made = [_pay(client, account.id, 100 + n, transfer_group="batch_a" if n % 2 else "batch_b").id
            for n in range(5)]
    page = client.v1.transfers.list(params={"limit": 2})
    assert [t.id for t in page.data] == made[::-1][:2] and page.has_more
    following = client.v1.transfers.list(params={"limit": 2, "starting_after": page.data[-1].id})
    assert [t.id for t in following.data] == made[::-1][2:4]
    assert [t.id for t in page.auto_paging_iter()] == made[::-1]
    group = client.v1.transfers.list(params={"transfer_group": "batch_a"})
    assert [t.id for t in group.data] == [made[3], made[1]] and not group.has_more
    events = client.v1.events.list(params={"type": "transfer.created", "limit": 3})
    assert [e.data.object.id for e in events.data] == made[::-1][:3]
    assert client.v1.events.retrieve(events.data[0].id).type == "transfer.created"
    assert [e.type for e in client.v1.events.list(params={"type": "account.*"}).data] == ["account.updated"]


def test_a_webhook_with_a_bad_signature_is_rejected_by_construct_event(fake, client, receiver):
    _account(client, fake)
    event = receiver.wait_for(1)[0].construct()
    fake.deliver_with_bad_signature(event.id)
    forged = receiver.wait_for(2)[1]
    assert json.loads(forged.body)["id"] == event.id
    with pytest.raises(stripe.SignatureVerificationError):
        forged.construct()


def test_a_duplicate_delivery_arrives_twice_with_the_same_event_id(fake, client, receiver):
    _account(client, fake)
    event = receiver.wait_for(1)[0].construct()
    fake.redeliver(event.id)
    assert [item.construct().id for item in receiver.wait_for(2)] == [event.id, event.id]


def test_a_failed_delivery_is_retried_then_dropped(fake, client, receiver):
    receiver.failures = 1
    account = _account(client, fake)
    assert receiver.wait_for(1)[0].construct().data.object.id == account.id
    assert fake.wait_for_webhooks()
    assert [(d.attempt, d.status) for d in fake.deliveries()] == [(1, 500), (2, 200)]
    receiver.failures = 3
    fake.redeliver(fake.events()[0]["id"])
    assert fake.wait_for_webhooks()
    assert [d.status for d in fake.deliveries()[2:]] == [500, 500, 500]


def test_a_request_cut_short_by_a_crashing_client_does_nothing(fake, client):
    account = _account(client, fake)
    body = f"amount=1500&currency=eur&destination={account.id}".encode()
    with socket.create_connection(("127.0.0.1", fake.port), timeout=5) as crashing:
        crashing.sendall(b"POST /v1/transfers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:-3])
    _wait_until(lambda: [r.fault for r in fake.requests()][-1:] == ["cut"])
    assert client.v1.transfers.list().data == [] and fake.counts()["transfers"] == 0


def test_reset_forgets_objects_keys_and_faults_and_refills_the_balance(fake, client):
    account = _account(client, fake)
    _pay(client, account.id, key="payout-item-7")
    fake.fail_next(5)
    fake.reset()
    assert fake.counts() == {"accounts": 0, "transfers": 0, "reversals": 0, "events": 0, "requests": 0,
                             "idempotency_keys": 0}
    assert fake.balance() == 10_000_000
    account = _account(client, fake)
    assert _pay(client, account.id, key="payout-item-7").destination == account.id
