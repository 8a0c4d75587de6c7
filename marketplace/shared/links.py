"""Links for e-mails and notifications, which are also written outside requests (jobs, the command line)."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values: object) -> str:
    """The path of an endpoint, inside a request or not."""
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def absolute_url(endpoint: str, **values: object) -> str:
    """The full address of an endpoint: from the request, or from PUBLIC_URL in jobs and commands."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return (current_app.config.get("PUBLIC_URL") or "") + path_for(endpoint, **values)
