"""Run a fake Graph in the foreground: `python -m tests.fake_graph [--port 12180] [--webhook URL]`.

It starts with one WhatsApp number (with the template `hello_world`, en_US) and one Messenger page, and prints
their ids, tokens and secrets; point `WHATSAPP_GRAPH_BASE` and `MESSENGER_GRAPH_BASE` at the address it prints.
"""

from __future__ import annotations

import argparse
import contextlib
import threading

from tests.fake_graph.server import FakeGraph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=12180)
    parser.add_argument("--webhook", default=None, help="the app's webhook URL for both accounts")
    parser.add_argument("--phone-number-id", default=None)
    parser.add_argument("--page-id", default=None)
    parser.add_argument("--access-token", default=None, help="one token for both accounts")
    parser.add_argument("--app-secret", default=None, help="one app secret for both accounts")
    options = parser.parse_args()
    credentials = {"access_token": options.access_token, "app_secret": options.app_secret,
                   "webhook_url": options.webhook}
    with FakeGraph(port=options.port) as fake:
        number = fake.add_whatsapp_number(options.phone_number_id, **credentials)
        fake.add_template(number, "hello_world", "en_US")
        page = fake.add_messenger_page(options.page_id, **credentials)
        print(f"fake Graph at {fake.graph_base}; Ctrl+C stops it", flush=True)
        print(f"whatsapp: {number}", flush=True)
        print(f"messenger: {page}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
