"""Run a fake Stripe in the foreground: `python -m tests.stripe_fake [--port 12111] [--webhook URL]`."""

from __future__ import annotations

import argparse
import contextlib
import threading

from tests.stripe_fake import FakeStripe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook", default=None, help="URL that receives the signed events")
    parser.add_argument("--webhook-secret", default=None)
    options = parser.parse_args()
    fake = FakeStripe(port=options.port, webhook_url=options.webhook)
    if options.webhook_secret:
        fake.set_webhook_endpoint(options.webhook, options.webhook_secret)
    with fake:
        print(f"fake Stripe at {fake.url} (webhook secret {fake.webhook_secret}); Ctrl+C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
