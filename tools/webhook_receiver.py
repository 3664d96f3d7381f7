"""A small receiver for the service's signed webhooks: it verifies each message's signature with
the endpoint's secret (Standard Webhooks, the ``standardwebhooks`` package), prints each verified
event as one JSON line, and answers 400 to a message whose signature does not verify.

    python -m tools.webhook_receiver --port 9000 --secret whsec_...

(or the secret in WEBHOOK_SECRET). It drops a repeat of a webhook-id it has already seen (still
answering 204, so the sender stops trying), as a receiver should: delivery is at least once.
``--log FILE`` also appends each verified message (and each rejected one, marked so), as JSON
lines, to FILE. README.md ("Webhooks")
walks through it; the tests and the soak use it too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_BODY = 1024 * 1024


class Receiver(ThreadingHTTPServer):
    """An HTTP server that verifies webhooks; ``verified`` holds each message it accepted (with
    repeats), ``rejected`` counts the ones it refused."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], secret: str, *, log: Path | None = None, quiet: bool = False) -> None:
        super().__init__(address, _Handler)
        self.webhook = Webhook(secret)
        self.secret = secret
        self.log = log
        self.quiet = quiet
        self.verified: list[dict[str, Any]] = []
        self.rejected = 0
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/webhooks"

    def accept(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether the message verifies; a verified one is kept (and printed, and logged)."""
        try:
            event = self.webhook.verify(body, headers)
        except (WebhookVerificationError, ValueError):
            with self.lock:
                self.rejected += 1
                self._write({"rejected": True, "webhook_id": headers.get("webhook-id")})
            return False
        message_id = headers["webhook-id"]
        record = {"webhook_id": message_id, "repeat": message_id in self.seen, "event": event}
        with self.lock:
            self.seen.add(message_id)
            self.verified.append(record)
            self._write(record)
        if not self.quiet:
            print(json.dumps(record, sort_keys=True), flush=True)
        return True

    def _write(self, record: dict[str, Any]) -> None:
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True) + "\n")


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._answer(413, "too large")
            return
        body = self.rfile.read(length)
        headers = {name.lower(): value for name, value in self.headers.items()}
        if self.server.accept(headers, body):
            self._answer(204, "")
        else:
            self._answer(400, "the webhook signature does not verify")

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.webhook_receiver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=9000, help="Port to listen on (default 9000).")
    parser.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET"), help="The whsec_... secret.")
    parser.add_argument("--log", type=Path, help="Also append each verified message to this file (JSON lines).")
    options = parser.parse_args(argv)
    if not options.secret:
        parser.error("give the endpoint's secret with --secret whsec_... or WEBHOOK_SECRET")
    try:
        server = Receiver((options.host, options.port), options.secret, log=options.log)
    except (ValueError, TypeError):
        parser.error("the secret is not a webhook secret: it looks like whsec_ followed by base64")
    print(f"Listening on {server.url} ; Ctrl-C to stop.", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
