"""The Simulator: a local stand-in for Meta's Cloud API, as an HTTP server.

One object holds the settings, the account state, the webhook deliverer
and a ThreadingHTTPServer on a loopback port. Tests and the demo drive it
from Python; people drive it with the CLI or the /_sim/ control endpoints.
"""

import ipaddress
import json
import logging
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

import requests

from .. import constants as C
from ..throttle import PairPacer, TokenBucket
from . import payloads as P
from .control import handle_control
from .delivery import Deliverer
from .graph import DROP, GraphApi, Reply
from .inbound import build_message
from .loopback import LoopbackServer
from .state import SimClock, SimState, make_template

_logger = logging.getLogger("campotech_whatsapp.simulator")

DEFAULTS = {
    "access_token": "sim-access-token",
    "phone_number_id": "106540352242922",
    "waba_id": "102290129340398",
    "app_id": "1234567890123456",
    "app_secret": "sim-app-secret",
    "verify_token": "sim-verify-token",
    "display_phone_number": "5491140000000",
    "verified_name": "Campotech Servicios",
    "webhook_url": None,
    "mps": C.DEFAULT_MPS,
    "media_url_ttl": 300,
    # Seconds after a send until each status webhook; None leaves it out.
    "status_delays": {"sent": 0.05, "delivered": 0.1, "read": 0.15},
    "out_of_order": False,
    "duplicate": False,
    "pair_rate_seconds": None,
}

# Settings /_sim/config may change at run time.
CONFIGURABLE = ("webhook_url", "app_secret", "mps", "media_url_ttl", "status_delays",
                "out_of_order", "duplicate", "pair_rate_seconds", "verified_name")

TEMPLATE_EVENTS = ("APPROVED", "REJECTED", "PENDING", "PAUSED", "DISABLED", "FLAGGED",
                   "REINSTATED", "IN_APPEAL", "PENDING_DELETION", "DELETED")
_STATUS_ORDER = ("sent", "delivered", "read")
# The Server header of every answer: lets the CLI tell the simulator from another web server.
SERVER_NAME = "CampotechMetaSimulator"


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _status_delays(value):
    if value is None:
        return dict(DEFAULTS["status_delays"])
    if isinstance(value, (list, tuple)):
        value = dict(zip(_STATUS_ORDER, value))
    unknown = set(value) - set(_STATUS_ORDER)
    if unknown:
        raise ValueError("status_delays knows sent, delivered, read; got %s" % sorted(unknown))
    return {s: (None if value.get(s) is None else float(value[s])) for s in _STATUS_ORDER}


class Simulator(LoopbackServer):
    """A local Meta Cloud API: Graph endpoints, signed webhooks, control endpoints.

    ``clock`` is a callable giving epoch seconds (default ``time.time``); the
    simulator adds its own offset to it, which ``advance()`` and
    ``POST /_sim/clock`` move. Binds to loopback only unless
    ``allow_remote=True``.
    """

    OWNER_ATTR = "simulator"
    THREAD_NAME = "sim-http"

    def _handler_class(self):
        return _Handler

    def __init__(self, host="127.0.0.1", port=0, *, access_token=None, phone_number_id=None,
                 waba_id=None, app_id=None, app_secret=None, webhook_url=None, mps=None, clock=None,
                 status_delays=None, verify_token=None, display_phone_number=None,
                 verified_name=None, media_url_ttl=None, out_of_order=False, duplicate=False,
                 pair_rate_seconds=None, retry_delays=(0.2, 0.5, 1.0), webhook_timeout=5.0,
                 seed_templates=True, allow_remote=False):
        if not allow_remote and not is_loopback(host):
            raise ValueError("the simulator binds to loopback only (got %r); pass "
                             "allow_remote=True to expose it on purpose" % host)
        given = {
            "access_token": access_token, "phone_number_id": phone_number_id,
            "waba_id": waba_id, "app_id": app_id, "app_secret": app_secret, "verify_token": verify_token,
            "display_phone_number": display_phone_number, "verified_name": verified_name,
            "webhook_url": webhook_url, "mps": mps, "media_url_ttl": media_url_ttl,
        }
        self.config = dict(DEFAULTS)
        self.config.update({k: v for k, v in given.items() if v is not None})
        self.config.update({"status_delays": _status_delays(status_delays),
                            "out_of_order": bool(out_of_order), "duplicate": bool(duplicate),
                            "pair_rate_seconds": pair_rate_seconds})
        for key in ("phone_number_id", "waba_id", "app_id", "display_phone_number"):
            self.config[key] = str(self.config[key])
        self.host, self._port = host, port
        self.clock = SimClock(clock)
        self.store = SimState(self.clock, seed=seed_templates)
        self.store.media_url_ttl = float(self.config["media_url_ttl"])
        self.deliverer = Deliverer(self._target, retry_delays=retry_delays, timeout=webhook_timeout)
        self.api = GraphApi(self)
        self.sleep = time.sleep
        self._limits_lock = threading.Lock()
        self._make_limiters()
        self._server = None
        self._thread = None

    def __repr__(self):
        return "Simulator(url=%r, phone_number_id=%r)" % (
            self.url if self._server else None, self.config["phone_number_id"])

    # --- lifecycle -------------------------------------------------------------
    def start(self):
        """Listen in a background thread; return self."""
        if self._server is not None:
            return self
        self._serve()
        self.deliverer.start()
        return self

    def stop(self):
        """Stop serving and delivering; queued webhooks are dropped."""
        self.deliverer.stop()
        self._shutdown()

    def serve_forever(self):
        """Run in the foreground until interrupted (the CLI)."""
        self.start()
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    @property
    def port(self):
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return self._server.server_address[1]

    @property
    def url(self):
        host = self.host if ":" not in self.host else "[%s]" % self.host
        return "http://%s:%d" % (host, self.port)

    @property
    def graph_url(self):
        """The base_url to give CloudClient (it appends the API version)."""
        return self.url

    def client_settings(self):
        """What an administrator pastes into Odoo to use this simulator."""
        cfg = self.config
        return {
            "graph_url": self.graph_url,
            "api_version": C.DEFAULT_API_VERSION,
            "access_token": cfg["access_token"],
            "phone_number_id": cfg["phone_number_id"],
            "waba_id": cfg["waba_id"],
            "app_id": cfg["app_id"],
            "app_secret": cfg["app_secret"],
            "verify_token": cfg["verify_token"],
            "display_phone_number": cfg["display_phone_number"],
            "webhook_url": cfg["webhook_url"],
        }

    def verify_webhook(self, timeout=5.0):
        """Do Meta's subscription handshake against webhook_url; return (ok, detail)."""
        url = self.config.get("webhook_url")
        if not url:
            return False, "no webhook URL configured"
        challenge = secrets.token_hex(8)
        params = {"hub.mode": "subscribe", "hub.verify_token": self.config["verify_token"],
                  "hub.challenge": challenge}
        try:
            answer = requests.get(url, params=params, timeout=timeout)
        except requests.RequestException as exc:
            return False, "cannot reach %s (%s)" % (url, type(exc).__name__)
        if answer.status_code == 200 and answer.text.strip() == challenge:
            return True, "verified"
        return False, "HTTP %s, challenge %s" % (
            answer.status_code, "echoed" if answer.text.strip() == challenge else "not echoed")

    # --- configuration ---------------------------------------------------------
    def configure(self, **settings):
        """Change run-time settings (see CONFIGURABLE); return the public config."""
        unknown = set(settings) - set(CONFIGURABLE)
        if unknown:
            raise ValueError("cannot configure %s; allowed: %s" % (sorted(unknown), CONFIGURABLE))
        if "status_delays" in settings:
            settings["status_delays"] = _status_delays(settings["status_delays"])
        # Build the limiters first: a bad mps must leave the old settings in place.
        limiters = self._limiters(dict(self.config, **settings))
        self.config.update(settings)
        with self._limits_lock:
            self._bucket, self._pair = limiters
        if "media_url_ttl" in settings:
            self.store.media_url_ttl = float(settings["media_url_ttl"])
        return self.public_config()

    def public_config(self):
        """Settings without the secrets, for /_sim/state and logs."""
        hidden = ("access_token", "app_secret", "verify_token")
        cfg = {k: v for k, v in self.config.items() if k not in hidden}
        cfg["webhooks_signed"] = bool(self.config.get("app_secret"))
        return cfg

    def _limiters(self, config):
        mps = config["mps"]
        # A burst of one second's worth, as Meta's per-second throughput.
        bucket = TokenBucket(mps, burst=max(1, int(mps)), clock=self.clock)
        seconds = config.get("pair_rate_seconds")
        pair = PairPacer(clock=self.clock, seconds=float(seconds), burst=1) if seconds else None
        return bucket, pair

    def _make_limiters(self):
        limiters = self._limiters(self.config)
        with self._limits_lock:
            self._bucket, self._pair = limiters

    def bucket_acquire(self):
        with self._limits_lock:
            bucket = self._bucket
        return bucket.try_acquire(self.config["phone_number_id"])

    def pair_acquire(self, recipient):
        with self._limits_lock:
            pair = self._pair
        if pair is None:
            return True
        return pair.try_acquire(PairPacer.pair_key(self.config["phone_number_id"], recipient))

    def _target(self):
        return self.config.get("webhook_url"), self.config.get("app_secret")

    # --- webhooks --------------------------------------------------------------
    def _value(self, **parts):
        cfg = self.config
        return P.messages_value(cfg["phone_number_id"], cfg["display_phone_number"], **parts)

    def _deliver(self, field, value, kind, delay=0.0):
        return self.deliverer.submit(P.envelope(self.config["waba_id"], field, value), kind, delay)

    def schedule_statuses(self, record, late_failure=None):
        """Queue the status webhooks of an accepted send (sent, delivered, read or failed)."""
        cfg = self.config
        now = self.clock()
        # Sent to a business-scoped user id: no phone number to report.
        recipient = record["wa_id"]
        user_id = None if record["wa_id"] else record["to"]
        if late_failure:
            code = int(late_failure.get("code") or C.ERR_UNDELIVERABLE)
            delay = cfg["status_delays"].get("sent") or 0.0
            errors = [P.status_error(code, late_failure.get("details"))]
            plan = [("failed", delay, delay, errors)]
        else:
            natural = [(s, cfg["status_delays"][s]) for s in _STATUS_ORDER
                       if cfg["status_delays"].get(s) is not None]
            arrival = [d for _, d in natural]
            if cfg["out_of_order"]:
                arrival.reverse()  # read first, sent last: Meta promises no order
            plan = [(s, d, a, None) for (s, d), a in zip(natural, arrival)]
        record["statuses"] = [step[0] for step in plan]
        for status, happened, arrives, errors in plan:
            item = P.status_object(record["wamid"], status, now + happened, recipient,
                                   record["category"], errors, recipient_user_id=user_id)
            value = self._value(statuses=[item])
            copies = 2 if cfg["duplicate"] else 1
            for copy_index in range(copies):
                self._deliver(C.FIELD_MESSAGES, value, "status:%s" % status,
                              arrives + 0.01 * copy_index)

    def deliver_status(self, wamid, status, code=None, details=None, delay=0.0):
        """Deliver one more status for a message we sent (e.g. a late failure)."""
        with self.store.lock:
            record = next((m for m in self.store.messages if m["wamid"] == wamid), None)
        recipient = (record["wa_id"] or record["to"]) if record else None
        errors = [P.status_error(int(code or C.ERR_UNDELIVERABLE), details)] \
            if status == "failed" else None
        item = P.status_object(wamid, status, self.clock(), recipient,
                               record["category"] if record else "service", errors)
        return self._deliver(C.FIELD_MESSAGES, self._value(statuses=[item]),
                             "status:%s" % status, delay)

    def inbound(self, spec=None, **fields):
        """A customer writes: build the message, open the window, deliver it signed.

        Returns the new message's wamid. ``spec``/``fields`` as for
        ``POST /_sim/inbound`` (``from``, ``name``, ``type``, ``text``, …).
        """
        return self.inbound_details(spec, **fields)["wamid"]

    def inbound_details(self, spec=None, **fields):
        spec = dict(spec or {}, **fields)
        if "from_" in spec:
            spec["from"] = spec.pop("from_")
        spec.setdefault("business_number", self.config["display_phone_number"])
        if spec.get("from"):
            spec["from"] = "".join(ch for ch in str(spec["from"]) if ch.isdigit())
        wamid = P.new_wamid(spec.get("from") or spec.get("user_id"))
        message, contact = build_message(spec, wamid, self.clock(), self.store.store_media)
        if message.get("type") != "system":
            self.store.open_window(message.get("from") or message.get("from_user_id"))
        with self.store.lock:
            self.store.inbound.append(message)
        value = self._value(contacts=[contact] if contact else None, messages=[message])
        delivery = self._deliver(C.FIELD_MESSAGES, value, "message:%s" % message.get("type"),
                                 float(spec.get("delay") or 0))
        kind = message.get("type")
        media_id = message.get(kind, {}).get("id") if isinstance(message.get(kind), dict) else None
        return {"wamid": message["id"], "delivery": delivery, "media_id": media_id,
                "message": message}

    def set_template_status(self, name, event="APPROVED", language=None, reason=None):
        """Approve, reject, pause… a template and deliver the status webhook."""
        event = str(event).upper()
        if event not in TEMPLATE_EVENTS:
            raise ValueError("unknown template event %r" % event)
        template = self.store.find_template(name, language)
        if template is None:
            raise KeyError("no template %r%s" % (name, " (%s)" % language if language else ""))
        with self.store.lock:
            template["status"] = {"REINSTATED": "APPROVED", "FLAGGED": "APPROVED",
                                  "IN_APPEAL": "PENDING", "PENDING_DELETION": "DISABLED",
                                  "DELETED": "DISABLED"}.get(event, event)
        if event == "REJECTED" and not reason:
            reason = "INCORRECT_CATEGORY"
        value = P.template_status_value(template, event, reason)
        return self._deliver(C.FIELD_TEMPLATE_STATUS, value, "template:%s" % event)

    def add_template(self, name, language, category, body, status="APPROVED", **extra):
        template = make_template(name, language, category.upper(), body, status=status.upper(),
                             **extra)
        return self.store.add_template(template)

    # --- faults, clock, inspection ---------------------------------------------
    def fault(self, spec=None, **fields):
        """Make coming Graph requests fail: code/http_status/delay/drop/async, count, match."""
        return self.store.add_fault(dict(spec or {}, **fields))

    def advance(self, seconds):
        self.clock.advance(seconds)
        return self.clock()

    def deliveries(self):
        return self.deliverer.deliveries()

    def wait_idle(self, timeout=5.0):
        """Wait until every queued webhook has been delivered (or given up)."""
        return self.deliverer.wait_idle(timeout)

    def state(self):
        """Everything /_sim/state shows: messages sent (bodies), inbound, templates,
        windows, media, faults, config without secrets."""
        snap = self.store.snapshot()
        snap["config"] = self.public_config()
        snap["pending_deliveries"] = self.deliverer.pending()
        return snap

    state_snapshot = state

    def reset(self):
        """Forget messages, media, windows, faults, deliveries; reseed templates."""
        self.store.reset()
        self.deliverer.clear()
        self.clock.reset()
        self._make_limiters()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes
    server_version = SERVER_NAME + "/1.0"

    def log_message(self, fmt, *args):
        _logger.debug("simulator: %s", fmt % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def _dispatch(self, method):
        sim = self.server.simulator
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if parts.path.startswith("/_sim/") and not parts.path.startswith("/_sim/media/"):
                reply = handle_control(sim, method, parts.path, query, raw)
            else:
                reply = sim.api.handle(method, parts.path, query, self.headers, raw)
        except Exception:  # answer 500 like a server would, and keep serving
            _logger.exception("simulator: %s %s crashed", method, parts.path)
            reply = Reply(500, P.error_body(1, "simulator internal error"))
        self._write(reply)

    def _write(self, reply):
        if reply.body is DROP:
            self.close_connection = True
            return
        if isinstance(reply.body, (bytes, bytearray)):
            data = bytes(reply.body)
        else:
            data = json.dumps(reply.body, ensure_ascii=False).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
