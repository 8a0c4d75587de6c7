"""What a request carries is read here, once, before any view sees it.

Text loses the control characters no person types (NUL and the rest of C0 and C1, but tab and line
breaks) wherever it comes from: the query string, a form, a JSON body, a Socket.IO event, a path.
JSON is refused, naming the field, where it holds what no column can store: a lone UTF-16 surrogate, a
number beyond 64 bits, NaN or infinity, or nesting deeper than anyone sends.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import socketio.packet
from flask import Flask, abort
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from marketplace.core.text import CONTROL_CHARACTERS, strip_control_characters
from marketplace.database import ID_MAX, INT64_MAX, INT64_MIN
from marketplace.errors import InvalidInput
from marketplace.web.schemas import TOO_LARGE

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 32


class RefusedJSON(ValueError):
    """Valid JSON that holds what the app cannot store; `field` is the dotted path to it."""

    def __init__(self, message: Any, field: str):
        super().__init__(str(message))
        self.message = message
        self.field = field


def _path(parent: str, key: object) -> str:
    return f"{parent}.{key}" if parent else str(key)


def _cleaned(value: Any, field: str, depth: int) -> Any:
    """A decoded JSON value with its text cleaned; raise RefusedJSON at what cannot be stored."""
    if depth > MAX_DEPTH:
        top = field.split(".", 1)[0]  # the field as the caller named it, not thirty indexes into it
        raise RefusedJSON(_l("Nested deeper than %(depth)d levels.", depth=MAX_DEPTH), top or "body")
    if isinstance(value, str):
        if LONE_SURROGATE.search(value):
            raise RefusedJSON(_l("Contains a character that is not valid text."), field or "body")
        return strip_control_characters(value)
    return _cleaned_container(value, field, depth)


def _cleaned_container(value: Any, field: str, depth: int) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise RefusedJSON(TOO_LARGE, field or "body")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RefusedJSON(_l("Use a finite number."), field or "body")
        return value
    if isinstance(value, list):
        return [_cleaned(item, _path(field, index), depth + 1) for index, item in enumerate(value)]
    cleaned: dict[str, Any] = {}
    for key, item in value.items():
        if LONE_SURROGATE.search(key):
            raise RefusedJSON(_l("Contains a character that is not valid text."), field or "body")
        name = strip_control_characters(key)
        cleaned[name] = _cleaned(item, _path(field, name), depth + 1)
    return cleaned


def _refuse_constant(name: str) -> None:
    raise RefusedJSON(_l("Use a finite number."), "body")


def load_json(text: str | bytes, **kwargs: Any) -> Any:
    """Decode JSON as the app accepts it; RefusedJSON (a ValueError) names what it cannot store."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, **kwargs)
    except RecursionError:
        raise RefusedJSON(_l("Nested deeper than %(depth)d levels.", depth=MAX_DEPTH), "body") from None
    return _cleaned(value, "", 0)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, decoding through `load_json`: request bodies and anything else the app reads."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s, **kwargs)


def _cleaned_multidict(values: MultiDict) -> ImmutableMultiDict:
    strip = strip_control_characters
    return ImmutableMultiDict([(strip(key), strip(value) if isinstance(value, str) else value)
                               for key, value in values.items(multi=True)])


class CleanRequest(Request):
    """A request whose query string and form come cleaned, and whose refused JSON answers 422."""

    @property
    def args(self) -> ImmutableMultiDict:  # type: ignore[override]
        if "_clean_args" not in self.__dict__:
            self.__dict__["_clean_args"] = _cleaned_multidict(super().args)
        return self.__dict__["_clean_args"]

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        super()._load_form_data()
        self.__dict__["form"] = _cleaned_multidict(self.__dict__["form"])

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, RefusedJSON):
            raise InvalidInput(e.message, e.field)
        return super().on_json_loading_failed(e)


# What _lenient changes in a text; most texts hold none of it, and one search tells (every Socket.IO packet is cleaned).
_REPAIRED = re.compile(f"{CONTROL_CHARACTERS.pattern}|{LONE_SURROGATE.pattern}")


def _lenient(value: Any) -> Any:
    """Socket.IO's cleaning: a packet that cannot be refused field by field is repaired instead."""
    if isinstance(value, str):
        if not _REPAIRED.search(value):
            return value
        return strip_control_characters(LONE_SURROGATE.sub("\ufffd", value))
    if isinstance(value, list):
        return [_lenient(item) for item in value]
    if isinstance(value, dict):
        return {_lenient(key): _lenient(item) for key, item in value.items()}
    return value


class SocketJSON:
    """The JSON module Socket.IO packets go through: text cleaned as a request's is, a lone surrogate
    replaced (U+FFFD) rather than refused, since a refused packet would drop the connection. Handlers
    validate their payloads' numbers themselves."""

    @staticmethod
    def dumps(*args: Any, **kwargs: Any) -> str:
        return json.dumps(*args, **kwargs)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        return _lenient(json.loads(text, **kwargs))


class SocketPacket(socketio.packet.Packet):
    """Socket.IO's packet, its payload checked for binary parts in one walk: python-socketio's check builds a list at
    every level of every packet it makes (each event sent, each acknowledgement), a twentieth of a relayed message's
    server CPU. Same answer: bytes anywhere in its lists and dict values."""

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        pending = [data]
        while pending:
            item = pending.pop()
            if isinstance(item, bytes | bytearray):
                return True
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                pending.extend(item.values())
        return False


def refuse_unknown_path_values(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A path naming an id beyond 64 bits, or holding a control character, names nothing: 404 before any
    view queries it."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 <= value <= ID_MAX:
            abort(404)
        if isinstance(value, str) and (strip_control_characters(value) != value or LONE_SURROGATE.search(value)):
            abort(404)


def init_app(app: Flask) -> None:
    app.request_class = CleanRequest
    app.json = JSONProvider(app)
    app.url_value_preprocessor(refuse_unknown_path_values)
