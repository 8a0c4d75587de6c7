"""The HTTP front of the fake Graph: routes, access tokens, faults and the request log around the two APIs."""

from __future__ import annotations

import hmac
import json
import re
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import parse_qs

from tests.fake_graph import messenger, whatsapp
from tests.fake_graph.errors import GraphFailure
from tests.fake_graph.state import State
from tests.stripe_fake.faults import Fault, Faults
from tests.stripe_fake.transport import Handler, LoopbackServer, Reply

VERSIONED = re.compile(r"/(v\d+\.\d+)/([A-Za-z0-9_.]+)(?:/([a-z_]+))?")


@dataclass
class GraphFault(Fault):
    """A fault with Graph's error: `code` (and `subcode`, `details`) answered instead of acting."""

    status: int | None = None  # None: the code's own HTTP status
    code: int = 131000
    subcode: int | None = None
    details: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """One request as the fake saw it: `code` is the Graph error answered, if any; `fault` the fault applied."""

    method: str
    path: str
    version: str | None
    account_id: str | None
    status: int | None
    code: int | None
    fault: str | None


class Api:
    """Answer requests; the state is guarded by `lock`. `on_sent` runs after each accepted send, outside it."""

    def __init__(self, state: State, on_sent: Callable[[Any], None], hold: Callable[[], None] = lambda: None,
                 release: Callable[[], None] = lambda: None) -> None:
        self.state = state
        self.on_sent = on_sent
        # Between a send's answer and its statuses being queued, the webhook queue is held busy: a test waiting
        # for the webhooks after its send was answered would otherwise find the queue idle and go on.
        self.hold, self.release = hold, release
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.faults = Faults()
        self.log: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self._answered = threading.local()

    def after_answer(self) -> None:
        """Once the answer is written: what follows a send (its statuses), so they never overtake the answer."""
        outcome, self._answered.outcome = getattr(self._answered, "outcome", None), None
        if outcome is not None:
            try:
                self.on_sent(outcome)
            finally:
                self.release()

    def answer(self, method: str, path: str, query: str, body: bytes, headers: Mapping[str, str]) -> Reply | None:
        """Answer one request; None means: close the connection without answering."""
        with self.lock:
            fault = self.faults.take(method, path)
            whatsapp_path = self._is_whatsapp(path)
        if isinstance(fault, GraphFault) and fault.kind == "fail":
            failure = GraphFailure(fault.code, details=fault.details, status=fault.status, subcode=fault.subcode,
                                   whatsapp=whatsapp_path)
            self._log(method, path, None, failure.http_status(), fault.code, "fail")
            return failure.reply()
        if fault is not None and fault.kind == "timeout" and fault.effect == "none":
            self.stopping.wait(fault.seconds)
            self._log(method, path, None, None, None, "timeout")
            return None
        reply, account, outcome = self._act(method, path, query, body, headers)
        if fault is not None and fault.kind == "timeout":
            self.stopping.wait(fault.seconds)
        if outcome is not None:
            self.hold()
        self._answered.outcome = outcome
        code = _code_of(reply)
        self._log(method, path, account, reply.status, code, fault.kind if fault else None)
        return reply

    def cut_short(self, method: str, path: str) -> None:
        self._log(method, path, None, None, None, "cut")

    def internal_error(self) -> Reply:
        self.internal_errors.append(traceback.format_exc())
        return GraphFailure(1).reply()

    def _act(self, method: str, path: str, query: str, body: bytes,
             headers: Mapping[str, str]) -> tuple[Reply, str | None, Any]:
        params = {key: values[-1] for key, values in parse_qs(query).items()}
        token = _bearer(headers) or params.get("access_token")
        with self.lock:
            if method == "GET" and path == "/whatsapp_business/attachments/":
                return self._download(params, token), None, None
            if method == "GET" and path.startswith("/cdn/"):
                return self._cdn(path.removeprefix("/cdn/"), params), None, None
            match = VERSIONED.fullmatch(path)
            if match is None:
                return GraphFailure(100, details=f"Unknown path components: {path}").reply(), None, None
            _version, node, edge = match.groups()
            try:
                if method == "GET" and edge is None and node in self.state.numbers:
                    return self._phone_number(node, token, params.get("fields")), node, None
                if method == "GET" and edge is None:
                    return self._media_info(node, token), node, None
                if method == "POST" and edge in ("messages", "media", "message_attachments"):
                    return self._post(node, edge, token, body, headers)
                raise GraphFailure(100, details=f"Unsupported {method.lower()} request.")
            except GraphFailure as failure:
                return failure.reply(), node, None

    def _post(self, node: str, edge: str, token: str | None, body: bytes,
              headers: Mapping[str, str]) -> tuple[Reply, str | None, Any]:
        account = self.state.account(node)
        if account is None:
            raise _no_such_object(node, "post")
        _authorize(account.access_token, token, whatsapp=account.channel == "whatsapp")
        if edge == "messages":
            payload = _json(body, whatsapp=account.channel == "whatsapp")
            if account.channel == "whatsapp":
                outcome = whatsapp.send(self.state, account, payload)
                return _ok(outcome.answer), node, outcome
            answer, record = messenger.send(self.state, account, payload)
            return _ok(answer), node, record
        fields, files = parse_form(headers, body)
        if edge == "media" and account.channel == "whatsapp":
            return _ok(whatsapp.upload(self.state, account, fields, files)), node, None
        if edge == "message_attachments" and account.channel == "messenger":
            return _ok(messenger.upload(self.state, account, fields, files)), node, None
        raise _no_such_object(node, "post")

    def _phone_number(self, phone_number_id: str, token: str | None, fields: str | None) -> Reply:
        number = self.state.numbers[phone_number_id]
        _authorize(number.access_token, token, whatsapp=True)
        return _ok(whatsapp.phone_number(number, fields))

    def _media_info(self, media_id: str, token: str | None) -> Reply:
        media = self.state.media.get(media_id)
        owner = self.state.account(media.account_id) if media else None
        if media is None or owner is None or owner.channel != "whatsapp":
            raise _no_such_object(media_id, "get")
        _authorize(owner.access_token, token, whatsapp=True)
        return _ok(whatsapp.media_info(self.state, media))

    def _download(self, params: dict[str, str], token: str | None) -> Reply:
        media = self.state.media.get(params.get("mid", ""))
        owner = self.state.account(media.account_id) if media else None
        try:
            expires = int(params.get("ext", "0"))
        except ValueError:
            expires = 0
        if (media is None or owner is None or expires < self.state.now()
                or not hmac.compare_digest(self.state.url_hash(media.media_id, expires), params.get("hash", ""))):
            return Reply(404, b"URL signature expired or not valid", content_type="text/plain")
        if token is None or not hmac.compare_digest(token, owner.access_token):
            return Reply(401, b"", content_type="text/plain")
        return Reply(200, media.content, content_type=media.mime_type)

    def _cdn(self, media_id: str, params: dict[str, str]) -> Reply:
        media = self.state.media.get(media_id)
        if media is None or not hmac.compare_digest(self.state.url_hash(media_id, 0), params.get("oh", "")):
            return Reply(404, b"", content_type="text/plain")
        return Reply(200, media.content, content_type=media.mime_type)

    def _is_whatsapp(self, path: str) -> bool:
        match = VERSIONED.fullmatch(path)
        account = self.state.account(match.group(2)) if match else None
        return account is None or account.channel == "whatsapp"

    def _log(self, method: str, path: str, account: str | None, status: int | None, code: int | None,
             fault: str | None) -> None:
        match = VERSIONED.fullmatch(path)
        with self.lock:
            self.log.append(RequestRecord(method, path, match.group(1) if match else None, account, status, code,
                                          fault))


def _ok(payload: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(payload).encode())


def _code_of(reply: Reply) -> int | None:
    if reply.status < 400 or reply.content_type != "application/json":
        return None
    return json.loads(reply.body)["error"]["code"]


def _no_such_object(node: str, verb: str) -> GraphFailure:
    return GraphFailure(100, subcode=33, message=(
        f"Unsupported {verb} request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
        "permissions, or does not support this operation."), whatsapp=False)


def _authorize(expected: str, token: str | None, *, whatsapp: bool) -> None:
    if token is None:
        raise GraphFailure(190, message="An active access token must be used to query information about the "
                                        "current user.", whatsapp=whatsapp)
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise GraphFailure(190, message="Invalid OAuth access token - Cannot parse access token",
                           whatsapp=whatsapp)


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _json(body: bytes, *, whatsapp: bool) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise GraphFailure(100, details="The request body is not valid JSON.", whatsapp=whatsapp) from None


def parse_form(headers: Mapping[str, str], body: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The fields and files of a `multipart/form-data` (or url-encoded) body, byte for byte."""
    content_type = Message()
    content_type["Content-Type"] = headers.get("Content-Type") or ""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    if content_type.get_content_type() != "multipart/form-data":
        fields.update({key: values[-1] for key, values in parse_qs(body.decode("utf-8", "replace")).items()})
        return fields, files
    boundary = content_type.get_param("boundary")
    if not isinstance(boundary, str):
        raise GraphFailure(100, details="The multipart body has no boundary.")
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        part = Message()
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            part[name.strip()] = value.strip()
        field = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        content = content.removesuffix(b"\r\n")
        if not isinstance(field, str):
            continue
        if isinstance(filename, str):
            files[field] = (filename, content, part.get("Content-Type", "application/octet-stream"))
        else:
            fields[field] = content.decode("utf-8", "replace")
    return fields, files


class GraphHandler(Handler):
    """The Stripe fake's keep-alive handler, handing the body over as bytes (uploads are binary)."""

    def do_DELETE(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        if len(raw) < length:
            self.server.api.cut_short(method, path)
            self.close_connection = True
            return
        try:
            reply = self.server.api.answer(method, path, query, raw, self.headers)
        except Exception:  # a bug in the fake: answer like Graph's own 500, record it for the tests
            reply = self.server.api.internal_error()
        if reply is None:
            self.close_connection = True
            return
        try:
            self.wfile.write(reply.encode(keep_alive=not self.close_connection))
        except OSError:
            self.close_connection = True
        self.server.api.after_answer()


class GraphServer(LoopbackServer):
    handler_class = GraphHandler
