"""Decode Stripe's form-encoded parameters and check them the way the API does."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_INTEGER = re.compile(r"^-?[0-9]+$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class StripeError(Exception):
    """An error answer in Stripe's envelope: `{"error": {"type", "code", "message", "param"}}`."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, stored: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        # Stripe saves an idempotent result only once an endpoint began executing:
        # a request that fails validation can be retried with the same key.
        self.stored = stored

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid(message: str, param: str, code: str | None = None) -> StripeError:
    """Return a validation error naming `param`; its result is never stored for idempotency."""
    return StripeError(400, message, code=code, param=param, stored=False)


def missing(kind: str, identifier: str, param: str = "id", status: int = 404) -> StripeError:
    """Return Stripe's `resource_missing` error for an unknown object."""
    return StripeError(status, f"No such {kind}: '{identifier}'", code="resource_missing", param=param)


def decode_form(text: str) -> dict[str, Any]:
    """Turn `a[b][c]=1&list[0]=x` into nested dicts and lists of strings."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            raise invalid(f"Invalid parameter name: {raw_key}", raw_key)
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":  # `expand[]=x` style list entries
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid hash for parameter: {raw_key}", raw_key)
                node = child
    return _lists_from_indexes(root)


def _lists_from_indexes(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists_from_indexes(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def fingerprint(text: str) -> tuple[tuple[str, str], ...]:
    """Return an order-insensitive identity of a request's parameters."""
    return tuple(sorted(parse_qsl(text, keep_blank_values=True)))


def reject_unknown(params: dict[str, Any], allowed: set[str]) -> None:
    """Refuse parameters the endpoint does not know, as Stripe does."""
    for name in params:
        if name not in allowed:
            raise invalid(f"Received unknown parameter: {name}", name)


def integer(params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None,
            maximum: int | None = None, default: int | None = None) -> int | None:
    """Read an integer parameter: digits only, never a decimal or a float."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid(f"Missing required param: {name}.", name, code="parameter_missing")
        return default
    if not isinstance(raw, str) or not _INTEGER.match(raw):
        raise invalid(f"Invalid integer: {raw}", name, code="parameter_invalid_integer")
    value = int(raw)
    if minimum is not None and value < minimum:
        raise invalid(f"This value must be greater than or equal to {minimum}.", name,
                      code="parameter_invalid_integer")
    if maximum is not None and value > maximum:
        raise invalid(f"This value must be less than or equal to {maximum}.", name,
                      code="parameter_invalid_integer")
    return value


def string(params: dict[str, Any], name: str, *, required: bool = False, choices: tuple[str, ...] = (),
           max_length: int = 5000) -> str | None:
    """Read a string parameter, optionally one of `choices`."""
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid(f"Missing required param: {name}.", name, code="parameter_missing")
        return None
    if not isinstance(raw, str):
        raise invalid(f"Invalid string: {name} must be a string", name)
    if len(raw) > max_length:
        raise invalid(f"Invalid string: {name} is longer than {max_length} characters", name)
    if choices and raw not in choices:
        raise invalid(f"Invalid {name}: must be one of {', '.join(choices)}", name,
                      code="parameter_invalid_string")
    return raw


def boolean(params: dict[str, Any], name: str) -> bool | None:
    """Read a boolean sent as `true` or `false`."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("true", "false"):
        raise invalid(f"Invalid boolean: {raw}", name)
    return raw == "true"


def currency(params: dict[str, Any], name: str = "currency", *, required: bool = True) -> str | None:
    """Read a three-letter ISO currency, answered in lower case as Stripe does."""
    raw = string(params, name, required=required)
    if raw is None:
        return None
    if not _CURRENCY.match(raw):
        raise invalid(f"Invalid currency: {raw}. Stripe currently supports these currencies: eur, usd, gbp, ...",
                      name, code="parameter_invalid_string")
    return raw.lower()


def metadata(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str] | None:
    """Merge a `metadata` parameter into `current`: an empty value unsets a key, `metadata=` clears all."""
    raw = params.get("metadata")
    if raw is None:
        return None
    merged = dict(current or {})
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid hash for parameter: metadata", "metadata")
    for key, value in raw.items():
        if not isinstance(value, str):
            raise invalid(f"Invalid value for metadata[{key}]: must be a string", f"metadata[{key}]")
        if len(key) > 40:
            raise invalid("Metadata keys can have up to 40 characters", f"metadata[{key}]")
        if len(value) > 500:
            raise invalid("Metadata values can have up to 500 characters", f"metadata[{key}]")
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > 50:
        raise invalid("You can have up to 50 metadata keys", "metadata")
    return merged
