"""HTTP client for the WhatsApp Cloud API (Meta's Graph API).

One ``requests.Session``, the bearer token on every Graph call, a timeout on
every request, and every failure turned into a ``CloudApiError`` (or its
``TransportError`` subclass) whose text has been scrubbed of the token: Meta,
a proxy or ``requests`` itself may echo a URL or a header back at us, and
those texts end up in queue records, chatter messages and logs.
"""

import base64
import binascii
import dataclasses
import email.utils
import hashlib
import json
import logging
import re
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from . import constants as C
from .errors import (  # noqa: F401 - MediaIntegrityError is raised here and re-exported
    CloudApiError, ErrorClass, MediaIntegrityError, PayloadError, TransportError, redact)

_logger = logging.getLogger(__name__)

_VERSION_RE = re.compile(r"v(\d{1,3})\.(\d{1,2})")
# Graph tokens are printable ASCII; a space or newline (a bad copy-paste) would
# make requests raise InvalidHeader with the header value in its message.
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")
_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")
_CHUNK = 64 * 1024

PHONE_NUMBER_FIELDS = (
    "display_phone_number", "verified_name", "quality_rating",
    "code_verification_status", "throughput",
)


@dataclasses.dataclass(frozen=True)
class SendResult:
    """What Meta answered to an accepted send."""

    wamid: str
    wa_id: str | None
    input: str | None
    message_status: str | None = None  # e.g. "accepted", "held_for_quality_assessment"
    raw: dict = dataclasses.field(default_factory=dict, repr=False)


@dataclasses.dataclass(frozen=True)
class MediaInfo:
    """Metadata of a media object; ``url`` is short-lived (minutes)."""

    id: str
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


def check_api_version(api_version):
    """Return api_version when it looks like ``v24.0`` and has not expired."""
    match = _VERSION_RE.fullmatch(api_version) if isinstance(api_version, str) else None
    if not match:
        raise ValueError("api_version must look like 'v24.0', got %r" % (api_version,))
    if (int(match[1]), int(match[2])) < C.MIN_API_VERSION:
        raise ValueError(
            "Graph API %s has expired; use v%d.%d or later" % ((api_version,) + C.MIN_API_VERSION))
    return api_version


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date).

    Returns None when the header is absent or unreadable, never a negative number.
    """
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # RFC 9110 dates are GMT
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())


def sha256_matches(content, expected):
    """True when expected is the SHA-256 of content, as hex or as base64.

    The media endpoint gives hex; inbound webhooks have been seen carrying the
    same digest base64-encoded, so both spellings are accepted.
    """
    expected = (expected or "").strip()
    digest = hashlib.sha256(content).digest()
    if expected.lower() == digest.hex():
        return True
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            if decode(expected + "=" * (-len(expected) % 4)) == digest:
                return True
        except (binascii.Error, ValueError):
            continue
    return False


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CloudClient:
    """Talks to the Graph API for one WhatsApp phone number / business account."""

    def __init__(self, access_token, phone_number_id=None, waba_id=None, *,
                 base_url=C.GRAPH_URL, api_version=C.DEFAULT_API_VERSION,
                 timeout=C.DEFAULT_TIMEOUT, session=None):
        token = access_token.strip() if isinstance(access_token, str) else ""
        if not token:
            raise ValueError("an access token is required")
        if not _TOKEN_RE.fullmatch(token):
            # Never echo the value: it is (probably) the secret.
            raise ValueError("the access token contains spaces or non-printable characters")
        self._token = token
        self.phone_number_id = str(phone_number_id) if phone_number_id else None
        self.waba_id = str(waba_id) if waba_id else None
        self.api_version = check_api_version(api_version)
        parts = urlsplit(base_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("base_url must be an http(s) URL, got %r" % (base_url,))
        self.base_url = base_url.rstrip("/")
        self._origin = (parts.scheme, parts.netloc.lower())
        self.timeout = self._check_timeout(timeout)
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()

    @staticmethod
    def _check_timeout(timeout):
        values = timeout if isinstance(timeout, tuple) else (timeout,)
        if len(values) != (2 if isinstance(timeout, tuple) else 1) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in values):
            # A missing timeout lets a dead socket hang a cron worker forever.
            raise ValueError("timeout must be a positive number or a (connect, read) pair")
        return timeout

    def __repr__(self):
        return "%s(phone_number_id=%r, waba_id=%r, api_version=%r, base_url=%r)" % (
            type(self).__name__, self.phone_number_id, self.waba_id,
            self.api_version, self.base_url)

    def close(self):
        """Close the session if this client created it."""
        if self._own_session:
            self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # --- Messages ---------------------------------------------------------

    def send(self, payload):
        """POST a message payload; return the SendResult with Meta's wamid."""
        if not isinstance(payload, dict):
            raise PayloadError("a send payload must be a dict, got %s" % type(payload).__name__)
        data, status = self._call("POST", self._phone_path("send", "messages"), json=payload)
        messages = data.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else None
        if not isinstance(first, dict) or not first.get("id"):
            # Meta may have accepted the message: the caller must not resend blindly.
            raise TransportError(
                "send: Meta answered HTTP %s without a message id; the message may or may "
                "not have been sent" % status, http_status=status)
        contacts = data.get("contacts")
        contact = contacts[0] if isinstance(contacts, list) and contacts else {}
        contact = contact if isinstance(contact, dict) else {}
        return SendResult(
            wamid=first["id"], wa_id=contact.get("wa_id"), input=contact.get("input"),
            message_status=first.get("message_status"), raw=data)

    def mark_read(self, wamid, typing=False):
        """Mark an inbound message read (blue ticks), optionally showing typing."""
        if not wamid:
            raise ValueError("mark_read needs the wamid of an inbound message")
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        if typing:
            body["typing_indicator"] = {"type": "text"}
        data, _status = self._call("POST", self._phone_path("mark_read", "messages"), json=body)
        return data.get("success") is True

    # --- Media ------------------------------------------------------------

    def upload_media(self, content, mime_type, filename):
        """Upload bytes to Meta; return the media id to send them with."""
        if not isinstance(content, (bytes, bytearray)) or not content:
            raise ValueError("upload_media needs non-empty bytes")
        if not mime_type:
            raise ValueError("upload_media needs a mime type")
        data, status = self._call(
            "POST", self._phone_path("upload_media", "media"),
            files={"file": (filename or "file", bytes(content), mime_type)},
            data={"type": mime_type, "messaging_product": "whatsapp"})
        media_id = data.get("id")
        if not media_id:
            raise TransportError("upload_media: Meta answered HTTP %s without a media id" % status,
                                 http_status=status)
        return str(media_id)

    def get_media(self, media_id):
        """Return the MediaInfo (short-lived URL, mime type, sha256, size) of a media id."""
        if not media_id:
            raise ValueError("get_media needs a media id")
        data, status = self._call("GET", str(media_id))
        if not data.get("url"):
            raise TransportError("get_media: Meta answered HTTP %s without a download url" % status,
                                 http_status=status, error_class=ErrorClass.RETRYABLE)
        return MediaInfo(
            id=str(data.get("id") or media_id), url=data["url"], mime_type=data.get("mime_type"),
            sha256=data.get("sha256"), file_size=_int_or_none(data.get("file_size")))

    def download_media(self, url, max_bytes=None):
        """GET a media URL with the bearer header; refuse more than max_bytes."""
        limit = C.MEDIA_DOWNLOAD_MAX_BYTES if max_bytes is None else max_bytes
        parts = urlsplit(url or "")
        if not parts.netloc or (parts.scheme != "https"
                                and (parts.scheme, parts.netloc.lower()) != self._origin):
            # The bearer token goes with this request: never over plain http to a stranger.
            raise CloudApiError(
                "refusing to download media from a non-https URL (host %r)" % parts.netloc,
                error_class=ErrorClass.PERMANENT)
        log_path = "%s%s" % (parts.netloc, parts.path)
        response = self._request("GET", url, log_path, stream=True)
        try:
            if not 200 <= response.status_code < 300:
                raise self._api_error(response, "GET", log_path, streamed=True)
            declared = _int_or_none(response.headers.get("Content-Length"))
            if declared is not None and declared > limit:
                raise self._too_big(limit)
            chunks, size = [], 0
            try:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise self._too_big(limit)
                    chunks.append(chunk)
            except (requests.RequestException, OSError) as exc:
                raise self._transport_error(exc, "GET", log_path) from self._cause(exc)
            _logger.debug("WhatsApp Cloud API GET %s: %d bytes downloaded", log_path, size)
            return b"".join(chunks)
        finally:
            response.close()

    @staticmethod
    def _too_big(limit):
        return CloudApiError("media is larger than the %d bytes allowed" % limit,
                             error_class=ErrorClass.PERMANENT)

    def fetch_media(self, media_id, expected_sha256=None, max_bytes=None):
        """Resolve a media id and download it; return (bytes, MediaInfo).

        The hash checked is expected_sha256 (from the webhook) when given, else
        the one in the media metadata; MediaIntegrityError on a mismatch.
        """
        info = self.get_media(media_id)
        content = self.download_media(info.url, max_bytes=max_bytes)
        expected = expected_sha256 or info.sha256
        if expected:
            if not sha256_matches(content, expected):
                raise MediaIntegrityError(
                    "media %s: sha256 of the %d downloaded bytes does not match the expected "
                    "hash" % (media_id, len(content)), media_id=str(media_id))
        elif info.file_size is not None and info.file_size != len(content):
            raise MediaIntegrityError(
                "media %s: downloaded %d bytes, Meta announced %d"
                % (media_id, len(content), info.file_size), media_id=str(media_id))
        return content, info

    def delete_media(self, media_id):
        """Delete an uploaded media object; True when Meta confirms."""
        if not media_id:
            raise ValueError("delete_media needs a media id")
        data, _status = self._call("DELETE", str(media_id))
        return data.get("success") is True

    # --- Templates and account ------------------------------------------

    def list_templates(self, fields=None, limit=100):
        """Every message template of the WABA, following ``paging.next``."""
        path = self._waba_path("list_templates", "message_templates")
        params = {"limit": int(limit)}
        if fields:
            params["fields"] = fields if isinstance(fields, str) else ",".join(fields)
        url, seen, templates = self._url(path), set(), []
        for _page in range(C.MAX_PAGES):
            data, status = self._call("GET", url, params=params, absolute=True)
            page = data.get("data")
            if not isinstance(page, list):
                raise TransportError(
                    "list_templates: HTTP %s answer has no 'data' list" % status,
                    http_status=status)
            templates.extend(page)
            next_url = (data.get("paging") or {}).get("next")
            if not next_url:
                return templates
            url, params = self._paging_url(next_url), None
            if url in seen:
                raise CloudApiError("list_templates: paging.next repeats a page already read",
                                    error_class=ErrorClass.PERMANENT)
            seen.add(url)
        raise CloudApiError("list_templates: more than %d pages" % C.MAX_PAGES,
                            error_class=ErrorClass.PERMANENT)

    def create_template(self, definition):
        """Submit a template for review; return Meta's answer ({id, status, category})."""
        if not isinstance(definition, dict):
            raise PayloadError("a template definition must be a dict")
        path = self._waba_path("create_template", "message_templates")
        data, _status = self._call("POST", path, json=definition)
        return data

    def upload_sample(self, app_id, content, mime_type, filename):
        """Upload a sample file with Meta's Resumable Upload API; return its handle.

        Template review needs the handle (``example.header_handle``) of a sample
        for a media header. Two calls: open a session on the app, then send the
        bytes in one piece (``file_offset: 0``) with the OAuth header.
        """
        app_id = str(app_id or "").strip()
        if not app_id.isdigit():
            raise ValueError("upload_sample needs the numeric Meta App ID")
        if not isinstance(content, (bytes, bytearray)) or not content:
            raise ValueError("upload_sample needs non-empty bytes")
        if not mime_type:
            raise ValueError("upload_sample needs a mime type")
        params = {"file_name": filename or "sample", "file_length": len(content),
                  "file_type": mime_type}
        data, status = self._call("POST", "%s/uploads" % app_id, params=params)
        session = str(data.get("id") or "")
        if not session.startswith("upload:"):
            raise TransportError("upload_sample: Meta answered HTTP %s without an upload session"
                                 % status, http_status=status)
        data, status = self._call(
            "POST", session, data=bytes(content),
            headers={"Authorization": "OAuth %s" % self._token, "file_offset": "0"})
        handle = data.get("h")
        if not handle:
            raise TransportError("upload_sample: Meta answered HTTP %s without a file handle"
                                 % status, http_status=status)
        return str(handle)

    def get_phone_number(self):
        """Name, number, quality and throughput of the phone number ("Test connection")."""
        path = self._phone_path("get_phone_number", "")
        data, _status = self._call("GET", path, params={"fields": ",".join(PHONE_NUMBER_FIELDS)})
        return data

    # --- Plumbing ----------------------------------------------------------

    def _phone_path(self, method, tail):
        if not self.phone_number_id:
            raise ValueError("%s() needs the client's phone_number_id" % method)
        return "%s/%s" % (self.phone_number_id, tail) if tail else self.phone_number_id

    def _waba_path(self, method, tail):
        if not self.waba_id:
            raise ValueError(
                "%s() needs the client's waba_id (WhatsApp Business Account id)" % method)
        return "%s/%s" % (self.waba_id, tail)

    def _url(self, path):
        return "%s/%s/%s" % (self.base_url, self.api_version, path.lstrip("/"))

    def _paging_url(self, next_url):
        try:
            parts = urlsplit(next_url) if isinstance(next_url, str) else None
        except ValueError:  # e.g. a broken IPv6 literal
            parts = None
        if not parts or (parts.scheme, parts.netloc.lower()) != self._origin:
            host = parts.netloc if parts else None
            raise CloudApiError(
                self._scrub("list_templates: refusing to follow paging.next to %r" % (host,)),
                error_class=ErrorClass.PERMANENT)
        # Graph puts the token in paging URLs; we send it as a header instead,
        # so it can never surface in a logged URL or a requests error message.
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                 if k != "access_token"]
        return urlunsplit(parts._replace(query=urlencode(query)))

    def _scrub(self, text):
        return redact(text, [self._token]) if isinstance(text, str) else text

    def _call(self, method, path, *, params=None, json=None, data=None, files=None,
              absolute=False, headers=None):
        """One Graph call: return (JSON object, HTTP status) or raise CloudApiError."""
        url = path if absolute else self._url(path)
        log_path = urlsplit(url).path
        response = self._request(method, url, log_path, params=params, json=json,
                                 data=data, files=files, headers=headers)
        if not 200 <= response.status_code < 300:
            raise self._api_error(response, method, log_path)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TransportError(
                self._scrub("%s %s: HTTP %s answer is not a JSON object: %s" % (
                    method, log_path, response.status_code, self._excerpt(response.text))),
                http_status=response.status_code)
        if isinstance(body.get("error"), dict):
            raise self._api_error(response, method, log_path, body=body)
        return body, response.status_code

    def _request(self, method, url, log_path, headers=None, **kwargs):
        started = time.monotonic()
        try:
            response = self._session.request(
                method, url, headers=headers or {"Authorization": "Bearer %s" % self._token},
                timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            self._log(method, log_path, type(exc).__name__, started)
            raise self._transport_error(exc, method, log_path) from self._cause(exc)
        self._log(method, log_path, response.status_code, started)
        return response

    @staticmethod
    def _log(method, log_path, outcome, started):
        _logger.debug("WhatsApp Cloud API %s %s -> %s in %.0f ms",
                      method, log_path, outcome, (time.monotonic() - started) * 1000)

    def _cause(self, exc):
        # Keep the original exception for tracebacks unless its text holds the token.
        return None if self._token in "%s %r" % (exc, exc) else exc

    def _transport_error(self, exc, method, log_path):
        what = self._scrub("%s %s" % (method, log_path))
        if isinstance(exc, requests.Timeout):
            # After a read timeout Meta may have acted on the request (a send
            # may have gone out); say so, the caller decides about resending.
            maybe = ("" if isinstance(exc, requests.ConnectTimeout)
                     else "; the request may have reached Meta")
            return TransportError("no answer to %s within the timeout (%s, %s%s)"
                                  % (what, self._timeout_text(), type(exc).__name__, maybe))
        detail = self._excerpt(str(exc))
        if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                            requests.exceptions.ContentDecodingError, OSError)):
            return TransportError("connection failed during %s (%s): %s"
                                  % (what, type(exc).__name__, detail))
        # Bad URL, too many redirects...: repeating the same request cannot help.
        return CloudApiError("request %s could not be made (%s): %s"
                             % (what, type(exc).__name__, detail),
                             error_class=ErrorClass.PERMANENT)

    def _timeout_text(self):
        if isinstance(self.timeout, tuple):
            return "connect %s s, read %s s" % self.timeout
        return "%s s" % self.timeout

    def _api_error(self, response, method, log_path, body=None, streamed=False):
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        text = None
        if body is None:
            text = self._read_text(response, streamed)
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return CloudApiError(
                self._scrub("%s %s answered HTTP %s %s: %s" % (
                    method, log_path, status, response.reason or "",
                    self._excerpt(text if text is not None else response.text))),
                http_status=status, retry_after=retry_after)
        error_data = err.get("error_data") if isinstance(err.get("error_data"), dict) else {}
        details = error_data.get("details") or err.get("error_user_msg")
        return CloudApiError(
            self._scrub(str(err.get("message") or "HTTP %s" % status)),
            code=_int_or_none(err.get("code")),
            subcode=_int_or_none(err.get("error_subcode")),
            title=self._scrub(err.get("error_user_title") or err.get("type")),
            details=self._scrub(str(details)) if details else None,
            fbtrace_id=self._scrub(err.get("fbtrace_id")),
            http_status=status, retry_after=retry_after)

    @staticmethod
    def _read_text(response, streamed):
        if not streamed:
            return response.text
        # A streamed error body could be anything; an excerpt needs only its start.
        try:
            head = next(response.iter_content(_CHUNK), b"")
        except (requests.RequestException, OSError):
            head = b""
        return head.decode(response.encoding or "utf-8", errors="replace")

    def _excerpt(self, text):
        text = _SPACE_RE.sub(" ", _TAG_RE.sub(" ", text or "")).strip()
        text = self._scrub(text) or "(empty body)"
        if len(text) > C.ERROR_EXCERPT_CHARS:
            text = text[:C.ERROR_EXCERPT_CHARS] + "…"
        return text
