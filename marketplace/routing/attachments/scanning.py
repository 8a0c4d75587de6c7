"""Virus scanning through ClamAV's daemon (clamd), with its INSTREAM command over a UNIX socket or TCP.

The protocol is small (send the file in length-prefixed chunks, read one line back), so it is spoken here
rather than through the unmaintained `clamd` package. Only "stream: OK" is clean: a signature found, a file
beyond the daemon's limits (StreamMaxLength answers "INSTREAM size limit exceeded"), a daemon that is down
or answers anything else all refuse the file.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

CHUNK = 64 * 1024
MAX_ANSWER = 4096


@dataclass(frozen=True)
class Verdict:
    clean: bool
    reason: str  # "clean", "infected", "too_large" or "error"
    detail: str  # the daemon's answer (the signature's name when infected), or what went wrong


@dataclass(frozen=True)
class Scanner:
    """A clamd reachable at a UNIX socket path or a (host, port)."""

    socket_path: str | None = None
    address: tuple[str, int] | None = None
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, socket_path: str, address: str, timeout: float) -> Scanner | None:
        """The configured scanner, or None when neither CLAMD_SOCKET nor CLAMD_ADDRESS is set."""
        if socket_path:
            return cls(socket_path=socket_path, timeout=timeout)
        if address:
            host, _, port = address.rpartition(":")
            return cls(address=(host.strip("[]"), int(port)), timeout=timeout)
        return None

    def _connect(self) -> socket.socket:
        if self.socket_path:
            connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connection.settimeout(self.timeout)
                connection.connect(self.socket_path)
            except OSError:
                connection.close()
                raise
            return connection
        assert self.address is not None
        return socket.create_connection(self.address, timeout=self.timeout)

    def scan(self, data: bytes) -> Verdict:
        """Send `data` to clamd and read its verdict; any failure is a refusal, never a pass."""
        try:
            with self._connect() as connection:
                answer = _instream(connection, data)
        except OSError as error:
            return Verdict(False, "error", f"clamd unreachable: {error}")
        return verdict(answer)


def _instream(connection: socket.socket, data: bytes) -> str:
    connection.sendall(b"zINSTREAM\0")
    try:
        for start in range(0, len(data), CHUNK):
            chunk = data[start:start + CHUNK]
            connection.sendall(struct.pack("!L", len(chunk)) + chunk)
        connection.sendall(struct.pack("!L", 0))
    except (BrokenPipeError, ConnectionResetError):
        # clamd stops reading and answers once the stream passes StreamMaxLength: its answer is still there.
        pass
    answer = b""
    while not answer.endswith(b"\0") and len(answer) < MAX_ANSWER:
        part = connection.recv(MAX_ANSWER)
        if not part:
            break
        answer += part
    return answer.rstrip(b"\0").decode("utf-8", "replace").strip()


def verdict(answer: str) -> Verdict:
    """What clamd's answer to INSTREAM means."""
    if answer == "stream: OK":
        return Verdict(True, "clean", answer)
    if answer.startswith("stream: ") and answer.endswith(" FOUND"):
        return Verdict(False, "infected", answer[len("stream: "):-len(" FOUND")])
    if "size limit exceeded" in answer.lower():
        return Verdict(False, "too_large", answer)
    return Verdict(False, "error", answer or "no answer")
