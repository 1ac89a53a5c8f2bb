"""Reading a webhook body: one reader per Meta message type, then statuses,
template updates and changes, and ``parse_webhook`` on top."""

import json

from .. import constants as C, translations
from .types import (
    Change, Contact, _errors, _frozen, InboundMessage, MediaRef, MessageContext, Status,
    TemplateStatusUpdate, WebhookBatch, WebhookPayloadError,
)
from .values import (
    clean_text, _dict, _dicts, _graph_id, _int, _json_type, _Malformed, _number,
    _plain, _plain_storable, _Problems, _storable, _str, _timestamp, _Unstorable, _user_id, _wa_id, _wamid,
)

# What the chat shows for messages that carry no text of their own: English
# sources, translated by the addon's i18n (see cloud/translations.py), so the
# same payload always renders the same in one language.
TEXT_UNSUPPORTED = "Unsupported message"
TEXT_FLOW_SENT = "Form sent"
TEXT_CONTACT = "Contact card"
TEXT_NUMBER_CHANGED = "The contact changed their number to +%s"
TEXT_USER_ID_CHANGED = "The contact changed their WhatsApp ID"
TEXT_ORDER_ONE = "🛒 Order: 1 product"
TEXT_ORDER_MANY = "🛒 Order: %d products"


# A reader returns (text, metadata, media, reaction_to): the text, or a
# function of a translator for a text the engine writes; metadata as a JSON
# column stores it (each reader makes the raw parts it keeps _storable, so the
# parts it builds from clean values are not copied and checked again). A
# tuple, because a small object per message cost as much as reading a text.

def _part(message, key):
    """The type-specific object of a message, which its type requires."""
    part = message.get(key)
    if not isinstance(part, dict):
        raise _Malformed("'%s' is missing or not an object" % key)
    return part


def _read_text(message):
    return _str(_part(message, "text").get("body")) or "", {}, None, None


def _read_media(message):
    kind = message.get("type")
    part = _part(message, kind)
    # Digits only: the id becomes a Graph URL path when it is downloaded.
    media_id = _graph_id(part.get("id"), "media id")
    if media_id is None:
        # Without the id there is nothing to download: not a usable media message.
        raise _Malformed("'%s' has no media id" % kind)
    caption = _str(part.get("caption"))
    filename = _str(part.get("filename"), C.MEDIA_FILENAME_MAX)
    fields = {
        "id": media_id,
        "mime_type": _str(part.get("mime_type"), C.MIME_TYPE_MAX),
        "sha256": _str(part.get("sha256"), C.MIME_TYPE_MAX),
        "caption": caption,
        "filename": filename,
        "voice": part.get("voice") is True,
        "animated": part.get("animated") is True,
    }
    text = caption or (filename if kind == "document" else None) or ""
    # The metadata is MediaRef.to_dict(): a copy of the same fields, never the
    # frozen instance's own dict.
    return text, {"media": dict(fields)}, _frozen(MediaRef, fields), None


def _coordinate(value, limit, name):
    number = _number(value)
    if number is None or abs(number) > limit:
        raise _Malformed("location %s is missing or not a valid number" % name)
    return number


def _read_location(message):
    part = _part(message, "location")
    lat = _coordinate(part.get("latitude"), 90, "latitude")
    lon = _coordinate(part.get("longitude"), 180, "longitude")
    name, address = _str(part.get("name")), _str(part.get("address"))
    label = ", ".join(item for item in (name, address) if item) or "%s, %s" % (lat, lon)
    location = {"latitude": lat, "longitude": lon, "name": name,
                "address": address, "url": _str(part.get("url"))}
    return "📍 " + label, {"location": location}, None, None


def _plains(value, depth):
    """The _plain_storable copy of each object of a list, the list being at depth."""
    if not value or not isinstance(value, list):
        return []
    return [_plain_storable(item, depth + 1) for item in value if isinstance(item, dict)]


def _contact_card(card):
    """A shared contact, storable as it is: a card sits at depth 2 of the metadata."""
    name = _dict(card.get("name"))
    full_name = _str(name.get("formatted_name")) or " ".join(
        part for part in (_str(name.get("first_name")), _str(name.get("last_name"))) if part)
    return {
        "name": full_name or None,
        "name_parts": _plain_storable(name, 3),
        "phones": _plains(card.get("phones"), 3),
        "emails": _plains(card.get("emails"), 3),
        "org": _plain_storable(card.get("org"), 3) or None,
        "urls": _plains(card.get("urls"), 3),
        "addresses": _plains(card.get("addresses"), 3),
        "birthday": _str(card.get("birthday")),
    }


def _read_contacts(message):
    if not isinstance(message.get("contacts"), list):
        raise _Malformed("'contacts' is missing or not a list")
    cards = [_contact_card(card) for card in _dicts(message["contacts"])]
    labels = []
    for card in cards:
        phone = card["phones"][0].get("phone") if card["phones"] else None
        labels.append(card["name"] or _str(phone))
    labels = labels or [None]
    return (lambda tr: "👤 " + ", ".join(label or tr(TEXT_CONTACT) for label in labels),
            {"contacts": cards}, None, None)


def _parse_response_json(value):
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _read_interactive(message):
    part = _part(message, "interactive")
    kind = _str(part.get("type"))
    reply = _dict(part.get(kind)) if kind else {}
    if kind in ("button_reply", "list_reply"):
        data = {"type": kind, "id": _str(reply.get("id")), "title": _str(reply.get("title")),
                "description": _str(reply.get("description"))}
        return data["title"] or data["id"] or "", {"interactive": data}, None, None
    if kind == "nfm_reply":
        raw_json = reply.get("response_json")
        data = {"type": kind, "name": _str(reply.get("name")), "body": _str(reply.get("body")),
                # Decoded from a string inside the body: as unchecked as the body was.
                "response": _storable(_parse_response_json(raw_json), 2),
                "response_json": clean_text(raw_json) if isinstance(raw_json, str) else None}
        # A Flow's body is Meta's fixed English "Sent"; other nfm kinds (an
        # address) carry text worth showing.
        text = (data["name"] != "flow" and data["body"]) or (lambda tr: tr(TEXT_FLOW_SENT))
        return text, {"interactive": data}, None, None
    # A reply kind newer than this module: keep its data for whoever knows it.
    return "", {"interactive": {"type": kind, "data": _storable(reply, 2) or None}}, None, None


def _read_button(message):
    part = _part(message, "button")
    data = {"payload": _str(part.get("payload")), "text": _str(part.get("text"))}
    return data["text"] or data["payload"] or "", {"button": data}, None, None


def _read_reaction(message):
    part = _part(message, "reaction")
    target = _wamid(part.get("message_id"), "reaction message_id")
    if target is None:
        raise _Malformed("reaction has no message_id")
    emoji = _str(part.get("emoji"))
    data = {"message_id": target, "emoji": emoji, "removed": emoji is None}
    return emoji or "", {"reaction": data}, None, target


def _order_summary(items, note, tr):
    # A quantity beyond a billion is not an order; it must not overflow the total.
    quantities = [_int(item.get("quantity"), 10**9) for item in items]
    count = sum(q if q is not None and q > 0 else 1 for q in quantities)
    text = tr(TEXT_ORDER_ONE) if count == 1 else tr(TEXT_ORDER_MANY) % count
    prices = [_number(item.get("item_price")) for item in items]
    currencies = {_str(item.get("currency")) for item in items}
    if items and None not in prices and None not in quantities and len(currencies) == 1:
        total = sum(price * qty for price, qty in zip(prices, quantities))
        text += " (%s %.2f)" % (currencies.pop(), total)
    return text + (" — " + note if note else "")


def _read_order(message):
    part = _part(message, "order")
    items = [_plain(item) for item in _dicts(part.get("product_items"))]
    note = _str(part.get("text"))
    data = {"catalog_id": _str(part.get("catalog_id")), "text": note,
            "product_items": _storable(items, 2)}
    return lambda tr: _order_summary(items, note, tr), {"order": data}, None, None


def _read_system(message):
    part = _part(message, "system")
    kind = _str(part.get("type"))
    data = {key: val for key, val in _plain(part).items() if not isinstance(val, (dict, list))}
    # Cloud API puts the new number in "wa_id"; the old on-premises API used "new_wa_id".
    data["new_wa_id"] = _wa_id(part.get("wa_id") or part.get("new_wa_id"), "new wa_id")
    data["new_user_id"] = _user_id(part.get("user_id") or part.get("new_user_id"), "new user_id")
    text = _str(part.get("body"))
    new_wa_id = data["new_wa_id"]
    if not text and kind == "user_changed_number" and new_wa_id:
        text = lambda tr: tr(TEXT_NUMBER_CHANGED) % new_wa_id  # noqa: E731
    elif not text and kind == "user_changed_user_id":
        text = lambda tr: tr(TEXT_USER_ID_CHANGED)  # noqa: E731
    return text or "", {"system": _storable(data, 1)}, None, None


def _read_other(message):
    """unsupported, unknown and types newer than this module."""
    kind = message.get("type")
    metadata = {}
    inner = _dict(message.get("unsupported"))
    if inner:
        metadata["unsupported"] = {"type": _str(inner.get("type"))}
    unsupported = kind in ("unsupported", "unknown") or bool(message.get("errors"))
    return (lambda tr: tr(TEXT_UNSUPPORTED)) if unsupported else "", metadata, None, None


_READERS = {
    "text": _read_text,
    "image": _read_media,
    "document": _read_media,
    "audio": _read_media,
    "video": _read_media,
    "sticker": _read_media,
    "location": _read_location,
    "contacts": _read_contacts,
    "interactive": _read_interactive,
    "button": _read_button,
    "reaction": _read_reaction,
    "order": _read_order,
    "system": _read_system,
}


def _read_context(value):
    if not isinstance(value, dict):
        return None
    # Only a pointer to another message: an implausible one points nowhere
    # (as _lenient reads them, without its call).
    try:
        from_ = _wa_id(value.get("from"))
    except _Unstorable:
        from_ = None
    try:
        wamid = _wamid(value.get("id"))
    except _Unstorable:
        wamid = None
    referred_product = value.get("referred_product")
    return _frozen(MessageContext, {
        "from_": from_,
        "id": wamid,
        "forwarded": value.get("forwarded") is True,
        "frequently_forwarded": value.get("frequently_forwarded") is True,
        # {catalog_id, product_retailer_id}, at depth 2 of the metadata.
        "referred_product": (_plain_storable(referred_product, 2) or None
                             if referred_product else None),
    })


def _sender(contacts, wa_id, user_id):
    """The contact who sent the message: by wa_id, then by user id, then the first."""
    for contact in contacts:
        if wa_id and contact.wa_id == wa_id:
            return contact
    for contact in contacts:
        if user_id and contact.user_id == user_id:
            return contact
    return contacts[0] if contacts else None


_RECORD_TYPE = C.INBOUND_RECORD_TYPE
_new = object.__new__
_set = object.__setattr__

# What keeps a message whose content cannot be read: it has a wamid Meta will
# not resend, so it is stored as "unknown" with the reason.
_UNREADABLE = (_Malformed, TypeError, ValueError, AttributeError, KeyError, IndexError,
               OverflowError)


def _message(data, contacts, phone_number_id, tr):
    raw = data if isinstance(data, dict) else {"value": data}
    get = raw.get
    # Each id read apart (not through _Problems.take, a call more per id on
    # the hot path), so one unstorable id names itself and hides no other.
    problems = []
    try:
        wa_id = _wa_id(get("from"), "from")
    except _Unstorable as exc:
        wa_id = None
        problems.append(str(exc))
    try:
        from_user_id = _user_id(get("from_user_id"), "from_user_id")
    except _Unstorable as exc:
        from_user_id = None
        problems.append(str(exc))
    contact = _sender(contacts, wa_id, from_user_id)
    if contact is not None and contact.problem:
        problems.append(contact.problem)
    try:
        wamid = _wamid(get("id"), "id")
    except _Unstorable as exc:
        wamid = None
        problems.append(str(exc))
    kind = _str(get("type"), C.FIELD_NAME_MAX) or "unknown"
    errors = get("errors")
    errors = _errors(errors) if errors else []
    context = None
    try:
        if raw is not data:
            raise _Malformed("the message is not a JSON object")
        text, metadata, media, reaction_to = _READERS.get(kind, _read_other)(raw)
        if type(text) is not str:
            text = clean_text(text(tr))  # the translator's texts are not ours to trust
        if get("context"):
            context = _read_context(raw["context"])
            if context is not None:
                metadata["context"] = context.to_dict()
        referral = get("referral")
        if referral and isinstance(referral, dict):
            metadata["referral"] = _storable(referral, 1)
        if errors:
            metadata["errors"] = [error.to_dict() for error in errors]
        record_type = _RECORD_TYPE.get(kind, "unknown")
    except _UNREADABLE as exc:
        # Keep the message but say why it cannot be shown as what it claims to be.
        reason = str(exc) if isinstance(exc, _Malformed) else "%s: %s" % (type(exc).__name__, exc)
        metadata = {"note": clean_text("could not read this %s message: %s" % (kind, reason))}
        if errors:
            metadata["errors"] = [error.to_dict() for error in errors]
        record_type, text, context, media, reaction_to = "unknown", "", None, None, None
    message = _new(InboundMessage)
    _set(message, "__dict__", {  # types._frozen, without the call
        "id": wamid,
        "wa_id": wa_id,
        "timestamp": _timestamp(get("timestamp")),
        "type": kind,
        "record_type": record_type,
        "body_text": text,
        "metadata": metadata,
        "media": media,
        "context": context,
        "reaction_to": reaction_to,
        "errors": errors,
        "contact": contact,
        "user_id": from_user_id or (contact.user_id if contact else None),
        "phone_number_id": phone_number_id,
        "raw": raw,
        "problem": "; ".join(problems) if problems else None,
    })
    return message


# --- Statuses and template updates --------------------------------------------

def _conversation(value):
    if not value or not isinstance(value, dict):
        return None
    return {
        "id": _str(value.get("id")),
        "origin_type": _str(_dict(value.get("origin")).get("type")),
        "expiration_timestamp": _int(value.get("expiration_timestamp")),
    }


def _pricing(value):
    if not value or not isinstance(value, dict):
        return None
    billable = value.get("billable")
    return {
        "billable": billable if isinstance(billable, bool) else None,
        "category": _str(value.get("category")),
        "pricing_model": _str(value.get("pricing_model")),
        "type": _str(value.get("type")),
    }


def _status(data, phone_number_id):
    get = data.get
    status = _str(get("status"), C.FIELD_NAME_MAX)
    try:
        wamid, problem = _wamid(get("id"), "status id"), None
    except _Unstorable as exc:
        wamid, problem = None, str(exc)
    return _frozen(Status, {
        "id": wamid,
        "status": status.lower() if status else None,
        "timestamp": _timestamp(get("timestamp")),
        "recipient_id": _str(get("recipient_id")),
        "recipient_user_id": _str(get("recipient_user_id")),
        "errors": _errors(get("errors")) if "errors" in data else [],
        "conversation": _conversation(get("conversation")),
        "pricing": _pricing(get("pricing")),
        "biz_opaque_callback_data": _str(get("biz_opaque_callback_data")),
        "phone_number_id": phone_number_id,
        "raw": data,
        "problem": problem,
    })


def _template_update(value, waba_id):
    event = _str(value.get("event"))
    event = event.upper() if event else None
    reason = _str(value.get("reason"))
    category = _str(value.get("message_template_category"))
    problems = _Problems()
    return TemplateStatusUpdate(
        event=event,
        status=C.TEMPLATE_EVENT_STATUS.get(event),
        template_id=problems.take(_graph_id, value.get("message_template_id"), "template id"),
        name=problems.take(_template_name, value.get("message_template_name")),
        language=_str(value.get("message_template_language"), C.FIELD_NAME_MAX),
        # "NONE" is Meta's way of saying there is no reason (a pause).
        reason=None if reason and reason.upper() == "NONE" else reason,
        other_info=_plain(value.get("other_info")) or None,
        rejection_info=_plain(value.get("rejection_info")) or None,
        category=category.lower() if category else None,
        waba_id=waba_id,
        raw=value,
        problem=problems.text(),
    )


def _template_name(value):
    name = _str(value)
    if name and len(name) > C.TEMPLATE_NAME_MAX:
        raise _Unstorable("template name is %d characters long, more than Meta's %d"
                          % (len(name), C.TEMPLATE_NAME_MAX))
    return name


def _field(value):
    field = _str(value)
    if field and len(field) > C.FIELD_NAME_MAX:
        raise _Unstorable("field name is %d characters long" % len(field))
    return field


def _change(entry, data, tr):
    # Ids read apart, as in _message.
    problems = []
    try:
        entry_id = _graph_id(entry.get("id"), "entry id")
    except _Unstorable as exc:
        entry_id = None
        problems.append(str(exc))
    try:
        field = _field(data.get("field"))
    except _Unstorable as exc:
        field = None
        problems.append(str(exc))
    value = _dict(data.get("value"))
    meta = _dict(value.get("metadata"))
    try:
        phone_number_id = _graph_id(meta.get("phone_number_id"), "phone_number_id")
    except _Unstorable as exc:
        phone_number_id = None
        problems.append(str(exc))
    contacts, messages, statuses, template_update = [], [], [], None
    if problems:
        pass  # nothing of it can be routed to an account: keep only the reason
    elif field == C.FIELD_MESSAGES:
        items = value.get("contacts")
        if items and isinstance(items, list):
            contacts = [Contact.from_dict(item) for item in items if isinstance(item, dict)]
        items = value.get("messages")
        if items and isinstance(items, list):
            messages = [_message(item, contacts, phone_number_id, tr) for item in items]
        items = value.get("statuses")
        if items and isinstance(items, list):
            statuses = [_status(item, phone_number_id) for item in items if isinstance(item, dict)]
    elif field == C.FIELD_TEMPLATE_STATUS:
        template_update = _template_update(value, entry_id)
    return _frozen(Change, {
        "entry_id": entry_id,
        "field": field,
        "phone_number_id": phone_number_id,
        "display_phone_number": _str(meta.get("display_phone_number"), C.FIELD_NAME_MAX),
        "contacts": contacts,
        "messages": messages,
        "statuses": statuses,
        "errors": _errors(value.get("errors")),
        "template_update": template_update,
        "value": value,
        "problem": "; ".join(problems) if problems else None,
    })


# --- Entry points -------------------------------------------------------------

def _reject_constant(name):
    # NaN and Infinity are not JSON, and no JSON column takes them.
    raise ValueError("%s is not a JSON number" % name)


# One decoder for every body: json.loads with an argument builds a new
# JSONDecoder (and its scanner) per call, a tenth of the decoding itself.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _decode(body):
    if isinstance(body, dict):
        data = body
    else:
        if isinstance(body, (bytes, bytearray, memoryview)):
            try:
                body = bytes(body).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise WebhookPayloadError("webhook body is not UTF-8 text") from exc
        if not isinstance(body, str):
            raise WebhookPayloadError(
                "webhook body must be bytes, str or dict, not %s" % type(body).__name__)
        try:
            if body.startswith("\ufeff"):  # as json.loads refuses it
                raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", body, 0)
            data = _DECODER.decode(body)
        except json.JSONDecodeError as exc:
            raise WebhookPayloadError("webhook body is not valid JSON (%s at line %d column %d)"
                                      % (exc.msg, exc.lineno, exc.colno)) from exc
        except RecursionError as exc:
            raise WebhookPayloadError("webhook body is nested too deeply") from exc
        except ValueError as exc:
            # An integer of more than 4300 digits, NaN or Infinity.
            raise WebhookPayloadError("webhook body is not valid JSON (a number out of range)") from exc
    if not isinstance(data, dict):
        raise WebhookPayloadError(
            "webhook body is a JSON %s, expected an object" % _json_type(data))
    kind = data.get("object")
    if kind != C.WEBHOOK_OBJECT:
        shown = "%.40r" % clean_text(kind[:40]) if isinstance(kind, str) else (
            "None" if kind is None else "a JSON %s" % _json_type(kind))
        raise WebhookPayloadError("webhook object is %s, expected %r" % (shown, C.WEBHOOK_OBJECT))
    return data


def _changes(data):
    """(entry, change) dict pairs in payload order, skipping non-objects."""
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            yield entry, change


def parse_webhook(body, translate=None):
    """Parse a webhook POST body (bytes, str or an already decoded dict).

    Raise WebhookPayloadError when the body is not JSON, not an object or
    not a ``whatsapp_business_account`` webhook; anything inside a valid
    envelope is read without raising. ``translate`` turns the engine's own
    English texts (the TEXT_* previews) into the reader's language; by
    default the addon's translations for translations.DEFAULT_LANG.
    """
    data = _decode(body)
    tr = translate or translations.translator()
    return _frozen(WebhookBatch, {
        "changes": [_change(entry, change, tr) for entry, change in _changes(data)],
        "raw": data,
    })
