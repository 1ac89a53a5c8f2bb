"""The simulated Graph API: routes, auth, throughput, window, templates, media.

Transport-free: ``GraphApi.handle`` takes a parsed request and returns a
Reply, so the HTTP server stays a thin shell around it.
"""

import base64
import dataclasses
import email.parser
import email.policy
import hmac
import json
import re
from urllib.parse import urlencode

from .. import constants as C
from . import payloads as P
from . import validate
from .payloads import GraphError

_VERSION = re.compile(r"^v\d+\.\d+$")
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_HANDLE = re.compile(r"^\d+::\S+$")
# What the Resumable Upload API takes as a file_type.
_SAMPLE_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")
DROP = object()  # close the connection without an answer


@dataclasses.dataclass
class Reply:
    status: int
    body: object = None  # dict -> JSON, bytes -> raw, DROP
    content_type: str = "application/json"
    headers: dict = dataclasses.field(default_factory=dict)


def _json(status, body):
    return Reply(status, body)


def default_http_status(code):
    if code == C.ERR_TOKEN_EXPIRED:
        return 401
    if code in (C.ERR_GENERIC,):
        return 500
    if code in (2, C.ERR_UNAVAILABLE):
        return 503
    return 400


class GraphApi:
    """Meta's Graph API subset the client uses, answered from a SimState."""

    def __init__(self, sim):
        self.sim = sim  # the Simulator: config, state, clock, deliverer, bucket

    @property
    def store(self):
        return self.sim.store

    @property
    def config(self):
        return self.sim.config

    # --- entry -----------------------------------------------------------------
    def handle(self, method, path, query, headers, raw):
        """Answer one Graph request (path like /v24.0/123/messages)."""
        parts = [p for p in path.split("/") if p]
        try:
            if path.startswith("/_sim/media/"):
                self._auth(headers)
                fault = self.store.take_fault(method, path, None)
                reply = self._fault_reply(fault)
                return reply if reply is not None else self._download(parts[-1])
            if len(parts) < 2 or not _VERSION.match(parts[0]):
                raise GraphError(C.ERR_INVALID_PARAMETER, "Unknown path components: %s" % path,
                                 message="Unknown path components: /%s" % "/".join(parts[1:]),
                                 http_status=400)
            if method == "POST" and (parts[1].startswith("upload:")
                                     or (len(parts) == 3 and parts[2] == "uploads")):
                return self._resumable(method, path, parts, query, headers, raw)
            self._auth(headers)
            body = self._body(headers, raw) if method == "POST" else {}
            fault = self.store.take_fault(method, path, body)
            reply = self._fault_reply(fault)
            if reply is not None:
                return reply
            # An "async" fault lets the send through and fails it by webhook.
            late_failure = fault if fault and fault.get("async") else None
            return self._route(method, parts[0], parts[1], parts[2] if len(parts) > 2 else None,
                               query, body, late_failure)
        except GraphError as exc:
            return _json(exc.http_status, exc.body())

    def _auth(self, headers, scheme="bearer "):
        header = headers.get("Authorization") or ""
        size = len(scheme)
        token = header[size:].strip() if header[:size].lower() == scheme else ""
        expected = self.config["access_token"]
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise GraphError(C.ERR_TOKEN_EXPIRED, http_status=401)

    def _body(self, headers, raw):
        ctype = (headers.get("Content-Type") or "").lower()
        if ctype.startswith("multipart/form-data"):
            return _multipart(headers.get("Content-Type"), raw)
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise GraphError(C.ERR_INVALID_PARAMETER, "Request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise GraphError(C.ERR_INVALID_PARAMETER, "Request body must be a JSON object")
        return body

    def _fault_reply(self, fault):
        """The answer a consumed fault imposes, or None to carry on normally."""
        if fault is None:
            return None
        if fault.get("delay"):
            self.sim.sleep(float(fault["delay"]))
        if fault.get("drop"):
            return Reply(0, DROP)
        if fault.get("async"):
            return None
        code, http_status = fault.get("code"), fault.get("http_status")
        if code is None and http_status is None:
            return None  # a pure delay
        if fault.get("raw") is not None:
            return Reply(int(http_status or 502), str(fault["raw"]).encode(), "text/html")
        if code is None:
            code = 2 if int(http_status) >= 500 else (C.ERR_APP_RATE if int(http_status) == 429 else 1)
        status = int(http_status or default_http_status(int(code)))
        reply = _json(status, P.error_body(int(code), fault.get("details"),
                                           fault.get("subcode"), fault.get("message")))
        if fault.get("retry_after") is not None:
            reply.headers["Retry-After"] = str(fault["retry_after"])
        return reply

    # --- routing ---------------------------------------------------------------
    def _route(self, method, version, node, edge, query, body, late_failure):
        cfg = self.config
        is_phone = node == cfg["phone_number_id"]
        is_waba = node == cfg["waba_id"]
        if is_phone and edge == "messages" and method == "POST":
            return self._messages(body, late_failure)
        if is_phone and edge == "media" and method == "POST":
            return self._upload(body)
        if is_phone and edge is None and method == "GET":
            return _json(200, self._phone_info(query))
        if is_waba and edge == "message_templates":
            if method == "GET":
                return self._list_templates(version, node, query)
            if method == "POST":
                return self._create_template(body)
            if method == "DELETE":
                return self._delete_template(query)
        if is_waba and edge == "phone_numbers" and method == "GET":
            return _json(200, {"data": [self._phone_info({})]})
        if is_waba and edge is None and method == "GET":
            return _json(200, {"id": node, "name": cfg["verified_name"], "currency": "ARS",
                               "timezone_id": "44", "message_template_namespace": "campotech_sim"})
        media = self.store.media.get(node)
        if media is not None and edge is None and method in ("GET", "DELETE"):
            if method == "DELETE":
                with self.store.lock:
                    self.store.media.pop(node, None)
                return _json(200, {"success": True})
            return _json(200, self._media_info(media))
        raise GraphError(
            C.ERR_INVALID_PARAMETER, subcode=33,
            message=("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded "
                     "due to missing permissions, or does not support this operation. Please read "
                     "the Graph API documentation at https://developers.facebook.com/docs/graph-api"
                     % (method.lower(), node)))

    # --- messages --------------------------------------------------------------
    def _messages(self, body, late_failure):
        if body.get("status") == "read":
            if body.get("messaging_product") != "whatsapp":
                raise validate.required("messaging_product")
            validate.check_mark_read(body)
            with self.store.lock:
                self.store.reads.append({"message_id": body["message_id"],
                                         "typing": bool(body.get("typing_indicator")),
                                         "at": self.sim.clock()})
            return _json(200, {"success": True})
        if not self.sim.bucket_acquire():
            raise GraphError(C.ERR_THROUGHPUT)
        kind = validate.check_send(body, lambda media_id: media_id in self.store.media)
        recipient = validate.recipient_of(body)
        category = "service"
        if kind == "template":
            template = validate.check_template_send(body["template"], self.store.find_template)
            category = template["category"].lower()
        elif not self.store.window_open(recipient):
            raise GraphError(C.ERR_REENGAGEMENT)
        if not self.sim.pair_acquire(recipient):
            raise GraphError(C.ERR_PAIR_RATE)
        wa_id = self.store.wa_id(recipient) if body.get("to") else None
        wamid = P.new_wamid(wa_id or recipient)
        record = {"wamid": wamid, "to": body.get("to") or body.get("recipient"), "wa_id": wa_id,
                  "type": kind, "category": category, "body": body, "at": self.sim.clock()}
        with self.store.lock:
            self.store.messages.append(record)
        self.sim.schedule_statuses(record, late_failure)
        contact = {"input": record["to"]}
        if wa_id:
            contact["wa_id"] = wa_id
        else:
            contact["user_id"] = recipient
        message = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return _json(200, {"messaging_product": "whatsapp", "contacts": [contact],
                           "messages": [message]})

    # --- media -----------------------------------------------------------------
    def _upload(self, form):
        if form.get("messaging_product") != "whatsapp":
            raise validate.required("messaging_product")
        upload = form.get("file")
        if not isinstance(upload, dict) or not upload.get("content"):
            raise validate.required("file")
        mime = form.get("type") or upload.get("content_type")
        if not mime:
            raise validate.required("type")
        kind = _media_kind(mime)
        if kind is None:
            raise GraphError(C.ERR_MEDIA_UPLOAD, "Param file must be a file with one of the "
                             "supported types; got %s" % mime)
        if len(upload["content"]) > C.MEDIA_MAX_BYTES[kind]:
            raise GraphError(C.ERR_MEDIA_UPLOAD, "File is too big for %s (max %d bytes)"
                             % (kind, C.MEDIA_MAX_BYTES[kind]))
        media = self.store.store_media(upload["content"], mime, upload.get("filename"))
        return _json(200, {"id": media["id"]})

    def _media_info(self, media):
        token = self.store.media_url_token(media["id"])
        return {"messaging_product": "whatsapp",
                "url": "%s/_sim/media/%s" % (self.sim.url, token),
                "mime_type": media["mime_type"], "sha256": media["sha256"],
                "file_size": media["file_size"], "id": media["id"]}

    def _download(self, token):
        media = self.store.media_for_token(token)
        if media is None:
            # Meta's lookaside answers an expired link with a bare 404.
            return Reply(404, b"URL signature expired", "text/plain")
        return Reply(200, media["content"], media["mime_type"].split(";")[0].strip())

    # --- resumable upload (template header samples) -----------------------------
    def _resumable(self, method, path, parts, query, headers, raw):
        """Meta's Resumable Upload API: open a session on the app, then one
        POST of the whole file at offset 0 answers the handle."""
        self._auth(headers, "oauth " if parts[1].startswith("upload:") else "bearer ")
        reply = self._fault_reply(self.store.take_fault(method, path, None))
        if reply is not None:
            return reply
        if parts[1].startswith("upload:"):
            session = self.store.upload_sessions.get(parts[1])
            if session is None:
                raise GraphError(C.ERR_INVALID_PARAMETER, "Invalid upload session %s" % parts[1])
            if str(headers.get("file_offset") or "").strip() != "0":
                raise GraphError(C.ERR_INVALID_PARAMETER, "file_offset must be 0 for a new upload")
            if len(raw) != session["file_length"]:
                raise GraphError(C.ERR_INVALID_PARAMETER, "Received %d bytes, the session declared "
                                 "file_length %d" % (len(raw), session["file_length"]))
            return _json(200, {"h": self.store.finish_upload(parts[1], raw)})
        if parts[1] != self.config["app_id"]:
            raise GraphError(C.ERR_INVALID_PARAMETER, subcode=33,
                             message="Unsupported post request. Object with ID '%s' does not "
                                     "exist" % parts[1])
        try:
            length = int(query.get("file_length") or 0)
        except ValueError:
            length = 0
        if length <= 0:
            raise validate.required("file_length")
        mime = query.get("file_type") or ""
        if mime not in _SAMPLE_TYPES:
            raise GraphError(C.ERR_INVALID_PARAMETER, "file_type must be one of %s"
                             % ", ".join(_SAMPLE_TYPES))
        return _json(200, {"id": self.store.open_upload(query.get("file_name"), length, mime)})

    # --- phone number ----------------------------------------------------------
    def _phone_info(self, query):
        cfg = self.config
        info = {"verified_name": cfg["verified_name"],
                "code_verification_status": "VERIFIED",
                "display_phone_number": cfg["display_phone_number"],
                "quality_rating": "GREEN",
                "platform_type": "CLOUD_API",
                "throughput": {"level": "HIGH" if cfg["mps"] > C.DEFAULT_MPS else "STANDARD"},
                "id": cfg["phone_number_id"]}
        fields = [f.strip() for f in (query.get("fields") or "").split(",") if f.strip()]
        if fields:
            info = {k: v for k, v in info.items() if k in fields or k == "id"}
        return info

    # --- templates -------------------------------------------------------------
    def _list_templates(self, version, waba, query):
        with self.store.lock:
            items = list(self.store.templates)
        if query.get("name"):
            items = [t for t in items if query["name"] in t["name"]]
        if query.get("status"):
            wanted = {s.strip().upper() for s in query["status"].split(",")}
            items = [t for t in items if t["status"] in wanted]
        if query.get("language"):
            items = [t for t in items if t["language"] == query["language"]]
        try:
            limit = max(1, min(int(query.get("limit") or 25), 1000))
            start = int(base64.b64decode(query["after"]).decode()) if query.get("after") else 0
        except (ValueError, TypeError):
            raise GraphError(C.ERR_INVALID_PARAMETER, "Invalid limit or cursor") from None
        page = items[start:start + limit]
        fields = [f.strip() for f in (query.get("fields") or "").split(",") if f.strip()]
        data = [{k: v for k, v in t.items() if not fields or k in fields or k == "id"} for t in page]
        result = {"data": data}
        if page:
            before = base64.b64encode(str(start).encode()).decode()
            after = base64.b64encode(str(start + len(page)).encode()).decode()
            result["paging"] = {"cursors": {"before": before, "after": after}}
            if start + len(page) < len(items):
                params = {k: v for k, v in query.items() if k != "after"}
                params.update({"limit": limit, "after": after})
                result["paging"]["next"] = "%s/%s/%s/message_templates?%s" % (
                    self.sim.url, version, waba, urlencode(params))
        return _json(200, result)

    def _create_template(self, body):
        name, language, category = body.get("name"), body.get("language"), body.get("category")
        for key, value in (("name", name), ("language", language), ("category", category),
                           ("components", body.get("components"))):
            if not value:
                raise validate.required(key)
        if not _NAME.match(str(name)):
            raise GraphError(C.ERR_INVALID_PARAMETER, "Template name can only contain lowercase "
                             "characters, numbers and underscores.", subcode=2388042)
        category = str(category).upper()
        if category.lower() not in C.TEMPLATE_CATEGORIES:
            raise GraphError(C.ERR_INVALID_PARAMETER, "Invalid category %r" % category)
        if not any(str(c.get("type", "")).upper() == "BODY" for c in body["components"]):
            raise GraphError(C.ERR_INVALID_PARAMETER, "A template needs a BODY component.")
        for component in body["components"]:
            fmt = str(component.get("format", "")).upper() if isinstance(component, dict) else ""
            if str(component.get("type", "")).upper() == "HEADER" and fmt in (
                    "IMAGE", "VIDEO", "DOCUMENT"):
                # Handles issued here or shaped like Meta's ("4::…", older tests
                # paste one); anything else Meta's review refuses.
                handles = (component.get("example") or {}).get("header_handle") or [None]
                handle = handles[0] if isinstance(handles, list) and handles else None
                if handle not in self.store.handles and not _HANDLE.match(str(handle or "")):
                    raise GraphError(C.ERR_INVALID_PARAMETER, "The %s header needs "
                                     "example.header_handle from the Resumable Upload API"
                                     % fmt.lower(), subcode=2388273)
        if self.store.find_template(name, language):
            raise GraphError(C.ERR_INVALID_PARAMETER, "Content in this language already exists",
                             subcode=2388024)
        template = {"name": name, "parameter_format": body.get("parameter_format", "POSITIONAL"),
                    "components": body["components"], "language": language, "status": "PENDING",
                    "category": category, "id": P.new_numeric_id()}
        self.store.add_template(template)
        return _json(200, {"id": template["id"], "status": "PENDING", "category": category})

    def _delete_template(self, query):
        name = query.get("name")
        if not name:
            raise validate.required("name")
        with self.store.lock:
            before = len(self.store.templates)
            self.store.templates = [t for t in self.store.templates if t["name"] != name]
            found = len(self.store.templates) != before
        if not found:
            raise GraphError(C.ERR_INVALID_PARAMETER, "Message template %r not found" % name)
        return _json(200, {"success": True})


def _media_kind(mime):
    base = mime.split(";")[0].strip().lower()
    for kind in ("image", "video", "audio", "sticker"):
        if base in C.MEDIA_MIME_TYPES[kind]:
            return kind
    if base.startswith(("application/", "text/")):
        return "document"
    return None


def _multipart(content_type, raw):
    """Form fields of a multipart body; a file field becomes {content, filename, content_type}."""
    head = ("Content-Type: %s\r\nMIME-Version: 1.0\r\n\r\n" % content_type).encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise GraphError(C.ERR_INVALID_PARAMETER, "Malformed multipart body")
    form = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            form[name] = {"content": content, "filename": filename,
                          "content_type": part.get_content_type()}
        else:
            form[name] = content.decode("utf-8", "replace")
    return form
