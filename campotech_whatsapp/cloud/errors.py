"""Errors the engine raises, and how each Meta error should be handled.

A Meta error is classified once, here, so the queue, the webhook processor
and the UI all agree on whether to retry, hold for a template, or call an
administrator.
"""

import enum

from . import constants as C


class ErrorClass(str, enum.Enum):
    """What the caller should do about an error."""

    RETRYABLE = "retryable"  # transient: retry with backoff
    THROTTLED = "throttled"  # a rate limit: retry later, slower
    WINDOW_CLOSED = "window_closed"  # 24 h window closed: send a template
    ADMIN = "admin"  # token or permission: pause and alert an admin
    PERMANENT = "permanent"  # this message will never go through as is


_THROTTLED = {C.ERR_APP_RATE, C.ERR_WABA_RATE, C.ERR_THROUGHPUT, C.ERR_PAIR_RATE}
_RETRYABLE = set(C.ERR_TEMPORARY) | {C.ERR_GENERIC, C.ERR_UNAVAILABLE}
_ADMIN = {C.ERR_TOKEN_EXPIRED} | set(C.ERR_PERMISSION)


def classify(code=None, http_status=None):
    """Return the ErrorClass for a Meta error code and/or HTTP status."""
    if code in _THROTTLED:
        return ErrorClass.THROTTLED
    if code == C.ERR_REENGAGEMENT:
        return ErrorClass.WINDOW_CLOSED
    if code in _ADMIN:
        return ErrorClass.ADMIN
    if code in _RETRYABLE:
        return ErrorClass.RETRYABLE
    if code is None and http_status is None:
        # No answer at all (timeout, connection refused): worth another try.
        return ErrorClass.RETRYABLE
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return ErrorClass.THROTTLED if http_status == 429 else ErrorClass.RETRYABLE
    return ErrorClass.PERMANENT


class CloudError(Exception):
    """Base class of every error the engine raises on purpose."""


class PayloadError(CloudError, ValueError):
    """An outbound payload or a template parameter set is invalid.

    Raised before anything is sent; the message names the problem.
    """


class MediaTooLargeError(PayloadError):
    """A file is bigger than Meta accepts for its kind (or of a type it refuses)."""


class CloudApiError(CloudError):
    """Meta answered with an error, or did not answer at all.

    Carries Meta's fields and a classification. Never carries the access
    token: the client scrubs it from any text before raising.
    """

    def __init__(self, message, code=None, subcode=None, title=None,
                 details=None, fbtrace_id=None, http_status=None,
                 retry_after=None, error_class=None):
        self.message = message or ""
        self.code = code
        self.subcode = subcode
        self.title = title
        self.details = details
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.retry_after = retry_after
        self.error_class = ErrorClass(error_class) if error_class else classify(code, http_status)
        super().__init__(str(self))

    @property
    def retryable(self):
        return self.error_class in (ErrorClass.RETRYABLE, ErrorClass.THROTTLED)

    @property
    def permanent(self):
        return not self.retryable

    def __str__(self):
        head = "Meta error %s" % self.code if self.code is not None else "WhatsApp Cloud API error"
        if self.subcode:
            head += "/%s" % self.subcode
        if self.http_status:
            head += " (HTTP %s)" % self.http_status
        text = "%s: %s" % (head, self.message)
        if self.details and self.details not in self.message:
            text += " (%s)" % self.details
        if self.fbtrace_id:
            text += " [fbtrace_id %s]" % self.fbtrace_id
        return text

    def __repr__(self):
        return "%s(code=%r, subcode=%r, http_status=%r, error_class=%r, message=%r)" % (
            type(self).__name__, self.code, self.subcode, self.http_status,
            self.error_class.value, self.message)

    def as_dict(self):
        """Plain fields, for storing on a queue item or a message."""
        return {
            "code": self.code,
            "subcode": self.subcode,
            "title": self.title,
            "message": self.message,
            "details": self.details,
            "fbtrace_id": self.fbtrace_id,
            "http_status": self.http_status,
            "retry_after": self.retry_after,
            "error_class": self.error_class.value,
        }


class TransportError(CloudApiError):
    """No usable HTTP answer: timeout, connection refused, broken body.

    By default classified from the HTTP status alone; a caller that knows
    better (a garbled answer to a GET is safe to ask again) passes error_class.
    """

    def __init__(self, message, http_status=None, error_class=None):
        super().__init__(message, http_status=http_status,
                         error_class=error_class or classify(None, http_status))


class MediaIntegrityError(CloudApiError):
    """Downloaded media does not match the hash (or size) Meta announced.

    Retryable: the usual cause is a truncated download, and a fresh media URL
    gives the whole file.
    """

    def __init__(self, message, media_id=None):
        super().__init__(message, error_class=ErrorClass.RETRYABLE)
        self.media_id = media_id


def redact(text, secrets):
    """Return text with every non-empty secret replaced by a mask."""
    if not text:
        return text
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


_FAILURE_BY_CODE = {
    C.ERR_REENGAGEMENT: "window_closed",
    C.ERR_UNDELIVERABLE: "undeliverable",
    C.ERR_RECIPIENT_NOT_ALLOWED: "undeliverable",
    C.ERR_SPAM_LIMIT: "undeliverable",
    C.ERR_TEMPLATE_MISSING: "template",
    C.ERR_TEMPLATE_PAUSED: "template",
    C.ERR_TEMPLATE_DISABLED: "template",
    C.ERR_TEMPLATE_FORMAT: "template",
    C.ERR_TEMPLATE_TEXT_TOO_LONG: "template",
    C.ERR_INVALID_PARAMETER: "invalid_parameter",
    C.ERR_INVALID_PARAMETER_VALUE: "invalid_parameter",
    C.ERR_REQUIRED_PARAMETER: "invalid_parameter",
    C.ERR_UNSUPPORTED_TYPE: "invalid_parameter",
    C.ERR_TEMPLATE_PARAM_COUNT: "invalid_parameter",
    C.ERR_TEMPLATE_PARAM_MISMATCH: "invalid_parameter",
    C.ERR_TEMPLATE_PARAM_FORMAT: "invalid_parameter",
    C.ERR_TOKEN_EXPIRED: "token",
    C.ERR_ACCESS_DENIED: "token",
    C.ERR_ACCOUNT_LOCKED: "token",
    C.ERR_MEDIA_UPLOAD: "media_too_large",
}
_FAILURE_BY_CODE.update({code: "token" for code in C.ERR_PERMISSION})


def failure_type(error):
    """One of constants.FAILURE_TYPES for an exception that failed a send.

    Meta's code decides when there is one; our own refusals say what they
    are (a file too big, a bad payload); the rest is "unknown".
    """
    if isinstance(error, MediaTooLargeError):
        return "media_too_large"
    if isinstance(error, PayloadError):
        return "invalid_parameter"
    if isinstance(error, CloudApiError):
        found = _FAILURE_BY_CODE.get(error.code)
        if found:
            return found
        if error.error_class is ErrorClass.ADMIN:
            return "token"
        if error.error_class is ErrorClass.WINDOW_CLOSED:
            return "window_closed"
    return "unknown"
