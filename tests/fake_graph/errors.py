"""Graph's error answers: `{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}`."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from tests.stripe_fake.transport import Reply

# code -> (HTTP status, message, details): the titles and details Meta writes for the codes the fake answers.
CATALOG: dict[int, tuple[int, str, str]] = {
    1: (500, "An unknown error occurred", "Invalid request or possible server error."),
    2: (503, "Service temporarily unavailable", "Temporary due to downtime or due to being overloaded."),
    4: (429, "(#4) Application request limit reached", "The app has reached its API call rate limit."),
    10: (403, "(#10) Permission denied", "Permission is either not granted or has been removed."),
    100: (400, "(#100) Invalid parameter", "The request included one or more unsupported or misspelled parameters."),
    190: (401, "Invalid OAuth access token - Cannot parse access token", "The access token is not valid."),
    131000: (500, "(#131000) Something went wrong", "Message failed to send due to an unknown error."),
    131005: (403, "(#131005) Access denied", "Permission is either not granted or has been removed."),
    131008: (400, "(#131008) Required parameter is missing", "The request is missing a required parameter."),
    131009: (400, "(#131009) Parameter value is not valid", "One or more parameter values are invalid."),
    131016: (503, "(#131016) Service unavailable", "A service is temporarily unavailable."),
    131026: (400, "(#131026) Message undeliverable", "Message Undeliverable."),
    131047: (400, "(#131047) Re-engagement message",
             "Message failed to send because more than 24 hours have passed since the customer last replied to "
             "this number."),
    131051: (400, "(#131051) Unsupported message type", "Message type is not currently supported."),
    131053: (400, "(#131053) Media upload error", "Unable to upload the media used in the message."),
    131056: (400, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
             "Too many messages sent from the sender phone number to the same recipient phone number in a short "
             "period of time."),
    130429: (400, "(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    132000: (400, "(#132000) Number of parameters does not match the expected number of params",
             "The number of variable parameter values does not match the template's."),
    132001: (404, "(#132001) Template name does not exist in the translation",
             "The template does not exist in the specified language or has not been approved."),
    80007: (400, "(#80007) Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    613: (400, "(#613) Calls to this api have exceeded the rate limit.", "Too many send requests."),
}
MESSENGER_OUTSIDE_WINDOW = (10, 2018278, "(#10) This message is sent outside of allowed window.")
MESSENGER_NO_USER = (100, 2018001, "(#100) No matching user found")
_TRACE_IDS = itertools.count(1)


@dataclass
class GraphFailure(Exception):
    """A refusal the fake answers with; the catalog gives what the caller leaves out."""

    code: int
    details: str | None = None
    message: str | None = None
    status: int | None = None
    subcode: int | None = None
    whatsapp: bool = True  # WhatsApp errors carry `error_data.messaging_product`

    def title(self) -> str:
        return self.message or CATALOG.get(self.code, (400, f"(#{self.code}) Error", ""))[1]

    def http_status(self) -> int:
        return self.status or CATALOG.get(self.code, (400, "", ""))[0]

    def reply(self) -> Reply:
        error: dict[str, object] = {"message": self.title(), "type": "OAuthException", "code": self.code}
        if self.whatsapp:
            details = self.details or CATALOG.get(self.code, (0, "", ""))[2]
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        elif self.details:
            error["error_data"] = self.details
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = f"AfakeTrace{next(_TRACE_IDS):08d}"
        return Reply(self.http_status(), json.dumps({"error": error}).encode())


def invalid(details: str, code: int = 100, *, whatsapp: bool = True) -> GraphFailure:
    """A parameter refusal naming the parameter in its details, as Graph does."""
    return GraphFailure(code, details=details, whatsapp=whatsapp)
