"""Consent words: which customer messages opt them out of automated
messages, and which opt them back in.

A message counts only when it *is* the word, once accents, case,
punctuation and extra spaces are set aside: "Baja.", "stop!", "No más" and
"CANCELAR SUSCRIPCIÓN" opt out; "quiero darme de baja del curso" or "no más
de dos días" do not, because a customer writing a sentence is talking to a
person, and opting them out by accident would silence their job updates.

Opting back in takes its own word ("ALTA", "START"): an ordinary message
after a STOP never re-subscribes anyone.
"""

import re
import unicodedata

OPT_OUT = "opt_out"
OPT_IN = "opt_in"

DEFAULT_STOP_WORDS = ("BAJA", "STOP", "NO MAS", "CANCELAR SUSCRIPCION", "UNSUBSCRIBE")
DEFAULT_START_WORDS = ("ALTA", "START")

# What the customer reads back, once per change.
TEXT_OPTED_OUT = ("Listo, no vas a recibir más mensajes automáticos de nuestra parte. "
                  "Si querés volver a recibirlos, respondé ALTA.")
TEXT_OPTED_IN = ("¡Bienvenido de nuevo! Vas a volver a recibir avisos de tus trabajos, "
                 "facturas y pagos. Para dejar de recibirlos, respondé BAJA.")

_NOT_WORD = re.compile(r"[^\w]+", re.UNICODE)


def normalize(text):
    """Upper-case words without accents or punctuation: "¡No más!" -> "NO MAS"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_WORD.sub(" ", plain).replace("_", " ").split()).upper()


def parse_words(text, default=()):
    """Words from a setting: one per line or comma separated; default when empty."""
    if not text or not str(text).strip():
        return tuple(default)
    words = (normalize(part) for part in re.split(r"[,\n;]", str(text)))
    return tuple(dict.fromkeys(word for word in words if word))


def command(text, stop_words=DEFAULT_STOP_WORDS, start_words=DEFAULT_START_WORDS):
    """OPT_OUT, OPT_IN, or None for an ordinary message."""
    said = normalize(text)
    if not said:
        return None
    if said in {normalize(word) for word in stop_words}:
        return OPT_OUT
    if said in {normalize(word) for word in start_words}:
        return OPT_IN
    return None


def transition(opted_out, action):
    """Whether applying action changes anything: a second STOP is not confirmed again."""
    if action == OPT_OUT:
        return not opted_out
    if action == OPT_IN:
        return bool(opted_out)
    return False
