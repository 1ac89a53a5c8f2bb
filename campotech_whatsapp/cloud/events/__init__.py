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

# One module per concern (values and types, parsing, routing, status order);
# every name importers use stays importable from ``cloud.events``.
from .. import constants as C
from .parsing import (
    TEXT_CONTACT, TEXT_FLOW_SENT, TEXT_NUMBER_CHANGED, TEXT_ORDER_MANY, TEXT_ORDER_ONE,
    TEXT_UNSUPPORTED, TEXT_USER_ID_CHANGED, parse_webhook,
)
from .routing import Routing, phone_number_ids, routing_ids
from .status_order import message_state, status_advances
from .types import (
    Change, Contact, ErrorInfo, InboundMessage, MediaRef, MessageContext, Status,
    TemplateStatusUpdate, WebhookBatch, WebhookPayloadError,
)
from .values import clean_text

__all__ = [
    "C", "Change", "Contact", "ErrorInfo", "InboundMessage", "MediaRef", "MessageContext",
    "Routing", "Status", "TemplateStatusUpdate", "WebhookBatch", "WebhookPayloadError",
    "TEXT_CONTACT", "TEXT_FLOW_SENT", "TEXT_NUMBER_CHANGED", "TEXT_ORDER_MANY", "TEXT_ORDER_ONE",
    "TEXT_UNSUPPORTED", "TEXT_USER_ID_CHANGED", "clean_text", "message_state", "parse_webhook", "phone_number_ids",
    "routing_ids", "status_advances",
]
