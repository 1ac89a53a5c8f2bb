"""Whose a webhook is, read before its signature is checked: so it never raises."""

import dataclasses
import re

from .. import constants as C
from .parsing import _changes, _decode
from .types import WebhookPayloadError
from .values import _dict, _graph_id, _lenient


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
