"""Optional Pusher broadcaster: the WhatsApp live events for outside dashboards.

The Odoo bus feeds the addon's own screens; a dashboard outside Odoo (the
old system's React screens) listens on Pusher instead. Per company, when
enabled, every event the bus sends also goes to Pusher:

* channels ``whatsapp-org-{company_id}`` (everything of the company) and
  ``whatsapp-conv-{conversation_id}`` (one conversation), the seed's names;
* events ``new-message``, ``status-update``, ``conversation-update`` and
  ``typing`` (the bus names without the module prefix), whose data is the
  bus payload as JSON, cut to Pusher's 10 KB and never carrying a secret.

Delivery never blocks a request nor fails a transaction: the Odoo layer
hands the events over after the commit, :class:`Broadcaster` queues them
(bounded; when full they are dropped with a log line) and one daemon
thread per process sends them with the ``pusher`` library, ten to a
``batch_events`` call. Every error is caught and logged in one line that
names the app id, never the secret. The ``pusher`` package is optional:
without it :func:`available` is False and nothing is sent.
"""

import json
import logging
import os
import queue
import threading
from dataclasses import dataclass, field

try:  # optional: the addon installs and runs without it
    import pusher as pusher_lib
except ImportError:  # pragma: no cover - depends on the environment
    pusher_lib = None

_logger = logging.getLogger(__name__)

# The Odoo bus event -> the Pusher event name the seed's dashboard binds to.
EVENT_NAMES = {
    "campotech_whatsapp/new-message": "new-message",
    "campotech_whatsapp/status-update": "status-update",
    "campotech_whatsapp/conversation-update": "conversation-update",
    "campotech_whatsapp/typing": "typing",
}
TEST_EVENT = "connection-test"

ORG_CHANNEL = "whatsapp-org-%s"
CONVERSATION_CHANNEL = "whatsapp-conv-%s"
# Pusher only lets a subscriber who is authorised by the app's own server
# into channels with this prefix; public channels are open to anyone who
# knows the (public) app key.
PRIVATE_PREFIX = "private-"

# Pusher's limits (HTTP API reference): 10 events per batch_events call,
# 10 KB of data per event (413 beyond).
MAX_BATCH = 10
MAX_DATA_BYTES = 10240
# What we let the data grow to: the library measures with sys.getsizeof,
# about 50 bytes more than the text of an ASCII string.
DATA_BUDGET = MAX_DATA_BYTES - 240
# A string longer than this is cut when the whole event does not fit.
SHORT_TEXT = 200
TRUNCATED_MARK = "\u2026"

# Keys that never leave: whatever is named like a secret is dropped from the data.
SECRET_KEY_PARTS = ("secret", "token", "password", "api_key", "signature")

QUEUE_SIZE = 1000  # transactions waiting to be sent, per process
TIMEOUT = 5.0  # seconds for one HTTP call to Pusher
_CLIENT_CACHE_SIZE = 32


def available():
    """Whether the ``pusher`` package is installed."""
    return pusher_lib is not None


def org_channel(company_id, private=False):
    return (PRIVATE_PREFIX if private else "") + ORG_CHANNEL % int(company_id)


def conversation_channel(conversation_id, private=False):
    return (PRIVATE_PREFIX if private else "") + CONVERSATION_CHANNEL % int(conversation_id)


def channels_for(company_id, conversation_id=None, private=False):
    """The company's channel, then the conversation's when there is one."""
    channels = [org_channel(company_id, private)]
    if conversation_id:
        channels.append(conversation_channel(conversation_id, private))
    return channels


def pusher_event_name(bus_event):
    """``campotech_whatsapp/new-message`` -> ``new-message``; ValueError for another event."""
    try:
        return EVENT_NAMES[bus_event]
    except KeyError:
        raise ValueError("not a WhatsApp live event: %r" % (bus_event,)) from None


def _is_secret_key(key):
    lowered = str(key).lower()
    return any(part in lowered for part in SECRET_KEY_PARTS)


def scrub(value):
    """``value`` without any dict key named like a secret, at any depth."""
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items() if not _is_secret_key(key)}
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    return value


def _dumps(value):
    # ASCII only: bytes on the wire == characters, so the size check is exact.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), default=str)


def _shorten(value, limit):
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + TRUNCATED_MARK
    if isinstance(value, dict):
        return {key: _shorten(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [_shorten(item, limit) for item in value]
    return value


def encode_data(payload, budget=DATA_BUDGET):
    """The event data as Pusher carries it: JSON text of at most ``budget`` bytes.

    A payload that does not fit loses, in this order, the tail of its long
    texts, then everything but its top-level ids and states; it is then
    marked ``"truncated": true`` so the dashboard knows to fetch the rest.
    """
    payload = scrub(payload)
    text = _dumps(payload)
    if len(text) <= budget:
        return text
    if isinstance(payload, dict):
        shortened = dict(_shorten(payload, SHORT_TEXT), truncated=True)
        text = _dumps(shortened)
        if len(text) <= budget:
            return text
        minimal = {key: item for key, item in payload.items()
                   if isinstance(item, (int, float, bool, type(None)))
                   or (isinstance(item, str) and len(item) <= SHORT_TEXT)}
        message = payload.get("message")
        if isinstance(message, dict) and "id" in message:
            minimal.setdefault("message_id", message["id"])
        minimal["truncated"] = True
        text = _dumps(minimal)
        if len(text) <= budget:
            return text
    return _dumps({"truncated": True})


def event_items(company_id, conversation_id, bus_event, payload, private=False):
    """The ``batch_events`` items of one bus event: one per channel, same data."""
    name = pusher_event_name(bus_event)
    data = encode_data(payload)
    return [{"channel": channel, "name": name, "data": data}
            for channel in channels_for(company_id, conversation_id, private)]


def chunks(items, size=MAX_BATCH):
    """``items`` in lists of at most ``size`` (Pusher's batch limit)."""
    items = list(items)
    return [items[start:start + size] for start in range(0, len(items), size)]


@dataclass(frozen=True)
class PusherConfig:
    """One Pusher app's credentials and endpoint. The secret is kept out of repr()."""

    app_id: str
    key: str
    secret: str = field(repr=False)
    cluster: str = ""
    host: str = ""
    port: int = 0
    ssl: bool = True
    private: bool = False
    timeout: float = TIMEOUT

    def __post_init__(self):
        if not str(self.app_id or "").isdigit():
            raise ValueError("the Pusher app id is a number (Pusher's App Keys page)")
        if not self.key or not self.secret:
            raise ValueError("the Pusher key and secret are both needed")

    @property
    def label(self):
        """Names the app and endpoint for log lines and messages: never the secret."""
        where = self.host or ("api-%s.pusher.com" % self.cluster if self.cluster else "Pusher")
        if self.port:
            where = "%s:%s" % (where, self.port)
        return "Pusher app %s at %s" % (self.app_id, where)

    def client(self):
        """A ``pusher.Pusher`` for this app (the package must be installed)."""
        if pusher_lib is None:
            raise RuntimeError("the pusher package is not installed")
        return pusher_lib.Pusher(
            app_id=str(self.app_id), key=self.key, secret=self.secret,
            cluster=self.cluster or None, host=self.host or None, port=int(self.port) or None,
            ssl=bool(self.ssl), timeout=self.timeout)


def describe_error(error, config):
    """One line about a failed call: the error's kind and, for Pusher's own answers,
    their text; never a URL (it holds the signed query) and never the secret."""
    kind = type(error).__name__
    errors = getattr(pusher_lib, "errors", None)
    if errors is not None and isinstance(error, errors.PusherError):
        detail = str(error).replace(config.secret, "***").replace("\n", " ")[:200]
        return "%s: %s" % (kind, detail) if detail else kind
    if isinstance(error, ValueError) and "http" not in str(error).lower():
        # The library's own checks ("Too much data", "Invalid Channel: ...").
        return "%s: %s" % (kind, str(error).replace(config.secret, "***")[:200])
    return kind


class Broadcaster:
    """Sends event items to Pusher from one daemon thread, after the caller moved on.

    ``submit`` never blocks and never raises: the queue is bounded and a
    full queue drops the transaction's events with a warning. ``send`` is
    the synchronous call (the worker's, and the Settings' "Test Pusher").
    ``client_factory(config)`` builds the library client (default
    :meth:`PusherConfig.client`).
    """

    def __init__(self, maxsize=QUEUE_SIZE, client_factory=None):
        self.maxsize = maxsize
        self.client_factory = client_factory or PusherConfig.client
        self._lock = threading.Lock()
        self._clients = {}
        self.stats = {"sent": 0, "failed": 0, "dropped": 0}
        self._setup()

    def _setup(self):
        # Per process: Odoo's prefork workers fork after import, and a
        # thread (or a queue's lock) does not survive a fork.
        self._pid = os.getpid()
        self._queue = queue.Queue(self.maxsize)
        self._thread = None

    def _ensure_worker(self):
        with self._lock:
            if self._pid != os.getpid():
                self._setup()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="campotech-pusher",
                                                daemon=True)
                self._thread.start()

    def submit(self, config, items):
        """Queue ``items`` for ``config``'s app; False when they were dropped."""
        items = list(items)
        if not items:
            return True
        try:
            self._ensure_worker()
            self._queue.put_nowait((config, items))
            return True
        except queue.Full:
            self.stats["dropped"] += len(items)
            _logger.warning("%s: broadcast queue full (%d waiting), %d events dropped",
                            config.label, self.maxsize, len(items))
        except Exception as error:  # must never reach a transaction
            self.stats["dropped"] += len(items)
            _logger.warning("%s: %d events dropped: %s", config.label, len(items),
                            type(error).__name__)
        return False

    def _run(self):
        while True:
            config, items = self._queue.get()
            try:
                self.send(config, items)
            finally:
                self._queue.task_done()

    def send(self, config, items):
        """Send now, ten to a call; returns None when all went, else the error line.

        Every error is caught: a call that fails is logged and the next one
        is still tried.
        """
        problem = None
        for batch in chunks(items):
            try:
                self._client(config).trigger_batch([dict(item) for item in batch])
                self.stats["sent"] += len(batch)
            except Exception as error:  # a dashboard never breaks Odoo
                self.stats["failed"] += len(batch)
                problem = describe_error(error, config)
                _logger.warning("%s: %d events not delivered: %s", config.label, len(batch), problem)
        return problem

    def _client(self, config):
        with self._lock:
            client = self._clients.get(config)
            if client is None:
                if len(self._clients) >= _CLIENT_CACHE_SIZE:
                    self._clients.clear()
                client = self._clients[config] = self.client_factory(config)
            return client

    def wait_idle(self, timeout=10.0):
        """Wait until everything queued was sent or given up; True when idle (tests)."""
        done = threading.Event()

        def join():
            self._queue.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)

    def pending(self):
        return self._queue.unfinished_tasks


BROADCASTER = Broadcaster()
