"""The API front: authentication, routing, faults and idempotency around the ledger."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.stripe_fake import routes
from tests.stripe_fake.faults import Fault, Faults
from tests.stripe_fake.idempotency import IdempotencyKeys, Saved
from tests.stripe_fake.ledger import API_VERSION, Caller, Ledger
from tests.stripe_fake.params import StripeError, decode_form, fingerprint
from tests.stripe_fake.transport import Reply


@dataclass(frozen=True)
class RequestRecord:
    """One API request as the fake saw it.

    `status` is the answer the fake computed (None if it never acted). `fault` names the fault applied
    ("fail", "timeout", "lose", or "cut" when the body never fully arrived); the client may then have seen
    something else: an error, a timeout or a closed connection.
    """

    request_id: str
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    account: str | None
    status: int | None
    replayed: bool
    fault: str | None


class Api:
    """Answer requests; everything it holds is guarded by `lock`."""

    def __init__(self, ledger: Ledger, api_key: str | None) -> None:
        self.ledger = ledger
        self.api_key = api_key
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.keys = IdempotencyKeys()
        self.faults = Faults()
        self.log: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self._request_ids = itertools.count(1)

    def answer(self, method: str, path: str, query: str, body: str, headers: Mapping[str, str]) -> Reply | None:
        """Answer one request; None means: close the connection without answering."""
        request_id = f"req_{next(self._request_ids):014d}"
        if path.startswith("/onboarding/"):
            return self._onboarding(path.removeprefix("/onboarding/"))
        text = body if method == "POST" else query
        key = headers.get("Idempotency-Key") if method == "POST" else None
        caller = Caller(headers.get("Stripe-Account") or None, request_id, key)
        found = routes.find(method, path)
        if not self._authorized(headers.get("Authorization", "")):
            error = StripeError(401, "Invalid API Key provided. Use a key that starts with sk_test_.",
                                stored=False)
            return self._refuse(error, caller, method, path, text)
        if found is None:
            error = StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                                stored=False)
            return self._refuse(error, caller, method, path, text)
        with self.lock:
            fault = self.faults.take(method, path)
        if fault is None or fault.kind == "lose" or (fault.kind == "timeout" and fault.effect == "before"):
            reply = self._execute(found, caller, method, path, text, fault)
            if fault is None:
                return reply
            if fault.kind == "timeout":
                self.stopping.wait(fault.seconds)
                return reply
            return None if fault.answer == "close" else self._api_error(500, request_id)
        if fault.kind == "fail":
            status = fault.status
            error = StripeError(status, "An unknown error occurred", type="api_error" if status >= 500
                                else "invalid_request_error", stored=False)
            return self._refuse(error, caller, method, path, text, fault="fail")
        return self._late(found, caller, method, path, text, fault)

    def cut_short(self, method: str, path: str) -> None:
        """Note a request whose body never fully arrived: nothing was done."""
        with self.lock:
            caller = Caller(None, f"req_{next(self._request_ids):014d}")
            self._record(caller, method, path, "", None, fault="cut")

    def internal_error(self) -> Reply:
        """Record a bug in the fake itself and answer Stripe's generic 500."""
        self.internal_errors.append(traceback.format_exc())
        return self._api_error(500, "req_internal")

    def _late(self, found: tuple[routes.Action, tuple[str, ...]], caller: Caller, method: str, path: str,
              text: str, fault: Fault) -> Reply | None:
        """A timeout that takes effect after the wait, or never."""
        if fault.effect == "none":
            self.stopping.wait(fault.seconds)
            with self.lock:
                self._record(caller, method, path, text, None, fault="timeout")
            return None
        with self.lock:
            earlier = self._claim(caller, method, path, text, "timeout")
        if earlier is not None:
            return earlier
        if self.stopping.wait(fault.seconds):
            with self.lock:
                if caller.idempotency_key:
                    self.keys.forget(caller.account, caller.idempotency_key)
            return None
        with self.lock:
            return self._act(found, caller, method, path, text, fault="timeout")

    def _execute(self, found: tuple[routes.Action, tuple[str, ...]], caller: Caller, method: str, path: str,
                 text: str, fault: Fault | None) -> Reply:
        fault_name = fault.kind if fault else None
        with self.lock:
            earlier = self._claim(caller, method, path, text, fault_name)
            return earlier or self._act(found, caller, method, path, text, fault=fault_name)

    def _claim(self, caller: Caller, method: str, path: str, text: str, fault: str | None) -> Reply | None:
        """Take the request's idempotency key, or return the answer already due for it. The caller holds the lock."""
        if not caller.idempotency_key:
            return None
        try:
            saved = self.keys.lookup(caller.account, caller.idempotency_key, method, path, fingerprint(text))
        except StripeError as error:
            return self._refused_locked(error, caller, method, path, text, fault=fault)
        if saved is not None:
            return self._replay(saved, caller, method, path, text, fault=fault)
        self.keys.begin(caller.account, caller.idempotency_key,
                        Saved(method, path, fingerprint(text), caller.request_id or ""))
        return None

    def _act(self, found: tuple[routes.Action, tuple[str, ...]], caller: Caller, method: str, path: str,
             text: str, *, fault: str | None) -> Reply:
        """Run the endpoint and keep its answer for the key. The caller holds the lock."""
        action, ids = found
        store = True
        try:
            if caller.account is not None and caller.account not in self.ledger.accounts:
                raise StripeError(403, f"The provided key does not have access to account '{caller.account}' "
                                  "(or that account does not exist).", code="account_invalid", stored=False)
            status, body = 200, action(self.ledger, caller, decode_form(text), *ids)
        except StripeError as error:
            status, body, store = error.status, error.body(), error.stored
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            status, body, store = 500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}, False
        encoded = json.dumps(body, indent=2).encode()
        if caller.idempotency_key:
            if store:
                self.keys.finish(caller.account, caller.idempotency_key, status, encoded)
            else:
                self.keys.forget(caller.account, caller.idempotency_key)
        self._record(caller, method, path, text, status, fault=fault)
        return Reply(status, encoded, self._headers(caller))

    def _replay(self, saved: Saved, caller: Caller, method: str, path: str, text: str, *,
                fault: str | None = None) -> Reply:
        self._record(caller, method, path, text, saved.status, replayed=True, fault=fault)
        headers = {**self._headers(caller), "Idempotent-Replayed": "true", "Original-Request": saved.request_id}
        return Reply(saved.status, saved.body, headers)

    def _refuse(self, error: StripeError, caller: Caller, method: str, path: str, text: str, *,
                fault: str | None = None) -> Reply:
        with self.lock:
            return self._refused_locked(error, caller, method, path, text, fault=fault)

    def _refused_locked(self, error: StripeError, caller: Caller, method: str, path: str, text: str, *,
                        fault: str | None = None) -> Reply:
        self._record(caller, method, path, text, error.status, fault=fault)
        return Reply(error.status, json.dumps(error.body(), indent=2).encode(), self._headers(caller))

    def _api_error(self, status: int, request_id: str) -> Reply:
        body = {"error": {"type": "api_error", "message": "An unknown error occurred"}}
        return Reply(status, json.dumps(body, indent=2).encode(), {"Request-Id": request_id})

    def _onboarding(self, token: str) -> Reply:
        with self.lock:
            target = self.ledger.follow_account_link(token)
        if target is None:
            return Reply(404, b"<!doctype html><title>Link expired</title><p>This link is not valid.",
                         content_type="text/html; charset=utf-8")
        return Reply(302, b"", {"Location": target}, content_type="text/html; charset=utf-8")

    def _headers(self, caller: Caller) -> dict[str, str]:
        headers = {"Request-Id": caller.request_id or "", "Stripe-Version": API_VERSION}
        if caller.idempotency_key:
            headers["Idempotency-Key"] = caller.idempotency_key
        return headers

    def _record(self, caller: Caller, method: str, path: str, text: str, status: int | None, *,
                replayed: bool = False, fault: str | None = None) -> None:
        try:
            params = decode_form(text)
        except StripeError:
            params = {"": text}
        self.log.append(RequestRecord(caller.request_id or "", method, path, params, caller.idempotency_key,
                                      caller.account, status, replayed, fault))

    def _authorized(self, authorization: str) -> bool:
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                credential = base64.b64decode(credential).decode().partition(":")[0]
            except ValueError:
                return False
        elif scheme.lower() != "bearer":
            return False
        if self.api_key is not None:
            return credential == self.api_key
        return credential.startswith("sk_test_") and len(credential) > len("sk_test_")
