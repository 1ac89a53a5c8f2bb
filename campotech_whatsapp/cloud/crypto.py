"""Encryption of stored secrets (access tokens, app secrets) with Fernet.

The key lives outside the database, so a database dump alone does not leak
the secrets: it comes from the Odoo config file (``campotech_whatsapp_key``
in odoo.conf, passed in by the Odoo layer) or from the environment variable
``CAMPOTECH_WHATSAPP_KEY``. Several comma-separated keys, newest first,
allow rotation: the first encrypts, all decrypt, and :meth:`TokenCipher.rotate`
re-encrypts an old token with the newest key.

Generate a key with::

    python -m campotech_whatsapp.cloud.crypto

(from the addons directory, or anywhere with ``python -c "from
cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``).

No message, repr or log line here contains a key or a plaintext.
"""

import base64
import binascii
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import CloudError

ENV_VAR = "CAMPOTECH_WHATSAPP_KEY"
CONFIG_OPTION = "campotech_whatsapp_key"
_GENERATE_HINT = "generate one with: python -m campotech_whatsapp.cloud.crypto"

# A Fernet token: version byte 0x80, 8-byte timestamp, 16-byte IV, a
# ciphertext of whole 16-byte blocks (at least one) and a 32-byte HMAC.
_FERNET_VERSION = 0x80
_TOKEN_OVERHEAD = 1 + 8 + 16 + 32
_TOKEN_MIN_BYTES = _TOKEN_OVERHEAD + 16


class CryptoError(CloudError):
    """Encryption is misconfigured or failed."""


class KeyMissingError(CryptoError):
    """No encryption key is configured."""


class DecryptError(CryptoError):
    """A token cannot be decrypted: wrong key, or altered/not a token."""


def generate_key():
    """Return a new random key, as text for odoo.conf or the environment."""
    return Fernet.generate_key().decode("ascii")


def is_encrypted(value):
    """True when value has the shape of a Fernet token.

    A heuristic for migrating secrets stored in clear: it checks the
    structure, not that any key of ours can decrypt it.
    """
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(value, str) or not value.startswith("gAAAAA"):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return (raw[0] == _FERNET_VERSION and len(raw) >= _TOKEN_MIN_BYTES
            and (len(raw) - _TOKEN_OVERHEAD) % 16 == 0)


def load_keys(config_value=None, environ=None, env_var=ENV_VAR):
    """Return the configured keys, newest first.

    ``config_value`` is the ``campotech_whatsapp_key`` option of odoo.conf
    (the Odoo layer reads it and passes it in); when it is empty the
    environment variable is used. Either holds one key or several,
    comma-separated, newest first. Raises KeyMissingError when neither is
    set, and CryptoError naming the position of a malformed key.
    """
    environ = os.environ if environ is None else environ
    if config_value:
        source, value = "the %s option in odoo.conf" % CONFIG_OPTION, config_value
    else:
        source, value = "the environment variable %s" % env_var, environ.get(env_var)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    keys = [part.strip() for part in (value or "").split(",") if part.strip()]
    if not keys:
        raise KeyMissingError(
            "no encryption key for WhatsApp secrets: set %s = <key> in odoo.conf "
            "or the environment variable %s (comma-separated, newest first, to "
            "rotate); %s" % (CONFIG_OPTION, env_var, _GENERATE_HINT))
    for position, key in enumerate(keys, 1):
        _fernet(key, position, len(keys), source)
    return keys


class TokenCipher:
    """Encrypts and decrypts secrets with one key or a list (newest first)."""

    generate_key = staticmethod(generate_key)
    is_encrypted = staticmethod(is_encrypted)

    def __init__(self, keys):
        if isinstance(keys, (str, bytes)):
            keys = [keys]
        keys = list(keys or ())
        if not keys:
            raise KeyMissingError("TokenCipher needs at least one key; " + _GENERATE_HINT)
        fernets = [_fernet(key, i, len(keys), "the key list") for i, key in enumerate(keys, 1)]
        self._fernet = MultiFernet(fernets)
        self._primary = fernets[0]
        self._count = len(fernets)

    def __repr__(self):
        return "<TokenCipher with %d key(s)>" % self._count

    def encrypt(self, plaintext):
        """Return the token (text) of plaintext, with the newest key."""
        if not isinstance(plaintext, str):
            raise TypeError("encrypt() takes text, not %s" % type(plaintext).__name__)
        return self._primary.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token):
        """Return the plaintext of token; DecryptError when no key fits."""
        try:
            data = self._fernet.decrypt(_token_bytes(token))
        except InvalidToken:
            raise DecryptError(
                "cannot decrypt the stored secret: it was encrypted with a key that is "
                "not configured (check %s in odoo.conf or %s), or it was altered; "
                "configure that key or enter the secret again" % (CONFIG_OPTION, ENV_VAR)) from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptError("the decrypted secret is not UTF-8 text") from None

    def rotate(self, token):
        """Return token re-encrypted with the newest key."""
        return self.encrypt(self.decrypt(token))


def _token_bytes(token):
    if isinstance(token, str):
        try:
            token = token.encode("ascii")
        except UnicodeEncodeError:
            token = b""
    if not isinstance(token, bytes) or not token:
        raise DecryptError("cannot decrypt the stored secret: it is not an encrypted token")
    return token


def _fernet(key, position, count, source):
    try:
        return Fernet(key.encode("ascii") if isinstance(key, str) else key)
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        # Name the position, never the key itself.
        raise CryptoError(
            "key %d of %d in %s is not a valid Fernet key (expected 44 characters "
            "of url-safe base64); %s" % (position, count, source, _GENERATE_HINT)) from None


def main(argv=None):
    """``python -m campotech_whatsapp.cloud.crypto``: print a new key (nothing else on stdout,
    so ``KEY=$(python -m ...)`` works); ``--help`` says where it goes."""
    import argparse  # pylint: disable=import-outside-toplevel  # only the command line needs it

    parser = argparse.ArgumentParser(
        prog="python -m campotech_whatsapp.cloud.crypto",
        description="Print a new Fernet key for the stored WhatsApp secrets.",
        epilog="Put it in odoo.conf as `%s = <key>` or in the environment as %s. To rotate, "
               "list the new key first: `%s = <new>,<old>`, press Re-encrypt Secrets on a "
               "WhatsApp account, then drop the old key." % (CONFIG_OPTION, ENV_VAR, CONFIG_OPTION))
    parser.parse_args(argv)
    print(generate_key())  # pylint: disable=print-used
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
