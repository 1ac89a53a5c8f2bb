"""Outbound message payloads: the JSON body of POST /{phone-number-id}/messages.

Every builder is a pure function that checks its input against Meta's limits
and returns a plain dict, or raises PayloadError naming the field and the
limit. Checking here, before anything is queued, turns what would be a
permanent Meta error (131009, 100) into a message the user can act on.

Lengths are counted as Python ``str`` lengths (code points), the way Meta
counts characters.
"""

from urllib.parse import urlsplit

from . import constants as C
from .errors import MediaTooLargeError, PayloadError


# --- Checks shared by the builders ------------------------------------------

def _too_long(field, value, limit):
    if len(value) > limit:
        raise PayloadError("%s is %d characters; WhatsApp allows at most %d"
                           % (field, len(value), limit))


def _required_text(field, value, limit=None):
    if not isinstance(value, str):
        raise PayloadError("%s must be a string, got %s" % (field, type(value).__name__))
    if not value.strip():
        raise PayloadError("%s is empty" % field)
    if limit is not None:
        _too_long(field, value, limit)
    return value


def _optional_text(field, value, limit):
    """Return value, or None when it is None or empty."""
    if value is None or value == "":
        return None
    return _required_text(field, value, limit)


def _check_url(field, url):
    _required_text(field, url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise PayloadError("%s must be an http(s) URL, got %r" % (field, url))
    return url


def recipient(to):
    """Return ``to`` as a wa_id (digits only), or raise PayloadError.

    A leading '+' is dropped; anything else that is not a digit is refused:
    normalising typed numbers is the job of phone.py, not of the builders.
    """
    if isinstance(to, int) and not isinstance(to, bool):
        to = str(to)
    if not isinstance(to, str) or not to.strip():
        raise PayloadError("recipient 'to' is empty")
    digits = to.strip()
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isascii() or not digits.isdigit():
        raise PayloadError("recipient 'to' must be digits only (a wa_id), got %r" % to)
    if len(digits) > C.WA_ID_MAX_DIGITS:
        raise PayloadError("recipient 'to' has %d digits; a phone number has at most %d"
                           % (len(digits), C.WA_ID_MAX_DIGITS))
    return digits


def _message(to, kind, content, reply_to=None, biz_opaque_callback_data=None):
    payload = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient(to),
        "type": kind,
        kind: content,
    }
    if reply_to is not None:
        payload["context"] = {"message_id": _required_text("reply_to message id", reply_to)}
    if biz_opaque_callback_data is not None:
        if not isinstance(biz_opaque_callback_data, str):
            raise PayloadError("biz_opaque_callback_data must be a string")
        _too_long("biz_opaque_callback_data", biz_opaque_callback_data,
                  C.BIZ_OPAQUE_CALLBACK_DATA_MAX)
        if biz_opaque_callback_data:
            payload["biz_opaque_callback_data"] = biz_opaque_callback_data
    return payload


# --- Plain messages -----------------------------------------------------------

def text(to, body, preview_url=False, reply_to=None, biz_opaque_callback_data=None):
    """A text message (≤ 4096 characters)."""
    _required_text("text body", body, C.TEXT_MAX)
    return _message(to, "text", {"body": body, "preview_url": bool(preview_url)},
                    reply_to, biz_opaque_callback_data)


def media_object(kind, media_id=None, link=None, caption=None, filename=None,
                 attachment_id=None):
    """The ``{"id"|"link", "caption"?, "filename"?}`` object of a media message.

    Also used for media parameters of template headers (without caption).
    ``attachment_id`` (a positive int) stands for a file not uploaded yet: the
    queue uploads it at send time and puts Meta's id in its place
    (:func:`resolve_media`).
    """
    if kind not in C.MEDIA_TYPES:
        raise PayloadError("media kind %r is not one of %s" % (kind, ", ".join(C.MEDIA_TYPES)))
    if sum(source is not None for source in (media_id, link, attachment_id)) != 1:
        raise PayloadError("%s needs exactly one of media id or link (or an attachment to upload)"
                           % kind)
    if media_id is not None:
        obj = {"id": _required_text("%s media id" % kind, media_id)}
    elif attachment_id is not None:
        obj = {"attachment_id": _attachment_ref(kind, attachment_id)}
    else:
        obj = {"link": _check_url("%s link" % kind, link)}
    if caption is not None and caption != "":
        if kind not in C.MEDIA_CAPTION_TYPES:
            raise PayloadError("%s messages cannot have a caption (only %s)"
                               % (kind, ", ".join(C.MEDIA_CAPTION_TYPES)))
        obj["caption"] = _required_text("%s caption" % kind, caption, C.CAPTION_MAX)
    if filename is not None and filename != "":
        if kind != "document":
            raise PayloadError("%s messages cannot have a filename (only document)" % kind)
        obj["filename"] = _required_text("document filename", filename)
    return obj


def media(to, kind, media_id=None, link=None, caption=None, filename=None,
          reply_to=None, biz_opaque_callback_data=None, attachment_id=None):
    """An image, video, audio, document or sticker, by uploaded id, link or attachment."""
    obj = media_object(kind, media_id, link, caption, filename, attachment_id)
    return _message(to, kind, obj, reply_to, biz_opaque_callback_data)


def _attachment_ref(kind, attachment_id):
    if isinstance(attachment_id, bool) or not isinstance(attachment_id, int) or attachment_id <= 0:
        raise PayloadError("%s attachment must be a record id, got %r" % (kind, attachment_id))
    return attachment_id


def media_kind(mime_type):
    """The message kind Meta files a mime type under; anything else is a document."""
    base = (mime_type or "").split(";")[0].strip().lower()
    for kind in ("image", "video", "audio", "sticker"):
        if base in C.MEDIA_MIME_TYPES[kind]:
            return kind
    return "document"


def check_media_file(kind, mime_type, size):
    """Refuse a file Meta would refuse, naming the limit (MediaTooLargeError)."""
    if kind not in C.MEDIA_TYPES:
        raise PayloadError("media kind %r is not one of %s" % (kind, ", ".join(C.MEDIA_TYPES)))
    if not isinstance(size, int) or size <= 0:
        raise PayloadError("the %s file is empty" % kind)
    allowed = C.MEDIA_MIME_TYPES[kind]
    base = (mime_type or "").split(";")[0].strip().lower()
    if allowed and base not in allowed:
        raise MediaTooLargeError("WhatsApp sends %s files of type %s only; this one is %s"
                                 % (kind, ", ".join(allowed), base or "of unknown type"))
    limit = C.MEDIA_MAX_BYTES[kind]
    if size > limit:
        raise MediaTooLargeError("the %s file is %s; WhatsApp accepts %s files up to %s"
                                 % (kind, _size(size), kind, _size(limit)))
    return kind


def _size(n):
    if n >= 1024 * 1024:
        return "%.1f MB" % (n / (1024 * 1024))
    if n >= 1024:
        return "%.0f KB" % (n / 1024)
    return "%d bytes" % n


def media_attachments(payload):
    """Attachment ids a payload still refers to (media not uploaded yet), in order."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "attachment_id" in node:
                found.append(node["attachment_id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(payload)
    return found


def resolve_media(payload, upload):
    """A copy of payload where every ``{"attachment_id": n, …}`` media object
    becomes ``{"id": upload(n), …}``; ``upload`` returns Meta's media id."""
    if isinstance(payload, dict):
        if "attachment_id" in payload:
            out = {k: resolve_media(v, upload) for k, v in payload.items() if k != "attachment_id"}
            out["id"] = upload(payload["attachment_id"])
            return out
        return {k: resolve_media(v, upload) for k, v in payload.items()}
    if isinstance(payload, list):
        return [resolve_media(v, upload) for v in payload]
    return payload


def has_media_to_upload(payload):
    """Whether resolve_media would call its upload (an ``attachment_id`` somewhere)."""
    if isinstance(payload, dict):
        return "attachment_id" in payload or any(has_media_to_upload(v) for v in payload.values())
    if isinstance(payload, list):
        return any(has_media_to_upload(v) for v in payload)
    return False


def _coordinate(field, value, bound):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PayloadError("%s must be a number, got %r" % (field, value))
    if not -bound <= value <= bound:
        raise PayloadError("%s is %s; it must be between %d and %d"
                           % (field, value, -bound, bound))
    return value


def location(to, latitude, longitude, name=None, address=None, reply_to=None,
             biz_opaque_callback_data=None):
    """A location pin; latitude in [-90, 90], longitude in [-180, 180]."""
    obj = {
        "latitude": _coordinate("latitude", latitude, 90),
        "longitude": _coordinate("longitude", longitude, 180),
    }
    if _optional_text("location name", name, None):
        obj["name"] = name
    if _optional_text("location address", address, None):
        obj["address"] = address
    return _message(to, "location", obj, reply_to, biz_opaque_callback_data)


def _contact(i, card):
    where = "contact %d" % (i + 1)
    if not isinstance(card, dict):
        raise PayloadError("%s must be a dict" % where)
    name = card.get("name")
    if not isinstance(name, dict):
        raise PayloadError("%s needs name.formatted_name" % where)
    _required_text("%s name.formatted_name" % where, name.get("formatted_name"))
    for key in ("phones", "emails", "addresses", "urls"):
        entries = card.get(key)
        if entries is None:
            continue
        if not isinstance(entries, (list, tuple)) or not all(isinstance(e, dict) for e in entries):
            raise PayloadError("%s %s must be a list of dicts" % (where, key))
    # Deep enough a copy that the caller's dicts never end up shared with the queue.
    copied = {k: ([dict(e) for e in v] if isinstance(v, (list, tuple)) else
                  dict(v) if isinstance(v, dict) else v)
              for k, v in card.items()}
    return copied


def contacts(to, contacts, reply_to=None, biz_opaque_callback_data=None):
    """One or more contact cards; each needs ``name.formatted_name``."""
    if not isinstance(contacts, (list, tuple)) or not contacts:
        raise PayloadError("contacts must be a non-empty list of contact cards")
    cards = [_contact(i, card) for i, card in enumerate(contacts)]
    return _message(to, "contacts", cards, reply_to, biz_opaque_callback_data)


def reaction(to, message_id, emoji):
    """React to a message with an emoji; an empty emoji removes the reaction.

    No reply context or callback data: a reaction already points at its
    message and is not a message of its own in the chat.
    """
    _required_text("reaction message_id", message_id)
    if not isinstance(emoji, str):
        raise PayloadError("reaction emoji must be a string (empty removes the reaction)")
    return _message(to, "reaction", {"message_id": message_id, "emoji": emoji})


def template(to, name, language, components=None, reply_to=None,
             biz_opaque_callback_data=None):
    """A template message; ``components`` as built by templates.build_components."""
    _required_text("template name", name, C.TEMPLATE_NAME_MAX)
    _required_text("template language", language)
    obj = {"name": name, "language": {"code": language}}
    if components:
        if not isinstance(components, (list, tuple)) or not all(
                isinstance(c, dict) and c.get("type") for c in components):
            raise PayloadError("template components must be a list of dicts with a 'type'")
        obj["components"] = list(components)
    return _message(to, "template", obj, reply_to, biz_opaque_callback_data)


# --- Interactive messages ------------------------------------------------------

def _interactive(to, kind, body, action, header, footer, reply_to, biz_opaque_callback_data):
    obj = {"type": kind}
    if _optional_text("%s header" % kind, header, C.INTERACTIVE_HEADER_TEXT_MAX):
        obj["header"] = {"type": "text", "text": header}
    obj["body"] = {"text": _required_text("%s body" % kind, body, C.INTERACTIVE_BODY_MAX)}
    if _optional_text("%s footer" % kind, footer, C.INTERACTIVE_FOOTER_MAX):
        obj["footer"] = {"text": footer}
    obj["action"] = action
    return _message(to, "interactive", obj, reply_to, biz_opaque_callback_data)


def _id_title(i, button):
    if isinstance(button, dict):
        return button.get("id"), button.get("title")
    if isinstance(button, (list, tuple)) and len(button) == 2:
        return button[0], button[1]
    raise PayloadError("button %d must be an (id, title) pair or a dict with id and title" % (i + 1))


def _unique(what, values):
    seen, repeated = set(), []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.add(value)
    if repeated:
        raise PayloadError("%s must be unique; repeated: %s"
                           % (what, ", ".join(repr(v) for v in repeated)))


def buttons(to, body, buttons, header=None, footer=None, reply_to=None,
            biz_opaque_callback_data=None):
    """Up to 3 reply buttons, each given as (id, title) or {"id", "title"}."""
    if not isinstance(buttons, (list, tuple)) or not buttons:
        raise PayloadError("reply buttons: give at least 1 button")
    if len(buttons) > C.REPLY_BUTTONS_MAX:
        raise PayloadError("reply buttons: %d given; WhatsApp allows at most %d"
                           % (len(buttons), C.REPLY_BUTTONS_MAX))
    items = []
    for i, button in enumerate(buttons):
        button_id, title = _id_title(i, button)
        _required_text("button %d id" % (i + 1), button_id, C.REPLY_BUTTON_ID_MAX)
        _required_text("button %d title" % (i + 1), title, C.REPLY_BUTTON_TITLE_MAX)
        items.append((button_id, title))
    _unique("button ids", [b[0] for b in items])
    _unique("button titles", [b[1] for b in items])
    action = {"buttons": [{"type": "reply", "reply": {"id": b, "title": t}} for b, t in items]}
    return _interactive(to, "button", body, action, header, footer, reply_to,
                        biz_opaque_callback_data)


def _row(where, row):
    if not isinstance(row, dict):
        raise PayloadError("%s must be a dict with id and title" % where)
    out = {
        "id": _required_text("%s id" % where, row.get("id"), C.LIST_ROW_ID_MAX),
        "title": _required_text("%s title" % where, row.get("title"), C.LIST_ROW_TITLE_MAX),
    }
    if _optional_text("%s description" % where, row.get("description"),
                      C.LIST_ROW_DESCRIPTION_MAX):
        out["description"] = row["description"]
    return out


def list_message(to, body, button, sections, header=None, footer=None, reply_to=None,
                 biz_opaque_callback_data=None):
    """A list message: a button that opens up to 10 rows, in up to 10 sections."""
    _required_text("list button label", button, C.LIST_BUTTON_MAX)
    if not isinstance(sections, (list, tuple)) or not sections:
        raise PayloadError("list: give at least 1 section")
    if len(sections) > C.LIST_SECTIONS_MAX:
        raise PayloadError("list: %d sections given; WhatsApp allows at most %d"
                           % (len(sections), C.LIST_SECTIONS_MAX))
    out_sections, total = [], 0
    for s, section in enumerate(sections):
        where = "list section %d" % (s + 1)
        if not isinstance(section, dict):
            raise PayloadError("%s must be a dict with rows" % where)
        out = {}
        title = section.get("title")
        if len(sections) > 1:
            # Meta needs a title on every section as soon as there are two.
            _required_text("%s title (required with more than one section)" % where,
                           title, C.LIST_SECTION_TITLE_MAX)
        if _optional_text("%s title" % where, title, C.LIST_SECTION_TITLE_MAX):
            out["title"] = title
        rows = section.get("rows")
        if not isinstance(rows, (list, tuple)) or not rows:
            raise PayloadError("%s has no rows" % where)
        total += len(rows)
        out["rows"] = [_row("%s row %d" % (where, r + 1), row) for r, row in enumerate(rows)]
        out_sections.append(out)
    if total > C.LIST_ROWS_MAX:
        raise PayloadError("list: %d rows in total; WhatsApp allows at most %d"
                           % (total, C.LIST_ROWS_MAX))
    _unique("list row ids", [row["id"] for sec in out_sections for row in sec["rows"]])
    action = {"button": button, "sections": out_sections}
    return _interactive(to, "list", body, action, header, footer, reply_to,
                        biz_opaque_callback_data)


def cta_url(to, body, display_text, url, header=None, footer=None, reply_to=None,
            biz_opaque_callback_data=None):
    """A message with one call-to-action button that opens ``url``."""
    _required_text("cta_url display_text", display_text, C.CTA_DISPLAY_TEXT_MAX)
    _check_url("cta_url url", url)
    action = {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}}
    return _interactive(to, "cta_url", body, action, header, footer, reply_to,
                        biz_opaque_callback_data)


# --- Not messages: read receipts and typing ------------------------------------

def mark_read(message_id, typing=False):
    """Mark an inbound message read; with typing, also show "typing…" (≤ 25 s)."""
    _required_text("mark_read message_id", message_id)
    payload = {"messaging_product": "whatsapp", "status": "read", "message_id": message_id}
    if typing:
        payload["typing_indicator"] = {"type": "text"}
    return payload


def typing_indicator(message_id):
    """Show "typing…" to the customer who sent message_id (marks it read too)."""
    return mark_read(message_id, typing=True)
