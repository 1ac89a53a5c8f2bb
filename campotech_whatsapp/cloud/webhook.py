"""Webhook verification: Meta's GET handshake and the POST signature.

The signature is an HMAC-SHA256 of the exact raw request bytes with the
app secret; it is never computed over re-serialised JSON, which would
change whitespace, key order and escapes.
"""

import hashlib
import hmac

from .errors import CloudError

_PREFIX = "sha256="


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
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


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
    if len(received) != 64 or any(c not in "0123456789abcdef" for c in received):
        raise SignatureError("malformed X-Hub-Signature-256 header (expected 64 hex digits)")
    if isinstance(raw_body, str):
        raw_body = raw_body.encode()
    if not hmac.compare_digest(sign(raw_body, app_secret)[len(_PREFIX):], received):
        raise SignatureError("X-Hub-Signature-256 does not match the request body")


def verify_signature(raw_body, header, app_secret):
    """Return True when header is the right signature of raw_body."""
    try:
        check_signature(raw_body, header, app_secret)
    except SignatureError:
        return False
    return True
