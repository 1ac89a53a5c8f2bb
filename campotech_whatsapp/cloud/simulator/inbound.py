"""Customer messages of every type, shaped as Meta's messages webhook carries them.

A short spec such as ``{"from": "5491155556666", "type": "image"}`` becomes a
full ``messages[]`` item plus its ``contacts[]`` item; media get real bytes
in the simulator's media store so the addon can download them.
"""

import base64

from .. import constants as C
from .payloads import GraphError, status_error

# A 1x1 PNG: the smallest real image a viewer will open.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

# Default content per media kind: (bytes, mime type, filename).
DEFAULT_MEDIA = {
    "image": (TINY_PNG, "image/png", None),
    "document": (b"%PDF-1.4\n% campotech simulator\n%%EOF\n", "application/pdf", "presupuesto.pdf"),
    "audio": (b"OggS\x00\x02campotech-voice", "audio/ogg; codecs=opus", None),
    "video": (b"\x00\x00\x00\x18ftypmp42campotech", "video/mp4", None),
    "sticker": (b"RIFF\x1a\x00\x00\x00WEBPVP8 campotech", "image/webp", None),
}

INBOUND_TYPES = ("text", "image", "document", "audio", "video", "sticker", "location",
                 "contacts", "interactive", "button", "reaction", "order", "system",
                 "unsupported")


def _content(spec, kind):
    if spec.get("content_b64"):
        return base64.b64decode(spec["content_b64"])
    if spec.get("content") is not None:
        content = spec["content"]
        return content.encode() if isinstance(content, str) else bytes(content)
    return DEFAULT_MEDIA[kind][0]


def _media(spec, kind, store_media):
    _, default_mime, default_name = DEFAULT_MEDIA[kind]
    mime = spec.get("mime_type") or default_mime
    media = store_media(_content(spec, kind), mime, spec.get("filename") or default_name)
    # Webhooks carry the digest base64-encoded; GET /{media-id} gives it in hex.
    digest = base64.b64encode(bytes.fromhex(media["sha256"])).decode()
    obj = {"mime_type": mime, "sha256": digest, "id": media["id"]}
    if kind in ("image", "video", "document") and spec.get("caption"):
        obj["caption"] = spec["caption"]
    if kind == "document":
        obj["filename"] = spec.get("filename") or default_name
    if kind == "audio":
        obj["voice"] = bool(spec.get("voice", True))
    if kind == "sticker":
        obj["animated"] = bool(spec.get("animated", False))
    return obj


def _interactive(spec):
    kind = spec.get("interactive_type") or ("list_reply" if spec.get("description") else "button_reply")
    if kind == "nfm_reply":
        return {"type": "nfm_reply", "nfm_reply": {
            "name": "flow", "body": "Sent",
            "response_json": spec.get("response_json") or '{"flow_token":"sim"}'}}
    reply = {"id": spec.get("id") or "confirmar", "title": spec.get("title") or "Confirmar"}
    if kind == "list_reply":
        reply["description"] = spec.get("description") or ""
    elif kind != "button_reply":
        raise GraphError(C.ERR_INVALID_PARAMETER, "unknown interactive_type %r" % kind)
    return {"type": kind, kind: reply}


def _contacts(spec):
    if spec.get("contacts"):
        return spec["contacts"]
    return [{
        "name": {"formatted_name": "Carlos Gómez", "first_name": "Carlos", "last_name": "Gómez"},
        "phones": [{"phone": "+54 9 11 4444-3333", "wa_id": "5491144443333", "type": "CELL"}],
    }]


def _order(spec):
    return spec.get("order") or {
        "catalog_id": "1234567890",
        "text": spec.get("text") or "Pedido de repuestos",
        "product_items": [{"product_retailer_id": "filtro-aa", "quantity": 2,
                           "item_price": 15000, "currency": "ARS"}],
    }


def _system(spec, sender):
    system = dict(spec.get("system") or {})
    system.setdefault("type", "user_changed_number")
    if system["type"] == "user_changed_number":
        new = system.get("wa_id") or spec.get("new_wa_id") or "5491177778888"
        system.setdefault("wa_id", new)
        system.setdefault("body", "User %s changed from %s to %s" % (
            spec.get("name") or sender, sender, new))
    else:
        system.setdefault("body", "User %s changed their user id" % (spec.get("name") or sender))
    return system


def build_message(spec, wamid, timestamp, store_media):
    """Return (message, contact) for a spec; contact is None for system messages.

    ``store_media(content, mime_type, filename) -> {"id", "sha256"}`` keeps
    media bytes downloadable.
    """
    kind = spec.get("type") or "text"
    sender = spec.get("from")
    user_id = spec.get("user_id")
    username_only = bool(spec.get("username_only"))
    if username_only and not user_id:
        raise GraphError(C.ERR_INVALID_PARAMETER, "a username-only sender needs a user_id")
    if not sender and not username_only:
        raise GraphError(C.ERR_INVALID_PARAMETER, "inbound needs 'from' (or username_only with user_id)")

    if spec.get("message"):
        message = dict(spec["message"])
        kind = message.get("type", kind)
    else:
        if kind not in INBOUND_TYPES:
            raise GraphError(C.ERR_INVALID_PARAMETER, "unknown inbound type %r" % kind)
        message = {"type": kind}
        if kind == "text":
            message["text"] = {"body": spec.get("text") or "Hola"}
        elif kind in DEFAULT_MEDIA:
            message[kind] = _media(spec, kind, store_media)
        elif kind == "location":
            location = {"latitude": float(spec.get("latitude", -34.6037)),
                        "longitude": float(spec.get("longitude", -58.3816))}
            if spec.get("location_name"):
                location["name"] = spec["location_name"]
            if spec.get("address"):
                location["address"] = spec["address"]
            message["location"] = location
        elif kind == "contacts":
            message["contacts"] = _contacts(spec)
        elif kind == "interactive":
            message["interactive"] = _interactive(spec)
        elif kind == "button":
            message["button"] = {"payload": spec.get("payload") or "CONFIRMAR",
                                 "text": spec.get("text") or "Confirmar"}
        elif kind == "reaction":
            if not spec.get("message_id"):
                raise GraphError(C.ERR_INVALID_PARAMETER, "a reaction needs message_id")
            message["reaction"] = {"message_id": spec["message_id"],
                                   "emoji": spec.get("emoji", "\U0001f44d")}
        elif kind == "order":
            message["order"] = _order(spec)
        elif kind == "system":
            message["system"] = _system(spec, sender)
        elif kind == "unsupported":
            message["unsupported"] = {"type": spec.get("unsupported_type") or "edit"}
            message["errors"] = [status_error(C.ERR_UNSUPPORTED_TYPE,
                                              "Message type is currently not supported.")]
    # Meta's key order: sender, id, timestamp, then the type and its object.
    head = {}
    if sender and not username_only:
        head["from"] = sender
    if user_id:
        head["from_user_id"] = user_id
    head.update({"id": wamid, "timestamp": str(int(timestamp))})
    message = dict(head, **message)
    context = {}
    if spec.get("reply_to"):
        context = {"from": spec.get("business_number") or "", "id": spec["reply_to"]}
    if spec.get("forwarded"):
        context.update({"forwarded": True})
    if context and "context" not in message:
        message["context"] = context

    if kind == "system":
        return message, None
    contact = {"profile": {"name": spec.get("name") or "Cliente"}}
    if spec.get("username"):
        contact["profile"]["username"] = spec["username"]
    if sender and not username_only:
        contact["wa_id"] = sender
    if user_id:
        contact["user_id"] = user_id
    return message, contact
