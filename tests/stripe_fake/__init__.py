"""A Stripe-compatible fake server on loopback, for tests, benchmarks and browser tests.

The real `stripe` SDK (16.x) talks to it over HTTP/1.1 with keep-alive; nothing reaches Stripe.
It uses only the standard library: a threaded `http.server` and in-memory state behind one lock.

What it implements (Stripe's v1 JSON shapes, form-encoded parameters, `Authorization: Bearer sk_test_...`):

- Accounts: `POST /v1/accounts`, `GET /v1/accounts[/{id}]`, `POST /v1/accounts/{id}`. A new account has
  `capabilities.transfers == "inactive"`, `payouts_enabled` and `details_submitted` false.
- Account links: `POST /v1/account_links` gives a single-use `url` on the fake (`/onboarding/<token>`);
  opening it onboards the account (as `complete_onboarding`) and redirects to `return_url`
  (to `refresh_url` once used or expired).
- Transfers: `POST /v1/transfers` (`amount` integer >= 1, `currency`, `destination` onboarded, else a 400
  naming `destination`), `GET`/`POST /v1/transfers/{id}`, `GET /v1/transfers` (`limit`, `starting_after`,
  `ending_before`, `destination`, `transfer_group`). Each takes the platform's balance (a transfer above
  it is a 400 `balance_insufficient`) and credits the connected account's.
- Reversals: `POST`/`GET /v1/transfers/{id}/reversals` (`amount` defaults to the rest),
  `GET /v1/transfers/{id}/reversals/{id}`; the money goes back to the platform.
- Balance: `GET /v1/balance` (the platform's, or a connected account's with `Stripe-Account`).
- Events: `GET /v1/events` (newest first; `type` accepts `transfer.*`), `GET /v1/events/{id}`.
  Emitted: `account.updated`, `transfer.created`, `transfer.updated`, `transfer.reversed`.
- Errors in Stripe's envelope `{"error": {"type", "code", "message", "param"}}`: 400 for bad or unknown
  parameters (naming them), 404 `resource_missing`, 401 without a test key, 403 for an unknown
  `Stripe-Account`.
- Idempotency as Stripe does it (the SDK sends an `Idempotency-Key` on every POST; give yours with
  `options={"idempotency_key": ...}`): the same key with the same parameters replays the first answer,
  status and body, with `Idempotent-Replayed: true` and acts no more; another endpoint or other parameters
  give a 400 `idempotency_error` (`stripe.IdempotencyError`); a key whose request is still running gives a
  409 `idempotency_key_in_use`. As at Stripe, an answer is kept once the endpoint began executing: errors
  such as `balance_insufficient` or `insufficient_capabilities_for_transfer` are replayed too, so after
  such a failure a new attempt needs a new key. Parameter validation errors, injected failures and 500s
  from the fake's own bugs are not kept.
- Webhooks: every event is POSTed, from a background thread, to the endpoint set with
  `set_webhook_endpoint`, with `Stripe-Signature: t=<now>,v1=<HMAC-SHA256 of "<t>.<body>">` that
  `stripe.Webhook.construct_event(body, header, secret)` accepts; a failed delivery is retried after
  0.05, 0.2 and 0.5 s, then dropped.

Python API (`FakeStripe`; every amount is integer minor units):

    fake = FakeStripe(balance={"eur": 10_000_000}, api_key=None, webhook_url=None,
                      webhook_secret="whsec_...", webhook_retry_delays=(0.05, 0.2, 0.5), webhook_timeout=2.0,
                      clock=time.time, host="127.0.0.1", port=0)
    fake.start() / fake.stop()  (or `with FakeStripe() as fake:`); fake.url == "http://127.0.0.1:<port>"
    http_client = stripe.RequestsClient(timeout=5)  # close() it when done: warnings are errors in tests
    client = stripe.StripeClient("sk_test_...", base_addresses={"api": fake.url}, http_client=http_client,
                                 max_network_retries=0)

    controls:   reset(balance=None), set_balance(amount, currency="eur"), complete_onboarding(account_id),
                restrict_account(account_id), expire_idempotency_keys(), set_webhook_endpoint(url, secret=None),
                redeliver(event_id),
                deliver_with_bad_signature(event_id), wait_for_webhooks(timeout=5.0) -> bool
    faults:     fail_next(n=1, status=500, *, method=None, path=None)
                time_out_next(n=1, seconds=1.0, *, effect="before" | "after" | "none", method=None, path=None)
                lose_response_next(n=1, *, answer="close" | "500", method=None, path=None)
                clear_faults()
                (`path` is a glob on the URL path, e.g. "/v1/transfers*"; the first armed fault that
                matches a request applies to it; `seconds` must exceed the client's timeout)
    inspection: transfers(), transfers_to(destination), transfer(id), reversals(), accounts(), account(id),
                events(type=None), event(id), balance(currency="eur", account=None), counts(),
                requests() -> [RequestRecord], deliveries() -> [Delivery], internal_errors, webhook_secret,
                port, url

`api_key=None` accepts any `sk_test_...` key. A request whose body never fully arrives (a client that
crashed mid-request) is never acted on; it is logged with `fault="cut"`. `reset()` forgets objects, keys,
faults and logs but ids keep increasing, so ids never repeat within one server's life. Ids are deterministic
(`acct_0000000000000001`, `tr_...`); `created` comes from `clock`; signatures use the real time, since
`construct_event` checks their age. Inspection returns copies; an unknown id raises the fake's StripeError.
`python -m tests.stripe_fake --port 12111` runs one in the foreground.
"""

from tests.stripe_fake.faults import Fault
from tests.stripe_fake.server import DEFAULT_WEBHOOK_SECRET, FakeStripe, RequestRecord
from tests.stripe_fake.webhooks import Delivery, signature_header

__all__ = ["DEFAULT_WEBHOOK_SECRET", "Delivery", "FakeStripe", "Fault", "RequestRecord", "signature_header"]
