"""The typed views a webhook body is read into, and the error for bodies that are not one."""

import dataclasses
import datetime

from .. import constants as C
from ..errors import CloudError, classify
from .values import _dict, _int, _str, _Unstorable, _user_id, _wa_id

_new = object.__new__
_set = object.__setattr__


def _frozen(cls, values):
    """An instance of the frozen dataclass cls whose fields are values (a dict of all of them).

    What the parser builds its dataclasses with: one dict handed to the
    instance instead of the generated __init__, which sets each field through
    object.__setattr__ (frozen) and costs three times as much. The instance
    is the same to every reader (fields, ==, hash, repr, replace, pickle);
    values must name every field (tests/test_events.py checks the parser's).
    """
    instance = _new(cls)
    _set(instance, "__dict__", values)
    return instance


class WebhookPayloadError(CloudError, ValueError):
    """The body is not a WhatsApp Business Account webhook.

    The message says what is wrong without quoting the body, which may hold
    customers' personal data.
    """


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
        error_data = data.get("error_data")
        return _frozen(cls, {
            "code": _int(data.get("code"), C.ERROR_CODE_MAX),
            "title": _str(data.get("title")),
            "message": _str(data.get("message")),
            "details": _str(error_data.get("details")) if isinstance(error_data, dict) else None,
            "href": _str(data.get("href")),
        })

    @property
    def error_class(self):
        """How the engine should react to this error (see errors.classify)."""
        return classify(self.code)

    @property
    def text(self):
        """Title, message and details, one per line, for a person to read."""
        return "\n".join(filter(None, (self.title, self.message, self.details)))

    def to_dict(self):
        return {"code": self.code, "title": self.title, "message": self.message,
                "details": self.details, "href": self.href}


def _errors(value):
    # Nearly always absent: no list to build an empty copy of.
    if not value or not isinstance(value, list):
        return []
    return [ErrorInfo.from_dict(item) for item in value if isinstance(item, dict)]


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
        problems = []
        # Each id read apart, so that one unstorable id does not hide the others.
        try:
            wa_id = _wa_id(data.get("wa_id"), "contact wa_id")
        except _Unstorable as exc:
            wa_id = None
            problems.append(str(exc))
        try:
            user_id = _user_id(data.get("user_id"), "contact user_id")
        except _Unstorable as exc:
            user_id = None
            problems.append(str(exc))
        try:
            parent_user_id = _user_id(data.get("parent_user_id"), "contact parent_user_id")
        except _Unstorable as exc:
            parent_user_id = None
            problems.append(str(exc))
        return _frozen(cls, {
            "wa_id": wa_id,
            "user_id": user_id,
            "profile_name": _str(profile.get("name"), C.PROFILE_NAME_MAX),
            "username": _str(profile.get("username"), C.PROFILE_NAME_MAX),
            "parent_user_id": parent_user_id,
            "problem": "; ".join(problems) if problems else None,
        })

    def to_dict(self):
        return {"wa_id": self.wa_id, "user_id": self.user_id, "profile_name": self.profile_name,
                "username": self.username, "parent_user_id": self.parent_user_id,
                "problem": self.problem}


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
        return {"id": self.id, "mime_type": self.mime_type, "sha256": self.sha256,
                "caption": self.caption, "filename": self.filename, "voice": self.voice,
                "animated": self.animated}


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
