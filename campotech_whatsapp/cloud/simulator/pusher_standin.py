"""A local stand-in for Pusher's HTTP API (Channels), for the broadcaster's tests.

It answers ``POST /apps/{app_id}/events`` and ``POST /apps/{app_id}/batch_events``
on a loopback port and checks each request as Pusher does before it
records the events:

* the query carries ``auth_key`` (the app's key), ``auth_timestamp`` (within
  600 s of now), ``auth_version=1.0``, ``body_md5`` (MD5 hex of the raw body)
  and ``auth_signature``;
* ``auth_signature`` is the HMAC-SHA256 hex digest, keyed by the app secret,
  of ``"POST\\n{path}\\n{query}"`` where the query is every parameter but the
  signature, keys lower-cased and sorted, joined ``key=value`` with ``&``
  and not URL-escaped (see :func:`string_to_sign`);
* at most 10 events per batch, at most 10 KB of data per event (413),
  channel names of Pusher's alphabet and at most 200 characters.

A wrong signature is 401, a bad request 400, an unknown app 404, as Pusher
answers. ``fail()`` makes it answer 500 and ``hang()`` hold requests, so
tests can show that a failing Pusher never breaks an Odoo transaction.
"""

import hashlib
import hmac
import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from ..broadcast import MAX_BATCH, MAX_DATA_BYTES  # Pusher's limits, as the stand-in enforces them
from .loopback import LoopbackServer

_logger = logging.getLogger(__name__)

TIMESTAMP_WINDOW = 600
CHANNEL_RE = re.compile(r"\A[-a-zA-Z0-9_=@,.;]{1,200}\Z")
_PATH_RE = re.compile(r"\A/apps/(?P<app_id>[^/]+)/(?P<endpoint>events|batch_events)\Z")
AUTH_PARAMS = ("auth_key", "auth_timestamp", "auth_version", "auth_signature")


def string_to_sign(method, path, params):
    """Pusher's string to sign: method, path and the sorted, unescaped query."""
    query = "&".join("%s=%s" % (key.lower(), value) for key, value in sorted(
        (key.lower(), value) for key, value in params.items() if key.lower() != "auth_signature"))
    return "\n".join([method.upper(), path, query])


def sign(secret, method, path, params):
    """The ``auth_signature`` of a request."""
    return hmac.new(secret.encode("utf-8"), string_to_sign(method, path, params).encode("utf-8"),
                    hashlib.sha256).hexdigest()


class PusherStandIn(LoopbackServer):
    """Pusher's HTTP API on 127.0.0.1: ``apps`` maps app id -> (key, secret)."""

    OWNER_ATTR = "standin"
    THREAD_NAME = "pusher-standin"

    def _handler_class(self):
        return _Handler

    def __init__(self, apps, host="127.0.0.1", port=0, clock=time.time):
        self.apps = {str(app_id): tuple(credentials) for app_id, credentials in apps.items()}
        self.host, self._port = host, port
        self.clock = clock
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.reset()

    # --- lifecycle -------------------------------------------------------------
    def stop(self):
        self._release.set()
        self._shutdown()

    @property
    def port(self):
        if self._server is None:
            raise RuntimeError("the Pusher stand-in is not started")
        return self._server.server_address[1]

    # --- faults ------------------------------------------------------------------
    def fail(self, status=500, count=None):
        """Answer the next ``count`` requests (all when None) with ``status``."""
        with self._lock:
            self._fault = {"status": int(status), "count": count}

    def hang(self, seconds=30.0):
        """Hold each request until :meth:`release` (or ``seconds``), then answer it."""
        with self._lock:
            self._release.clear()
            self._hang = float(seconds)

    def release(self):
        with self._lock:
            self._hang = None
        self._release.set()

    def reset(self):
        with self._lock:
            self._events = []
            self._requests = []
            self._fault = None
            self._hang = None
            self.in_flight = 0
        self._release.set()

    # --- inspection --------------------------------------------------------------
    def events(self, app_id=None, channel=None, name=None):
        """Accepted events, oldest first: dicts of app_id, channel, name, data (parsed)."""
        with self._lock:
            events = list(self._events)
        return [event for event in events
                if (app_id is None or event["app_id"] == str(app_id))
                and (channel is None or event["channel"] == channel)
                and (name is None or event["name"] == name)]

    def requests(self):
        """Every request: path, status and the reason of a refusal."""
        with self._lock:
            return list(self._requests)

    # --- the API -----------------------------------------------------------------
    def handle(self, method, raw_path, body):
        """(status, answer dict) for one request; records what it accepts."""
        parts = urlsplit(raw_path)
        with self._lock:
            hang = self._hang
            self.in_flight += 1
        try:
            if hang:
                self._release.wait(hang)
            status, answer = self._answer(method, parts.path, parts.query, body)
        finally:
            with self._lock:
                self.in_flight -= 1
        with self._lock:
            self._requests.append({"path": parts.path, "status": status,
                                   "reason": answer.get("error") if status != 200 else None})
        return status, answer

    def _answer(self, method, path, query, body):
        match = _PATH_RE.match(path)
        if method != "POST" or not match:
            return 404, {"error": "unknown resource"}
        app_id = match.group("app_id")
        if app_id not in self.apps:
            return 404, {"error": "unknown app"}
        with self._lock:
            fault = self._fault
            if fault is not None:
                if fault["count"] is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self._fault = None
        if fault is not None:
            return fault["status"], {"error": "stand-in told to fail"}
        problem = self._check_auth(app_id, method, path, query, body)
        if problem:
            return 401, {"error": problem}
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return 400, {"error": "the body is not JSON"}
        if not isinstance(request, dict):
            return 400, {"error": "the body is not a JSON object"}
        if match.group("endpoint") == "batch_events":
            batch = request.get("batch")
            if not isinstance(batch, list) or not batch:
                return 400, {"error": "batch must be a non-empty list"}
            if len(batch) > MAX_BATCH:
                return 400, {"error": "Batch too large (%d > %d)" % (len(batch), MAX_BATCH)}
            events = []
            for item in batch:
                if not isinstance(item, dict):
                    return 400, {"error": "a batch item is not an object"}
                events.append((item.get("channel"), item.get("name"), item.get("data")))
        else:
            channels = request.get("channels") or [request.get("channel")]
            if not isinstance(channels, list) or len(channels) > 100:
                return 400, {"error": "channels must be a list of at most 100"}
            events = [(channel, request.get("name"), request.get("data")) for channel in channels]
        accepted = []
        for channel, name, data in events:
            if not isinstance(channel, str) or not CHANNEL_RE.match(channel):
                return 400, {"error": "invalid channel %r" % (channel,)}
            if not isinstance(name, str) or not 0 < len(name) <= 200:
                return 400, {"error": "invalid event name"}
            if not isinstance(data, str):
                return 400, {"error": "data must be a string"}
            if len(data.encode("utf-8")) > MAX_DATA_BYTES:
                return 413, {"error": "event data over 10 KB"}
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = data
            accepted.append({"app_id": app_id, "channel": channel, "name": name,
                             "data": parsed, "bytes": len(data.encode("utf-8"))})
        with self._lock:
            self._events.extend(accepted)
        return 200, {}

    def _check_auth(self, app_id, method, path, query, body):
        key, secret = self.apps[app_id]
        params = dict(parse_qsl(query, keep_blank_values=True))
        missing = [name for name in AUTH_PARAMS if not params.get(name)]
        if missing:
            return "missing %s" % ", ".join(missing)
        if params["auth_key"] != key:
            return "unknown auth_key"
        if params["auth_version"] != "1.0":
            return "auth_version must be 1.0"
        try:
            skew = abs(self.clock() - int(params["auth_timestamp"]))
        except ValueError:
            return "auth_timestamp is not a number"
        if skew > TIMESTAMP_WINDOW:
            return "auth_timestamp is %d s away from the server's time" % skew
        if body and params.get("body_md5") != hashlib.md5(body).hexdigest():  # MD5: Pusher's choice
            return "body_md5 does not match the body"
        expected = sign(secret, method, path, params)
        if not hmac.compare_digest(expected, params["auth_signature"]):
            return "Invalid signature: you should have sent HmacSHA256Hex(%r, your_secret)" % (
                string_to_sign(method, path, params),)
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "CampotechPusherStandIn/1.0"

    def log_message(self, fmt, *args):
        _logger.debug("pusher stand-in: %s", fmt % args)

    def do_POST(self):
        self._dispatch("POST")

    def do_GET(self):
        self._dispatch("GET")

    def _dispatch(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, answer = self.server.standin.handle(method, self.path, body)
        except Exception:  # answer like a server, keep serving
            _logger.exception("pusher stand-in: %s %s crashed", method, self.path)
            status, answer = 500, {"error": "stand-in internal error"}
        data = json.dumps(answer).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            # One request per connection: stop() then really means nothing answers.
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up waiting (hang): nobody to answer
            _logger.debug("pusher stand-in: the client left before the answer")
        self.close_connection = True
