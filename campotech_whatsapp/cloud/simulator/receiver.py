"""A small webhook endpoint on loopback: what the addon's controller does, minus Odoo.

It answers Meta's GET handshake, checks each POST's X-Hub-Signature-256
over the raw bytes, parses the body with events.parse_webhook and keeps
everything it saw. The demo and the tests use it as the "business side".
"""

import dataclasses
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from .. import constants as C
from ..events import WebhookPayloadError, parse_webhook
from ..webhook import SignatureError, check_signature, verify_challenge
from .loopback import LoopbackServer


@dataclasses.dataclass
class Received:
    """One POST as it arrived, and what came of it."""

    raw: bytes
    signature: str | None
    answer: int
    batch: object = None  # events.WebhookBatch when accepted
    error: str | None = None


class WebhookReceiver(LoopbackServer):
    """Collects signed webhooks; ``fail_next`` makes it answer errors for retry tests."""

    OWNER_ATTR = "receiver"
    THREAD_NAME = "sim-receiver"

    def _handler_class(self):
        return _Handler

    def __init__(self, app_secret, verify_token=None, host="127.0.0.1", port=0,
                 path="/whatsapp/webhook"):
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.host, self._port, self.path = host, port, path
        self.received = []
        self._failures = []
        self._cond = threading.Condition()

    # --- lifecycle -------------------------------------------------------------
    @property
    def url(self):
        return "http://%s:%d%s" % (self.host, self._server.server_address[1], self.path)

    # --- behaviour -------------------------------------------------------------
    def fail_next(self, count=1, status=500):
        """Answer the next ``count`` POSTs with ``status`` instead of handling them."""
        with self._cond:
            self._failures.extend([int(status)] * int(count))

    def _take_failure(self):
        with self._cond:
            return self._failures.pop(0) if self._failures else None

    def handle_post(self, raw, signature):
        failure = self._take_failure()
        if failure is not None:
            item = Received(raw, signature, failure, error="scripted failure")
        else:
            try:
                check_signature(raw, signature, self.app_secret)
                item = Received(raw, signature, 200, batch=parse_webhook(raw))
            except SignatureError as exc:
                item = Received(raw, signature, 403, error="signature: %s" % exc)
            except WebhookPayloadError as exc:
                item = Received(raw, signature, 400, error="payload: %s" % exc)
        with self._cond:
            self.received.append(item)
            self._cond.notify_all()
        return item.answer

    # --- reading ---------------------------------------------------------------
    def accepted(self):
        with self._cond:
            return [item for item in self.received if item.batch is not None]

    def messages(self):
        return [m for item in self.accepted() for m in item.batch.messages()]

    def statuses(self, wamid=None):
        return [s for item in self.accepted() for s in item.batch.statuses()
                if wamid is None or s.id == wamid]

    def template_updates(self):
        return [u for item in self.accepted() for u in item.batch.template_updates()]

    def wait_for(self, predicate, timeout=5.0):
        """Wait until predicate(self) is true; return its last value (falsy on timeout)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                left = deadline - time.monotonic()
                if value or left <= 0:
                    return value
                self._cond.wait(min(left, 0.05))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        receiver = self.server.receiver
        query = dict(parse_qsl(urlsplit(self.path).query))
        challenge = verify_challenge(query.get("hub.mode"), query.get("hub.verify_token"),
                                     query.get("hub.challenge"), receiver.verify_token)
        if challenge is None:
            self._answer(403)
        else:
            self._answer(200, challenge.encode())

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = self.server.receiver.handle_post(raw, self.headers.get(C.SIGNATURE_HEADER))
        self._answer(status)
