"""Typed views of the webhook POST bodies Meta sends.

Meta omits keys freely, adds new ones without notice and batches several
entries, changes and messages into one POST. Everything here reads
defensively: a missing key becomes None, a message that cannot be read
becomes an ``unknown`` message that keeps its raw dict and says why, and a
field we do not know is kept as a plain Change. One odd item never costs
the others, because Meta would otherwise retry the whole POST for days.

Only ``parse_webhook`` raises, and only when the body is not a WhatsApp
Business Account webhook at all. Every string handed out can be stored (no
NUL, no lone surrogate), and an item whose identity cannot be stored as Meta
would send it (an id too long, not digits where Meta uses digits) carries a
``problem`` instead of failing its neighbours; ``routing_ids`` never raises.
"""

import dataclasses
import datetime
import json
import math
import re

from . import constants as C
from .errors import CloudError, classify

# What the chat shows for messages that carry no text of their own. Plain,
# Spanish-neutral and fixed, so the same payload always renders the same.
TEXT_UNSUPPORTED = "Mensaje no compatible"
TEXT_FLOW_SENT = "Formulario enviado"
TEXT_CONTACT = "Contacto"
TEXT_NUMBER_CHANGED = "El contacto cambió su número a +%s"
TEXT_USER_ID_CHANGED = "El contacto cambió su identificador de WhatsApp"

_UTC = datetime.timezone.utc


class WebhookPayloadError(CloudError, ValueError):
    """The body is not a WhatsApp Business Account webhook.

    The message says what is wrong without quoting the body, which may hold
    customers' personal data.
    """


class _Malformed(Exception):
    """A message Meta sent in a shape we cannot read."""


class _Unstorable(_Malformed):
    """A value Meta would never send (an id too long, a number that is not digits)."""


# --- Small readers that never raise on odd input -----------------------------

def _dict(value):
    return value if isinstance(value, dict) else {}


def _dicts(value):
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


# PostgreSQL text cannot hold NUL, and UTF-8 cannot encode the lone
# surrogates a JSON "\ud800" escape produces.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile("[0-9]+")
# Meta's ids (wamids, user ids) are printable ASCII without spaces.
_TOKEN = re.compile("[\x21-\x7e]+")
_INT_MAX = 2**63 - 1


def clean_text(text):
    """text with what no database column holds (NUL, lone surrogates) as U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _str(value, limit=None):
    """A non-empty storable string, or None for missing, empty and non-scalar values.

    With ``limit``, a display value is cut to that many characters.
    """
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    try:
        text = str(value)
    except ValueError:  # an int too long to print
        return None
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "…"
    return clean_text(text) or None


def _json_type(value):
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


def _id(value, what, limit, digits=False):
    """An identifier as Meta writes it, None when absent.

    Raise _Unstorable when it cannot be one of Meta's: wrong JSON type, more
    than ``limit`` characters, or characters Meta never uses in it.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _INT_MAX:
        value = str(value)
    if not isinstance(value, str):
        raise _Unstorable("%s is a JSON %s, not an id" % (what, _json_type(value)))
    if len(value) > limit:
        raise _Unstorable("%s is %d characters long, more than the %d an id of Meta's has"
                          % (what, len(value), limit))
    if not (_DIGITS if digits else _TOKEN).fullmatch(value):
        raise _Unstorable("%s holds characters Meta never uses in it (%s)"
                          % (what, "digits only" if digits else "printable ASCII"))
    return value


def _graph_id(value, what="id"):
    return _id(value, what, C.GRAPH_ID_MAX_DIGITS, digits=True)


def _wamid(value, what="message id"):
    return _id(value, what, C.WAMID_MAX)


def _wa_id(value, what="wa_id"):
    return _id(value, what, C.WA_ID_MAX_DIGITS, digits=True)


def _user_id(value, what="user_id"):
    return _id(value, what, C.USER_ID_MAX)


def _lenient(reader, value, *args):
    """reader(value), or None where it would raise: for ids that only help."""
    try:
        return reader(value, *args)
    except _Unstorable:
        return None


class _Problems(list):
    """The reasons an item cannot be stored, collected while it is read."""

    def read(self, reader, value, *args):
        try:
            return reader(value, *args)
        except _Unstorable as exc:
            self.append(str(exc))
            return None

    def text(self):
        return "; ".join(self) or None


def _int(value, bound=_INT_MAX):
    """An integer within ±bound (64-bit by default), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -bound <= number <= bound else None


def _number(value):
    """A finite float from a JSON number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _timestamp(value):
    """Meta's epoch seconds (a string, usually) as an aware UTC datetime."""
    seconds = _int(value)
    if seconds is None:
        return None
    try:
        return datetime.datetime.fromtimestamp(seconds, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _storable(value, depth=0):
    """A copy of JSON data that a JSON column accepts: clean strings, finite numbers.

    Raise _Malformed past C.METADATA_DEPTH_MAX levels.
    """
    if depth > C.METADATA_DEPTH_MAX:
        raise _Malformed("the message nests more than %d levels" % C.METADATA_DEPTH_MAX)
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT_MAX <= value <= _INT_MAX else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_text(str(key)): _storable(val, depth + 1) for key, val in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(val, depth + 1) for val in value]
    return _str(value)


def _plain(data):
    """A shallow copy of data keeping only the keys whose values are set."""
    return {key: val for key, val in _dict(data).items() if val not in (None, "", [], {})}


# --- Value objects -----------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ErrorInfo:
    """One Meta error object, as found on statuses, messages and changes."""

    code: int | None
    title: str | None
    message: str | None
    details: str | None
    href: str | None

    @classmethod
    def from_dict(cls, data):
        data = _dict(data)
        return cls(
            code=_int(data.get("code"), C.ERROR_CODE_MAX),
            title=_str(data.get("title")),
            message=_str(data.get("message")),
            details=_str(_dict(data.get("error_data")).get("details")),
            href=_str(data.get("href")),
        )

    @property
    def error_class(self):
        """How the engine should react to this error (see errors.classify)."""
        return classify(self.code)

    def to_dict(self):
        return dataclasses.asdict(self)


def _errors(value):
    return [ErrorInfo.from_dict(item) for item in _dicts(value)]


@dataclasses.dataclass(frozen=True)
class Contact:
    """The sender as ``value.contacts[]`` describes them.

    ``wa_id`` is absent for users who only show a username; ``user_id`` is
    the business-scoped user id (``AR.1349…``) Meta adds since 2026.
    """

    wa_id: str | None
    user_id: str | None
    profile_name: str | None
    username: str | None = None
    parent_user_id: str | None = None
    # Why the sender's ids cannot be stored; None when they can.
    problem: str | None = None

    @classmethod
    def from_dict(cls, data):
        data = _dict(data)
        profile = _dict(data.get("profile"))
        problems = _Problems()
        return cls(
            wa_id=problems.read(_wa_id, data.get("wa_id"), "contact wa_id"),
            user_id=problems.read(_user_id, data.get("user_id"), "contact user_id"),
            profile_name=_str(profile.get("name"), C.PROFILE_NAME_MAX),
            username=_str(profile.get("username"), C.PROFILE_NAME_MAX),
            parent_user_id=problems.read(_user_id, data.get("parent_user_id"),
                                         "contact parent_user_id"),
            problem=problems.text(),
        )

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class MediaRef:
    """The media of an inbound message: an id to fetch, not the bytes."""

    id: str | None
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None
    filename: str | None = None
    voice: bool = False
    animated: bool = False

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class MessageContext:
    """What an inbound message answers to, or that it was forwarded."""

    from_: str | None
    id: str | None
    forwarded: bool = False
    frequently_forwarded: bool = False
    # {catalog_id, product_retailer_id} when the customer asks about a product.
    referred_product: dict | None = None

    def to_dict(self):
        return {
            "from": self.from_,
            "id": self.id,
            "forwarded": self.forwarded,
            "frequently_forwarded": self.frequently_forwarded,
            "referred_product": self.referred_product,
        }


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """One message a customer sent, ready to become a chat record.

    ``type`` is Meta's type; ``record_type`` is ours (C.RECORD_TYPES).
    ``metadata`` is JSON-serialisable and holds the type's structured data
    plus ``context``, ``referral`` and ``errors`` when present; a message we
    could not read has record_type ``unknown`` and a ``note`` saying why.
    """

    id: str | None
    wa_id: str | None
    timestamp: datetime.datetime | None
    type: str
    record_type: str
    body_text: str
    metadata: dict
    media: MediaRef | None = None
    context: MessageContext | None = None
    reaction_to: str | None = None
    errors: list = dataclasses.field(default_factory=list)
    contact: Contact | None = None
    user_id: str | None = None
    phone_number_id: str | None = None
    raw: dict = dataclasses.field(default_factory=dict, repr=False)
    # Why this message cannot be stored (its wamid or sender is not one of
    # Meta's); None when it can. Retrying never helps such a message.
    problem: str | None = None

    @property
    def reaction_removed(self):
        """True for a reaction whose emoji is gone: the customer took it back."""
        return self.type == "reaction" and bool(self.metadata.get("reaction", {}).get("removed"))

    @property
    def new_wa_id(self):
        """The customer's new wa_id when this is Meta's "user changed number" notice."""
        if self.type != "system":
            return None
        return (self.metadata.get("system") or {}).get("new_wa_id") or None

    def to_dict(self):
        return {
            "id": self.id,
            "wa_id": self.wa_id,
            "user_id": self.user_id,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "type": self.type,
            "record_type": self.record_type,
            "body_text": self.body_text,
            "metadata": self.metadata,
            "media": self.media.to_dict() if self.media else None,
            "context": self.context.to_dict() if self.context else None,
            "reaction_to": self.reaction_to,
            "errors": [error.to_dict() for error in self.errors],
            "contact": self.contact.to_dict() if self.contact else None,
            "phone_number_id": self.phone_number_id,
            "problem": self.problem,
        }


@dataclasses.dataclass(frozen=True)
class Status:
    """A delivery report for a message we sent.

    ``conversation`` is {id, origin_type, expiration_timestamp} and
    ``pricing`` is {billable, category, pricing_model, type}; both None when
    Meta leaves them out (it does for most statuses since v24.0).
    """

    id: str | None
    status: str | None
    timestamp: datetime.datetime | None
    recipient_id: str | None
    recipient_user_id: str | None = None
    errors: list = dataclasses.field(default_factory=list)
    conversation: dict | None = None
    pricing: dict | None = None
    biz_opaque_callback_data: str | None = None
    phone_number_id: str | None = None
    raw: dict = dataclasses.field(default_factory=dict, repr=False)
    # Why this status cannot be applied (its wamid is not one of Meta's).
    problem: str | None = None

    @property
    def error(self):
        """The first error, which is the one Meta means; None if there is none."""
        return self.errors[0] if self.errors else None

    def to_dict(self):
        return {
            "id": self.id,
            "status": self.status,
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "recipient_id": self.recipient_id,
            "recipient_user_id": self.recipient_user_id,
            "errors": [error.to_dict() for error in self.errors],
            "conversation": self.conversation,
            "pricing": self.pricing,
            "biz_opaque_callback_data": self.biz_opaque_callback_data,
            "phone_number_id": self.phone_number_id,
            "problem": self.problem,
        }


@dataclasses.dataclass(frozen=True)
class TemplateStatusUpdate:
    """A ``message_template_status_update``: a template changed state.

    ``event`` is Meta's upper-case event; ``status`` is ours (see
    C.TEMPLATE_EVENT_STATUS), None when the event does not change whether the
    template can be sent.
    """

    event: str | None
    status: str | None
    template_id: str | None
    name: str | None
    language: str | None
    reason: str | None = None
    other_info: dict | None = None
    rejection_info: dict | None = None
    category: str | None = None
    waba_id: str | None = None
    raw: dict = dataclasses.field(default_factory=dict, repr=False)
    # Why this update cannot be applied (its template id or name is not Meta's).
    problem: str | None = None

    def to_dict(self):
        data = dataclasses.asdict(self)
        del data["raw"]
        return data


@dataclasses.dataclass(frozen=True)
class Change:
    """One ``entry[].changes[]`` item. ``value`` is Meta's raw value dict."""

    entry_id: str | None
    field: str | None
    phone_number_id: str | None = None
    display_phone_number: str | None = None
    contacts: list = dataclasses.field(default_factory=list)
    messages: list = dataclasses.field(default_factory=list)
    statuses: list = dataclasses.field(default_factory=list)
    errors: list = dataclasses.field(default_factory=list)
    template_update: TemplateStatusUpdate | None = None
    value: dict = dataclasses.field(default_factory=dict, repr=False)
    # Why nothing of this change can be used (its account ids are not Meta's).
    problem: str | None = None

    @property
    def raw(self):
        return self.value

    @property
    def known(self):
        """False for the fields this module keeps only as raw values."""
        return self.field in (C.FIELD_MESSAGES, C.FIELD_TEMPLATE_STATUS)


@dataclasses.dataclass(frozen=True)
class WebhookBatch:
    """Everything one POST carried, in payload order."""

    changes: list
    raw: dict = dataclasses.field(default_factory=dict, repr=False)

    def messages(self):
        for change in self.changes:
            yield from change.messages

    def statuses(self):
        for change in self.changes:
            yield from change.statuses

    def template_updates(self):
        for change in self.changes:
            if change.template_update is not None:
                yield change.template_update


# --- Messages, one reader per Meta type -------------------------------------

@dataclasses.dataclass
class _Body:
    text: str = ""
    metadata: dict = dataclasses.field(default_factory=dict)
    media: MediaRef | None = None
    reaction_to: str | None = None


def _part(message, key):
    """The type-specific object of a message, which its type requires."""
    part = message.get(key)
    if not isinstance(part, dict):
        raise _Malformed("'%s' is missing or not an object" % key)
    return part


def _read_text(message):
    return _Body(text=_str(_part(message, "text").get("body")) or "")


def _read_media(message):
    kind = message.get("type")
    part = _part(message, kind)
    media = MediaRef(
        # Digits only: the id becomes a Graph URL path when it is downloaded.
        id=_graph_id(part.get("id"), "media id"),
        mime_type=_str(part.get("mime_type"), C.MIME_TYPE_MAX),
        sha256=_str(part.get("sha256"), C.MIME_TYPE_MAX),
        caption=_str(part.get("caption")),
        filename=_str(part.get("filename"), C.MEDIA_FILENAME_MAX),
        voice=part.get("voice") is True,
        animated=part.get("animated") is True,
    )
    if media.id is None:
        # Without the id there is nothing to download: not a usable media message.
        raise _Malformed("'%s' has no media id" % kind)
    text = media.caption or (media.filename if kind == "document" else None) or ""
    return _Body(text=text, metadata={"media": media.to_dict()}, media=media)


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
    return _Body(text="📍 " + label, metadata={"location": location})


def _contact_card(card):
    name = _dict(card.get("name"))
    phones = [_plain(phone) for phone in _dicts(card.get("phones"))]
    full_name = _str(name.get("formatted_name")) or " ".join(
        part for part in (_str(name.get("first_name")), _str(name.get("last_name"))) if part)
    return {
        "name": full_name or None,
        "name_parts": _plain(name),
        "phones": phones,
        "emails": [_plain(email) for email in _dicts(card.get("emails"))],
        "org": _plain(card.get("org")) or None,
        "urls": [_plain(url) for url in _dicts(card.get("urls"))],
        "addresses": [_plain(address) for address in _dicts(card.get("addresses"))],
        "birthday": _str(card.get("birthday")),
    }


def _read_contacts(message):
    if not isinstance(message.get("contacts"), list):
        raise _Malformed("'contacts' is missing or not a list")
    cards = [_contact_card(card) for card in _dicts(message["contacts"])]
    labels = []
    for card in cards:
        phone = card["phones"][0].get("phone") if card["phones"] else None
        labels.append(card["name"] or _str(phone) or TEXT_CONTACT)
    return _Body(text="👤 " + ", ".join(labels or [TEXT_CONTACT]), metadata={"contacts": cards})


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
        return _Body(text=data["title"] or data["id"] or "", metadata={"interactive": data})
    if kind == "nfm_reply":
        raw_json = reply.get("response_json")
        data = {"type": kind, "name": _str(reply.get("name")), "body": _str(reply.get("body")),
                "response": _parse_response_json(raw_json),
                "response_json": raw_json if isinstance(raw_json, str) else None}
        # A Flow's body is Meta's fixed English "Sent"; other nfm kinds (an
        # address) carry text worth showing.
        text = TEXT_FLOW_SENT if data["name"] == "flow" else data["body"] or TEXT_FLOW_SENT
        return _Body(text=text, metadata={"interactive": data})
    # A reply kind newer than this module: keep its data for whoever knows it.
    return _Body(metadata={"interactive": {"type": kind, "data": reply or None}})


def _read_button(message):
    part = _part(message, "button")
    data = {"payload": _str(part.get("payload")), "text": _str(part.get("text"))}
    return _Body(text=data["text"] or data["payload"] or "", metadata={"button": data})


def _read_reaction(message):
    part = _part(message, "reaction")
    target = _wamid(part.get("message_id"), "reaction message_id")
    if target is None:
        raise _Malformed("reaction has no message_id")
    emoji = _str(part.get("emoji"))
    data = {"message_id": target, "emoji": emoji, "removed": emoji is None}
    return _Body(text=emoji or "", metadata={"reaction": data}, reaction_to=target)


def _order_summary(items, note):
    # A quantity beyond a billion is not an order; it must not overflow the total.
    quantities = [_int(item.get("quantity"), 10**9) for item in items]
    count = sum(q if q is not None and q > 0 else 1 for q in quantities)
    text = "🛒 Pedido: %d %s" % (count, "producto" if count == 1 else "productos")
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
    data = {"catalog_id": _str(part.get("catalog_id")), "text": note, "product_items": items}
    return _Body(text=_order_summary(items, note), metadata={"order": data})


def _read_system(message):
    part = _part(message, "system")
    kind = _str(part.get("type"))
    data = {key: val for key, val in _plain(part).items() if not isinstance(val, (dict, list))}
    # Cloud API puts the new number in "wa_id"; the old on-premises API used "new_wa_id".
    data["new_wa_id"] = _wa_id(part.get("wa_id") or part.get("new_wa_id"), "new wa_id")
    data["new_user_id"] = _user_id(part.get("user_id") or part.get("new_user_id"), "new user_id")
    text = _str(part.get("body"))
    if not text and kind == "user_changed_number" and data["new_wa_id"]:
        text = TEXT_NUMBER_CHANGED % data["new_wa_id"]
    elif not text and kind == "user_changed_user_id":
        text = TEXT_USER_ID_CHANGED
    return _Body(text=text or "", metadata={"system": data})


def _read_other(message):
    """unsupported, unknown and types newer than this module."""
    kind = message.get("type")
    metadata = {}
    inner = _dict(message.get("unsupported"))
    if inner:
        metadata["unsupported"] = {"type": _str(inner.get("type"))}
    unsupported = kind in ("unsupported", "unknown") or bool(message.get("errors"))
    return _Body(text=TEXT_UNSUPPORTED if unsupported else "", metadata=metadata)


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
    value = _dict(value)
    if not value:
        return None
    # Only a pointer to another message: an implausible one points nowhere.
    return MessageContext(
        from_=_lenient(_wa_id, value.get("from")),
        id=_lenient(_wamid, value.get("id")),
        forwarded=value.get("forwarded") is True,
        frequently_forwarded=value.get("frequently_forwarded") is True,
        referred_product=_plain(value.get("referred_product")) or None,
    )


def _sender(contacts, wa_id, user_id):
    """The contact who sent the message: by wa_id, then by user id, then the first."""
    for contact in contacts:
        if wa_id and contact.wa_id == wa_id:
            return contact
    for contact in contacts:
        if user_id and contact.user_id == user_id:
            return contact
    return contacts[0] if contacts else None


def _message(data, contacts, phone_number_id):
    raw = data if isinstance(data, dict) else {"value": data}
    problems = _Problems()
    wa_id = problems.read(_wa_id, raw.get("from"), "from")
    from_user_id = problems.read(_user_id, raw.get("from_user_id"), "from_user_id")
    contact = _sender(contacts, wa_id, from_user_id)
    if contact is not None and contact.problem:
        problems.append(contact.problem)
    kind = _str(raw.get("type"), C.FIELD_NAME_MAX) or "unknown"
    errors = _errors(raw.get("errors"))
    common = {
        "id": problems.read(_wamid, raw.get("id"), "id"),
        "wa_id": wa_id,
        "user_id": from_user_id or (contact.user_id if contact else None),
        "timestamp": _timestamp(raw.get("timestamp")),
        "type": kind,
        "errors": errors,
        "contact": contact,
        "phone_number_id": phone_number_id,
        "raw": raw,
        "problem": problems.text(),
    }
    try:
        if not isinstance(data, dict):
            raise _Malformed("the message is not a JSON object")
        body = _READERS.get(kind, _read_other)(raw)
        context = _read_context(raw.get("context"))
        metadata = dict(body.metadata)
        if context is not None:
            metadata["context"] = context.to_dict()
        if _dict(raw.get("referral")):
            metadata["referral"] = raw["referral"]
        if errors:
            metadata["errors"] = [error.to_dict() for error in errors]
        metadata = _storable(metadata)
    except (_Malformed, TypeError, ValueError, AttributeError, KeyError, IndexError,
            OverflowError) as exc:
        # Keep the message (it has a wamid Meta will not resend) but say why
        # it cannot be shown as what it claims to be.
        reason = str(exc) if isinstance(exc, _Malformed) else "%s: %s" % (type(exc).__name__, exc)
        metadata = {"note": clean_text("could not read this %s message: %s" % (kind, reason))}
        if errors:
            metadata["errors"] = _storable([error.to_dict() for error in errors])
        return InboundMessage(record_type="unknown", body_text="", metadata=metadata, **common)
    return InboundMessage(
        record_type=C.INBOUND_RECORD_TYPE.get(kind, "unknown"),
        body_text=body.text,
        metadata=metadata,
        media=body.media,
        context=context,
        reaction_to=body.reaction_to,
        **common,
    )


# --- Statuses and template updates --------------------------------------------

def _conversation(value):
    value = _dict(value)
    if not value:
        return None
    return {
        "id": _str(value.get("id")),
        "origin_type": _str(_dict(value.get("origin")).get("type")),
        "expiration_timestamp": _int(value.get("expiration_timestamp")),
    }


def _pricing(value):
    value = _dict(value)
    if not value:
        return None
    billable = value.get("billable")
    return {
        "billable": billable if isinstance(billable, bool) else None,
        "category": _str(value.get("category")),
        "pricing_model": _str(value.get("pricing_model")),
        "type": _str(value.get("type")),
    }


def _status(data, phone_number_id):
    status = _str(data.get("status"), C.FIELD_NAME_MAX)
    problems = _Problems()
    return Status(
        id=problems.read(_wamid, data.get("id"), "status id"),
        status=status.lower() if status else None,
        timestamp=_timestamp(data.get("timestamp")),
        recipient_id=_str(data.get("recipient_id")),
        recipient_user_id=_str(data.get("recipient_user_id")),
        errors=_errors(data.get("errors")),
        conversation=_conversation(data.get("conversation")),
        pricing=_pricing(data.get("pricing")),
        biz_opaque_callback_data=_str(data.get("biz_opaque_callback_data")),
        phone_number_id=phone_number_id,
        raw=data,
        problem=problems.text(),
    )


def _template_update(value, waba_id):
    event = _str(value.get("event"))
    event = event.upper() if event else None
    reason = _str(value.get("reason"))
    category = _str(value.get("message_template_category"))
    problems = _Problems()
    return TemplateStatusUpdate(
        event=event,
        status=C.TEMPLATE_EVENT_STATUS.get(event),
        template_id=problems.read(_graph_id, value.get("message_template_id"), "template id"),
        name=problems.read(_template_name, value.get("message_template_name")),
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


def _change(entry, data):
    problems = _Problems()
    entry_id = problems.read(_graph_id, entry.get("id"), "entry id")
    field = problems.read(_field, data.get("field"))
    value = _dict(data.get("value"))
    meta = _dict(value.get("metadata"))
    phone_number_id = problems.read(_graph_id, meta.get("phone_number_id"), "phone_number_id")
    parts = {}
    if problems:
        pass  # nothing of it can be routed to an account: keep only the reason
    elif field == C.FIELD_MESSAGES:
        contacts = [Contact.from_dict(item) for item in _dicts(value.get("contacts"))]
        raw_messages = value.get("messages") if isinstance(value.get("messages"), list) else []
        parts = {
            "contacts": contacts,
            "messages": [_message(item, contacts, phone_number_id) for item in raw_messages],
            "statuses": [_status(item, phone_number_id) for item in _dicts(value.get("statuses"))],
        }
    elif field == C.FIELD_TEMPLATE_STATUS:
        parts = {"template_update": _template_update(value, entry_id)}
    return Change(
        entry_id=entry_id,
        field=field,
        phone_number_id=phone_number_id,
        display_phone_number=_str(meta.get("display_phone_number"), C.FIELD_NAME_MAX),
        errors=_errors(value.get("errors")),
        value=value,
        problem=problems.text(),
        **parts,
    )


# --- Entry points -------------------------------------------------------------

def _reject_constant(name):
    # NaN and Infinity are not JSON, and no JSON column takes them.
    raise ValueError("%s is not a JSON number" % name)


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
            data = json.loads(body, parse_constant=_reject_constant)
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


def parse_webhook(body):
    """Parse a webhook POST body (bytes, str or an already decoded dict).

    Raise WebhookPayloadError when the body is not JSON, not an object or
    not a ``whatsapp_business_account`` webhook; anything inside a valid
    envelope is read without raising.
    """
    data = _decode(body)
    return WebhookBatch(changes=[_change(entry, change) for entry, change in _changes(data)],
                        raw=data)


@dataclasses.dataclass(frozen=True)
class Routing:
    """What a webhook names before it is trusted: whose it is and what it carries.

    Only plausible ids are listed (digits, at most C.GRAPH_ID_MAX_DIGITS) and at
    most C.ROUTING_IDS_MAX of each; ``problem`` says why a body is not a
    webhook at all, None when it is one.
    """

    phone_number_ids: list
    waba_ids: list
    event_types: list
    problem: str | None = None

    def names(self, phone_number_id, waba_id):
        """Whether the webhook is for the account with these ids.

        Its phone number id decides; a webhook with none (template updates
        carry only the entry's WABA id) is the account's by its WABA id.
        """
        if self.phone_number_ids:
            return phone_number_id in self.phone_number_ids
        return bool(waba_id) and waba_id in self.waba_ids

    @property
    def event_type(self):
        """The event kinds as one short label ("messages,statuses"), "unknown" for none."""
        return ",".join(self.event_types) or "unknown"


_EVENT_KIND = re.compile("[a-z0-9_]{1,%d}" % C.FIELD_NAME_MAX)


def _add(found, value, limit=C.ROUTING_IDS_MAX):
    if value and value not in found and len(found) < limit:
        found.append(value)


def routing_ids(body):
    """The phone number ids, WABA ids and event kinds of a webhook body.

    Meant for the controller to pick the account whose app secret checks
    the signature, before anything else is trusted, so it never raises: on
    garbage the lists are empty and ``problem`` says why. Event kinds are
    the change fields, with ``messages`` split into ``messages`` and
    ``statuses`` by what the value holds; an odd field name counts as
    ``unknown``.
    """
    try:
        data = _decode(body)
    except WebhookPayloadError as exc:
        return Routing([], [], [], problem=str(exc))
    routing = Routing([], [], [])
    for entry, change in _changes(data):
        value = _dict(change.get("value"))
        _add(routing.waba_ids, _lenient(_graph_id, entry.get("id")))
        _add(routing.phone_number_ids,
             _lenient(_graph_id, _dict(value.get("metadata")).get("phone_number_id")))
        field = change.get("field")
        if not (isinstance(field, str) and _EVENT_KIND.fullmatch(field)):
            field = "unknown"
        if field == C.FIELD_MESSAGES:
            for kind in ("messages", "statuses", "errors"):
                if value.get(kind):
                    _add(routing.event_types, kind, C.ROUTING_EVENT_TYPES_MAX)
        else:
            _add(routing.event_types, field, C.ROUTING_EVENT_TYPES_MAX)
    return routing


def phone_number_ids(body):
    """The distinct ``metadata.phone_number_id`` values, in payload order; [] on garbage."""
    return routing_ids(body).phone_number_ids


def status_advances(current, new):
    """Whether a delivery status ``new`` should replace ``current`` on a message.

    Statuses only move forward along C.STATUS_RANK (sent < delivered < read
    < played), because Meta does not deliver them in order: a late
    ``delivered`` never overwrites ``read``, and the same status twice is not
    an advance. ``failed`` overwrites pending, sent and delivered only (a
    message the customer read or played did not fail) and nothing overwrites
    ``failed``. An empty ``current`` counts as pending; an unknown status on
    either side is never an advance.
    """
    new = new.lower() if isinstance(new, str) else None
    current = current.lower() if isinstance(current, str) and current else "pending"
    if new not in C.STATUS_RANK or current not in C.STATUS_RANK or new == current:
        return False
    if current == "failed":
        return False
    if new == "failed":
        return current in C.STATUS_FAILED_OVERWRITES
    return C.STATUS_RANK[new] > C.STATUS_RANK[current]


def message_state(status):
    """The state a delivery status leaves one of our messages in.

    A voice note's ``played`` is ``read`` for whoever reads the chat; the
    other statuses are states of their own.
    """
    return "read" if status == "played" else status
