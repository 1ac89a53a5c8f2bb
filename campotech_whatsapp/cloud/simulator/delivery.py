"""Signed webhook delivery in a background thread, with Meta-like retries.

Jobs wait in a time-ordered queue, so a send is answered at once and its
statuses arrive later. Each delivery is signed over the exact bytes posted;
any answer other than 200 is retried with backoff, and every attempt is kept
in an inspectable log.
"""

import heapq
import itertools
import logging
import threading
import time

import requests

from .. import constants as C
from ..webhook import sign
from .payloads import encode

_logger = logging.getLogger("campotech_whatsapp.simulator")

LOG_LIMIT = 2000


class Deliverer:
    """Posts webhook payloads to the configured URL; one worker thread, in due order."""

    def __init__(self, target, retry_delays=(0.2, 0.5, 1.0), timeout=5.0):
        # target() -> (url or None, app_secret or None), read at each attempt
        # so a webhook URL configured later still receives queued jobs.
        self._target = target
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self._cond = threading.Condition()
        self._queue = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._log = []
        self._thread = None
        self._stopping = False
        self._session = requests.Session()

    # --- lifecycle -------------------------------------------------------------
    def start(self):
        if self._thread and self._thread.is_alive():
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout=5.0):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(timeout)
        self._session.close()

    # --- API -------------------------------------------------------------------
    def submit(self, payload, kind, delay=0.0):
        """Queue a delivery; payload is a dict or a callable building it when due.

        Returns the delivery id shown in the log.
        """
        record = {"id": next(self._ids), "kind": kind, "state": "queued", "payload": None,
                  "attempts": []}
        with self._cond:
            self._log.append(record)
            del self._log[:-LOG_LIMIT]
            self._push(time.monotonic() + max(0.0, float(delay)), record, payload)
        return record["id"]

    def deliveries(self):
        with self._cond:
            return [dict(r, attempts=list(r["attempts"])) for r in self._log]

    def clear(self):
        with self._cond:
            self._queue.clear()
            self._log.clear()

    def pending(self):
        with self._cond:
            return len(self._queue) + self._in_flight

    def wait_idle(self, timeout=5.0):
        """Wait until nothing is queued or in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # --- worker ------------------------------------------------------------------
    def _push(self, due, record, payload, raw=None):
        heapq.heappush(self._queue, (due, next(self._seq), record, payload, raw))
        self._cond.notify_all()

    def _run(self):
        while True:
            with self._cond:
                while not self._stopping:
                    now = time.monotonic()
                    if self._queue and self._queue[0][0] <= now:
                        break
                    wait = self._queue[0][0] - now if self._queue else 0.5
                    self._cond.wait(min(wait, 0.5))
                if self._stopping:
                    return
                _, _, record, payload, raw = heapq.heappop(self._queue)
                self._in_flight += 1
            try:
                self._attempt(record, payload, raw)
            except Exception:  # a bug must not kill the delivery thread
                _logger.exception("simulator: webhook delivery %s crashed", record["id"])
                record["state"] = "error"
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _attempt(self, record, payload, raw):
        if raw is None:
            body = payload() if callable(payload) else payload
            raw = encode(body)
            record["payload"] = body
        url, secret = self._target()
        if not url:
            record["state"] = "no_webhook"
            return
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if secret:
            headers[C.SIGNATURE_HEADER] = sign(raw, secret)
        attempt = {"at": time.time(), "status": None, "error": None}
        try:
            answer = self._session.post(url, data=raw, headers=headers, timeout=self.timeout)
            attempt["status"] = answer.status_code
        except requests.RequestException as exc:
            attempt["error"] = type(exc).__name__
        record["attempts"].append(attempt)
        if attempt["status"] == 200:
            record["state"] = "delivered"
            _logger.info("simulator: webhook %s (%s) delivered", record["id"], record["kind"])
            return
        tries = len(record["attempts"])
        if tries <= len(self.retry_delays):
            record["state"] = "retrying"
            _logger.info("simulator: webhook %s (%s) answered %s, retry %d",
                         record["id"], record["kind"], attempt["status"] or attempt["error"], tries)
            with self._cond:
                self._push(time.monotonic() + self.retry_delays[tries - 1], record, None, raw)
            return
        record["state"] = "failed"
        _logger.warning("simulator: webhook %s (%s) failed after %d attempts",
                        record["id"], record["kind"], tries)
