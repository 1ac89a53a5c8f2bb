"""What the simulated Meta account remembers: clock, templates, media, windows, faults.

All of it is in memory and guarded by one lock; the HTTP handler threads,
the delivery thread and the Python API share one SimState.
"""

import base64
import copy
import hashlib
import secrets
import threading
import time

from .. import constants as C, phone
from .payloads import new_numeric_id


class SimClock:
    """Seconds since the epoch, from a base clock plus an offset tests can advance."""

    def __init__(self, base=None):
        self._base = base or time.time
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self):
        with self._lock:
            return self._base() + self._offset

    def advance(self, seconds):
        with self._lock:
            self._offset += float(seconds)

    def reset(self):
        with self._lock:
            self._offset = 0.0


def make_template(name, language, category, body, header=None, footer=None, buttons=(),
              status="APPROVED", examples=None):
    components = []
    if header:
        components.append({"type": "HEADER", "format": "TEXT", "text": header})
    body_component = {"type": "BODY", "text": body}
    if examples:
        body_component["example"] = {"body_text": [list(examples)]}
    components.append(body_component)
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    if buttons:
        components.append({"type": "BUTTONS",
                           "buttons": [{"type": "QUICK_REPLY", "text": b} for b in buttons]})
    return {"name": name, "parameter_format": "POSITIONAL", "components": components,
            "language": language, "status": status, "category": category, "id": new_numeric_id()}


def seed_templates():
    """Templates a field-service company would have approved, plus Meta's sample."""
    return [
        make_template("turno_confirmado", "es_AR", "UTILITY",
                  "Hola {{1}}, confirmamos tu visita técnica para el {{2}}.",
                  footer="Campotech Servicios", buttons=("Confirmar", "Reprogramar"),
                  examples=("Juana", "martes 14 a las 10:00")),
        make_template("factura_emitida", "es_AR", "UTILITY",
                  "Hola {{1}}, emitimos tu factura {{2}} por {{3}}. Vence el {{4}}.",
                  header="Factura emitida", footer="Campotech Servicios",
                  examples=("Juana", "A-0001-00001234", "$ 45.000", "30/11")),
        make_template("tecnico_en_camino", "es_AR", "UTILITY",
                  "Hola {{1}}, {{2}} está en camino y llega en unos {{3}} minutos.",
                  examples=("Juana", "Martín", "20")),
        make_template("encuesta_satisfaccion", "es_AR", "MARKETING",
                  "¿Cómo calificarías la visita de hoy, {{1}}?", status="PENDING",
                  buttons=("Excelente", "Buena", "Mala"), examples=("Juana",)),
        make_template("hello_world", "en_US", "UTILITY",
                  "Welcome and congratulations!! This message demonstrates your ability to send "
                  "a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you "
                  "for taking the time to test with us.",
                  header="Hello World", footer="WhatsApp Business Platform sample message"),
    ]


def canonical_key(number):
    """One key for a customer's 549…/54… and 521…/52… forms, as Meta keys its
    windows; a business-scoped user id stands for itself."""
    return phone.contact_key(number) or str(number or "")


def wa_id_for(recipient):
    """The wa_id Meta reports for a number typed without the mobile 9 (Argentina)."""
    if recipient.startswith("54") and not recipient.startswith("549") and len(recipient) == 12:
        return "549" + recipient[2:]
    return recipient


class SimState:
    """In-memory account data behind the simulated Graph API."""

    def __init__(self, clock, media_url_ttl=300, seed=True):
        self.clock = clock
        self.lock = threading.RLock()
        self.media_url_ttl = media_url_ttl
        self._seed = seed
        self.reset()

    def reset(self):
        with self.lock:
            self.templates = seed_templates() if self._seed else []
            self.media = {}
            self.media_urls = {}
            self.windows = {}
            self.known_wa_ids = {}
            self.messages = []
            self.inbound = []
            self.reads = []
            self.faults = []
            self.upload_sessions = {}
            self.handles = {}

    # --- templates -----------------------------------------------------------
    def find_template(self, name, language=None):
        with self.lock:
            for template in self.templates:
                if template["name"] == name and (language is None or template["language"] == language):
                    return template
        return None

    def add_template(self, template):
        with self.lock:
            self.templates.append(template)
            return template

    # --- media ---------------------------------------------------------------
    def store_media(self, content, mime_type, filename=None):
        media = {
            "id": new_numeric_id(),
            "content": bytes(content),
            "mime_type": mime_type,
            "sha256": hashlib.sha256(content).hexdigest(),
            "file_size": len(content),
            "filename": filename,
            "created": self.clock(),
        }
        with self.lock:
            self.media[media["id"]] = media
        return media

    def open_upload(self, filename, length, mime_type):
        session = "upload:%s" % base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()
        with self.lock:
            self.upload_sessions[session] = {"file_name": filename, "file_length": length,
                                             "file_type": mime_type}
        return session

    def finish_upload(self, session, content):
        """The handle of an uploaded sample (Meta's look: ``4::`` + base64)."""
        handle = "4::%s" % base64.b64encode(
            ("%s:%s" % (session, hashlib.sha256(content).hexdigest()[:16])).encode()).decode()
        with self.lock:
            info = self.upload_sessions.pop(session)
            self.handles[handle] = dict(info, content=bytes(content))
        return handle

    def media_url_token(self, media_id):
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.media_urls[token] = (media_id, self.clock() + self.media_url_ttl)
        return token

    def media_for_token(self, token):
        """The media a download URL points to, or None once expired or deleted."""
        with self.lock:
            media_id, expires = self.media_urls.get(token, (None, 0))
            if media_id is None or self.clock() >= expires:
                return None
            return self.media.get(media_id)

    # --- windows -------------------------------------------------------------
    def open_window(self, sender):
        with self.lock:
            self.windows[canonical_key(sender)] = self.clock()
            self.known_wa_ids[canonical_key(sender)] = sender

    def window_open(self, recipient):
        with self.lock:
            opened = self.windows.get(canonical_key(recipient))
        return opened is not None and self.clock() - opened < C.SERVICE_WINDOW_SECONDS

    def wa_id(self, recipient):
        with self.lock:
            return self.known_wa_ids.get(canonical_key(recipient)) or wa_id_for(recipient)

    # --- faults --------------------------------------------------------------
    def add_fault(self, fault):
        fault = dict(fault)
        fault["remaining"] = int(fault.pop("count", 1) or 1)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, method, path, body=None):
        """Consume and return the first fault matching this request, or None."""
        with self.lock:
            for fault in self.faults:
                if not _matches(fault, method, path, body):
                    continue
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    self.faults.remove(fault)
                return dict(fault)
        return None

    # --- inspection ------------------------------------------------------------
    def snapshot(self):
        now = self.clock()
        with self.lock:
            return {
                "clock": now,
                "messages": copy.deepcopy(self.messages),
                "inbound": copy.deepcopy(self.inbound),
                "reads": list(self.reads),
                "templates": copy.deepcopy(self.templates),
                "windows": {
                    key: {"wa_id": self.known_wa_ids.get(key), "last_inbound": opened,
                          "expires_at": opened + C.SERVICE_WINDOW_SECONDS,
                          "open": now - opened < C.SERVICE_WINDOW_SECONDS}
                    for key, opened in self.windows.items()
                },
                "media": [{k: v for k, v in m.items() if k != "content"} for m in self.media.values()],
                "faults": copy.deepcopy(self.faults),
            }


def _is_send(method, path, body):
    return method == "POST" and path.endswith("/messages") and (body or {}).get("status") != "read"


def _matches(fault, method, path, body):
    # A late failure only makes sense for a send; nothing else should use it up.
    if fault.get("async") and not _is_send(method, path, body):
        return False
    match = fault.get("match") or {}
    if match.get("method") and match["method"].upper() != method.upper():
        return False
    if match.get("path") and match["path"] not in path:
        return False
    if match.get("to") and (body or {}).get("to") != match["to"]:
        return False
    if match.get("type") and (body or {}).get("type") != match["type"]:
        return False
    return True
