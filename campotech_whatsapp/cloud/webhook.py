"""Webhook verification: Meta's GET handshake and the POST signature.

The signature is an HMAC-SHA256 of the exact raw request bytes with the
app secret; it is never computed over re-serialised JSON, which would
change whitespace, key order and escapes.
"""

import dataclasses
import enum
import hashlib
import hmac
import json
import re

from .errors import CloudError

_PREFIX = "sha256="
# What follows the prefix, once lower-cased: a regex, because a per-character
# loop in Python costs more than the HMAC of a 5 kB body.
_HEX_DIGEST = re.compile("[0-9a-f]{64}")


class SignatureError(CloudError):
    """A webhook POST whose X-Hub-Signature-256 is missing, malformed or wrong."""


def verify_challenge(mode, token, challenge, expected_token):
    """Answer Meta's subscription handshake.

    Return the challenge to echo back when ``mode`` is ``subscribe`` and
    ``token`` equals ``expected_token``; return None (answer 403) otherwise.
    """
    if mode != "subscribe" or not expected_token or not token or challenge is None:
        return None
    if not hmac.compare_digest(str(token).encode(), str(expected_token).encode()):
        return None
    return str(challenge)


def sign(raw_body, app_secret):
    """Return the X-Hub-Signature-256 header value Meta would send for raw_body."""
    if isinstance(raw_body, str):
        raw_body = raw_body.encode()
    return _PREFIX + _digest(raw_body, app_secret).hex()


def _digest(raw_body, app_secret):
    # hmac.digest is OpenSSL's one-shot HMAC, without the HMAC object of hmac.new.
    return hmac.digest(app_secret.encode(), raw_body, hashlib.sha256)


def check_signature(raw_body, header, app_secret):
    """Raise SignatureError unless header is the right signature of raw_body."""
    if not app_secret:
        raise SignatureError("no app secret is configured to check the signature")
    if not header:
        raise SignatureError("missing X-Hub-Signature-256 header")
    header = header.strip()
    if not header.startswith(_PREFIX):
        raise SignatureError("malformed X-Hub-Signature-256 header (expected 'sha256=<hex>')")
    received = header[len(_PREFIX):].lower()
    if not _HEX_DIGEST.fullmatch(received):
        raise SignatureError("malformed X-Hub-Signature-256 header (expected 64 hex digits)")
    if isinstance(raw_body, str):
        raw_body = raw_body.encode()
    # Constant time: compare_digest of two 32-byte digests.
    if not hmac.compare_digest(_digest(raw_body, app_secret), bytes.fromhex(received)):
        raise SignatureError("X-Hub-Signature-256 does not match the request body")


def verify_signature(raw_body, header, app_secret):
    """Return True when header is the right signature of raw_body."""
    try:
        check_signature(raw_body, header, app_secret)
    except SignatureError:
        return False
    return True


# --- What a webhook POST comes to ---------------------------------------------

class Outcome(enum.Enum):
    """What became of a webhook POST; the controller turns it into HTTP."""

    STORED = "stored"  # verified and kept: acknowledge it
    REFUSED = "refused"  # no app secret verifies it (or nothing names an account)
    TOO_LARGE = "too_large"  # refused unread, by its size


@dataclasses.dataclass(frozen=True)
class Receipt:
    """The outcome of one POST, why, and the stored log (an empty one unless STORED)."""

    outcome: Outcome
    reason: str = ""
    log: object = None

    @property
    def stored(self):
        return self.outcome is Outcome.STORED


# --- Showing a body that may not be text --------------------------------------

# Controls other than tab, newline and carriage return, and NUL above all,
# which no PostgreSQL text holds.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20)) + b"\x7f"


def body_text(raw_body):
    """The body as text a database column holds and a person can read.

    A UTF-8 body without control characters is returned exactly; otherwise
    each undecodable byte shows as ``\\xNN`` and each control character as
    ``\\xNN`` too. Meant for display and search: the raw bytes are what is
    kept and processed.
    """
    raw_body = bytes(raw_body or b"")
    text = raw_body.decode("utf-8", "backslashreplace")
    # On the ack path: UTF-8 writes these controls only as their own bytes
    # (every byte of a longer character is 0x80 or more, and an undecodable
    # byte shows as "\\x.."), so a body without those bytes is its text as
    # decoded, and C-speed bytes.translate spares the regex pass (half the
    # time json.loads takes over the same body).
    if len(raw_body.translate(None, _CONTROL_BYTES)) == len(raw_body):
        return text
    return _CONTROLS.sub(lambda match: "\\x%02x" % ord(match.group()), text)


def body_pretty(raw_body):
    """The body indented when it is JSON, else as ``body_text`` shows it."""
    text = body_text(raw_body)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if not isinstance(data, (dict, list)):
        return text
    try:
        pretty = json.dumps(data, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
    # A JSON "\\ud800" escape decodes to a lone surrogate, which no text column holds.
    return pretty.encode("utf-8", "backslashreplace").decode("utf-8")
