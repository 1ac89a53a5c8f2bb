"""Decisions behind the automated notifications, without the ORM.

* which template each business event sends by default;
* the key that makes one event for one record go out at most once
  (re-saving, re-posting, a second cron run, two workers all compute the
  same key; a new date gives a new key);
* what a customer's tap on a job template's button asks for;
* a 1-5 satisfaction answer, and the question that asks for it;
* the variable mapping a dispatcher types on a "Send WhatsApp template"
  server action.

Customer-facing texts are Spanish (Argentina), like the seed templates.
"""

import hashlib
import re

from .consent import normalize

JOB_SCHEDULED = "job_scheduled"
TECHNICIAN_ASSIGNED = "technician_assigned"
JOB_COMPLETED = "job_completed"
INVOICE_READY = "invoice_ready"
PAYMENT_RECEIVED = "payment_received"
RATING_REQUEST = "rating_request"
CUSTOM = "custom"

EVENTS = (JOB_SCHEDULED, TECHNICIAN_ASSIGNED, JOB_COMPLETED, INVOICE_READY, PAYMENT_RECEIVED)

DEFAULT_TEMPLATES = {
    JOB_SCHEDULED: "trabajo_programado",
    TECHNICIAN_ASSIGNED: "tecnico_asignado",
    JOB_COMPLETED: "trabajo_completado",
    INVOICE_READY: "factura_lista",
    PAYMENT_RECEIVED: "pago_recibido",
}

CONFIRM = "confirm"
RESCHEDULE = "reschedule"
CANCEL = "cancel"

_REPLY_WORDS = {
    CONFIRM: ("CONFIRMAR", "CONFIRM", "CONFIRMADO", "CONFIRMO"),
    RESCHEDULE: ("REPROGRAMAR", "RESCHEDULE", "CAMBIAR FECHA", "REPROGRAMO"),
    CANCEL: ("CANCELAR", "CANCEL", "CANCELO"),
}

TEXT_CONFIRMED = "¡Gracias! Tu visita quedó confirmada. Te esperamos."
TEXT_ASK_NEW_TIME = ("Entendido. ¿Qué día y horario te quedan mejor? "
                     "Respondé este mensaje y lo coordinamos.")
TEXT_NEW_TIME_RECEIVED = ("Gracias, se lo pasamos al responsable de tu trabajo "
                          "y te confirmamos el nuevo horario.")
TEXT_CANCEL_RECEIVED = ("Recibimos tu pedido de cancelación. Una persona de nuestro equipo "
                        "lo va a revisar y se va a comunicar con vos.")
TEXT_RATING_QUESTION = "¿Cómo calificarías el trabajo que hicimos? Elegí una opción del 1 al 5."
TEXT_RATING_BUTTON = "Calificar"
TEXT_RATING_THANKS = ("¡Gracias por tu calificación! Si querés, contanos en un mensaje "
                      "cómo te fue.")
TEXT_FEEDBACK_THANKS = "¡Gracias por tus comentarios!"

RATING_PREFIX = "rating_"
RATING_ROWS = (
    {"id": RATING_PREFIX + "5", "title": "5 - Excelente"},
    {"id": RATING_PREFIX + "4", "title": "4 - Muy bueno"},
    {"id": RATING_PREFIX + "3", "title": "3 - Bueno"},
    {"id": RATING_PREFIX + "2", "title": "2 - Regular"},
    {"id": RATING_PREFIX + "1", "title": "1 - Malo"},
)

# A follow-up (the better day after "Reprogramar", a comment after a
# rating) is expected within this many hours of the question.
FOLLOW_UP_HOURS = 24

_KEY_MARKER_MAX = 64
# What may follow the digit of a typed score: "4", "4/5", "4 de 5", "4 estrellas".
_RATING_TAILS = {"", "5", "DE 5", "ESTRELLA", "ESTRELLAS", "PUNTOS"}


def dedup_key(event, res_model, res_id, partner_id=None, marker=None):
    """One key per event, record, customer and occurrence (date, state, user).

    Long markers are hashed so the key stays short and indexable.
    """
    marker = "" if marker in (None, False) else str(marker)
    if len(marker) > _KEY_MARKER_MAX:
        marker = "h" + hashlib.sha256(marker.encode("utf-8")).hexdigest()[:40]
    return ":".join((event, res_model, str(int(res_id)), "p%s" % (partner_id or 0), marker))


def reply_action(*said):
    """CONFIRM, RESCHEDULE, CANCEL or None from a button's payload or text.

    The first of said that names an action wins (payload before title).
    """
    for text in said:
        words = normalize(text)
        if not words:
            continue
        for action, names in _REPLY_WORDS.items():
            if words in names:
                return action
    return None


def parse_rating(*said):
    """A satisfaction score 1-5 from a list reply id, its title or a typed
    answer ("4", "4 - Muy bueno", "⭐⭐⭐⭐"); None when it is not one."""
    for text in said:
        if not text:
            continue
        text = str(text).strip()
        if text.startswith(RATING_PREFIX):
            text = text[len(RATING_PREFIX):]
        stars = text.count("⭐")
        if stars and not text.replace("⭐", "").strip():
            return stars if 1 <= stars <= 5 else None
        match = re.match(r"^([1-5])(?!\d)(.*)$", text, re.DOTALL)
        if not match:
            continue
        rest = match.group(2).strip()
        if rest.startswith(("-", "–")) or normalize(rest) in _RATING_TAILS:
            return int(match.group(1))
    return None


class MappingError(ValueError):
    """A variable mapping that cannot be read, with the line at fault."""


_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")

FIELD = "field"
TEXT = "text"


def parse_mapping(text):
    """The mapping a server action gives its template's variables.

    One variable per line: ``tech_name = user_ids.name`` (a field path on
    the record) or ``company_name = "CampoTech"`` (a fixed text, quoted).
    Blank lines and lines starting with # are ignored. Returns
    {variable: (FIELD|TEXT, value)} in line order.
    """
    mapping = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip().strip("{}").strip(), value.strip()
        if not sep or not _NAME.match(name) or not value:
            raise MappingError(
                "Line %d: write one variable per line as name = field.path or name = \"text\"."
                % number)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            mapping[name] = (TEXT, value[1:-1])
        elif _PATH.match(value):
            mapping[name] = (FIELD, value)
        else:
            raise MappingError(
                "Line %d: %r is neither a field path nor a quoted text." % (number, value))
    return mapping
