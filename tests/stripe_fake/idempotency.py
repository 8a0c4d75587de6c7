"""Stripe's idempotency layer: the first answer for a key is kept and replayed."""

from __future__ import annotations

from dataclasses import dataclass

from tests.stripe_fake.params import StripeError


@dataclass
class Saved:
    """The first request made with a key, and its answer once it has one."""

    method: str
    path: str
    fingerprint: tuple[tuple[str, str], ...]
    request_id: str
    status: int = 0
    body: bytes = b""
    in_flight: bool = True


class IdempotencyKeys:
    """Saved answers by (connected account, key). The caller holds the server's lock."""

    def __init__(self) -> None:
        self._saved: dict[tuple[str | None, str], Saved] = {}

    def lookup(self, account: str | None, key: str, method: str, path: str,
               fingerprint: tuple[tuple[str, str], ...]) -> Saved | None:
        """Return the saved answer to replay, None for a new key, or raise as Stripe does on misuse."""
        saved = self._saved.get((account, key))
        if saved is None:
            return None
        if saved.in_flight:
            raise StripeError(409, "There is currently another in-progress request using this Stripe-Account, "
                              f"Idempotency-Key '{key}'. Try the request again later.",
                              code="idempotency_key_in_use", stored=False)
        if (saved.method, saved.path) != (method, path):
            raise StripeError(400, "Keys for idempotent requests can only be used for the same endpoint they "
                              f"were first used for ('{saved.method} {saved.path}' vs '{method} {path}'). "
                              f"Try using a key other than '{key}' if you meant to execute a different request.",
                              type="idempotency_error", stored=False)
        if saved.fingerprint != fingerprint:
            raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters they "
                              f"were first used with. Try using a key other than '{key}' if you meant to "
                              "execute a different request.", type="idempotency_error", stored=False)
        return saved

    def begin(self, account: str | None, key: str, saved: Saved) -> None:
        self._saved[(account, key)] = saved

    def finish(self, account: str | None, key: str, status: int, body: bytes) -> None:
        saved = self._saved[(account, key)]
        saved.status, saved.body, saved.in_flight = status, body, False

    def forget(self, account: str | None, key: str) -> None:
        self._saved.pop((account, key), None)

    def clear(self) -> None:
        self._saved.clear()

    def __len__(self) -> int:
        return len(self._saved)
