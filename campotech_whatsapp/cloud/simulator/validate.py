"""The checks Meta makes on a send body before it accepts it.

Deliberately minimal: the fields Meta itself refuses synchronously, with the
same codes (100 for a missing or malformed field, 131009 for a bad value,
132000/132001 for templates). Our own builders validate much more.
"""

import re

from .. import constants as C
from .payloads import GraphError

SEND_TYPES = ("text", "image", "audio", "document", "video", "sticker", "location",
              "contacts", "interactive", "template", "reaction")
INTERACTIVE_TYPES = ("button", "list", "cta_url", "product", "product_list", "flow",
                     "location_request_message", "address_message")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_RECIPIENT = re.compile(r"^\+?[0-9 ()\-]{6,25}$")


def required(name):
    return GraphError(C.ERR_INVALID_PARAMETER, "The parameter %s is required." % name,
                      message="(#100) The parameter %s is required." % name)


def _bad_value(details):
    return GraphError(C.ERR_INVALID_PARAMETER_VALUE, details)


def check_mark_read(body):
    message_id = body.get("message_id")
    if not message_id:
        raise required("message_id")
    if not str(message_id).startswith("wamid."):
        raise GraphError(C.ERR_INVALID_PARAMETER, "Invalid message_id %r" % message_id)


def recipient_of(body):
    """The number (or business-scoped user id) a send goes to, digits only for numbers."""
    to = body.get("to")
    if to:
        to = str(to)
        if not _RECIPIENT.match(to):
            raise GraphError(C.ERR_INVALID_PARAMETER, "Invalid parameter 'to': %r" % to)
        return re.sub(r"\D", "", to)
    if body.get("recipient"):
        return str(body["recipient"])
    raise required("to")


def check_send(body, media_exists):
    """Raise GraphError unless Meta would accept this (non-template part of a) send."""
    if body.get("messaging_product") != "whatsapp":
        raise required("messaging_product")
    kind = body.get("type") or "text"
    if kind not in SEND_TYPES:
        raise GraphError(C.ERR_INVALID_PARAMETER,
                         "Param type must be one of {%s} - got \"%s\"." % (", ".join(SEND_TYPES), kind))
    obj = body.get(kind)
    if not isinstance(obj, (dict, list)) or not obj:
        raise required(kind)
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and context.get("message_id")):
        raise required("context['message_id']")
    _CHECKS.get(kind, lambda o, m: None)(obj, media_exists)
    return kind


def _check_text(obj, _media_exists):
    text = obj.get("body")
    if not isinstance(text, str) or not text:
        raise required("text['body']")
    if len(text) > C.TEXT_MAX:
        raise _bad_value("Param text['body'] must be at most %d characters long." % C.TEXT_MAX)


def _media_checker(kind):
    def check(obj, media_exists):
        if not isinstance(obj, dict) or not (obj.get("id") or obj.get("link")):
            raise required("%s['id'] or %s['link']" % (kind, kind))
        if obj.get("id") and not media_exists(str(obj["id"])):
            raise _bad_value("Param %s['id'] is not a valid media id." % kind)
        if len(obj.get("caption") or "") > C.CAPTION_MAX:
            raise _bad_value("Param %s['caption'] must be at most %d characters long."
                             % (kind, C.CAPTION_MAX))
    return check


def _check_location(obj, _media_exists):
    for key in ("latitude", "longitude"):
        if obj.get(key) in (None, ""):
            raise required("location['%s']" % key)


def _check_contacts(obj, _media_exists):
    if not isinstance(obj, list):
        raise _bad_value("Param contacts must be an array.")
    for contact in obj:
        if not (contact.get("name") or {}).get("formatted_name"):
            raise required("contacts[0]['name']['formatted_name']")


def _check_reaction(obj, _media_exists):
    if not obj.get("message_id"):
        raise required("reaction['message_id']")
    if "emoji" not in obj:
        raise required("reaction['emoji']")


def _check_interactive(obj, _media_exists):
    kind = obj.get("type")
    if kind not in INTERACTIVE_TYPES:
        raise required("interactive['type']")
    if kind != "location_request_message" and not (obj.get("body") or {}).get("text") \
            and kind not in ("product",):
        raise required("interactive['body']['text']")
    action = obj.get("action")
    if not isinstance(action, dict):
        raise required("interactive['action']")
    if kind == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= C.REPLY_BUTTONS_MAX:
            raise _bad_value("Param interactive['action']['buttons'] must have 1 to %d items."
                             % C.REPLY_BUTTONS_MAX)
        for button in buttons:
            title = (button.get("reply") or {}).get("title") or ""
            if not title or len(title) > C.REPLY_BUTTON_TITLE_MAX:
                raise _bad_value("Button title length invalid. Should be between 1 and %d characters."
                                 % C.REPLY_BUTTON_TITLE_MAX)
    elif kind == "list":
        rows = [row for section in action.get("sections") or [] for row in section.get("rows") or []]
        if not action.get("button"):
            raise required("interactive['action']['button']")
        if not 1 <= len(rows) <= C.LIST_ROWS_MAX:
            raise _bad_value("Total row count exceed max allowed count: %d" % C.LIST_ROWS_MAX)


_CHECKS = {
    "text": _check_text,
    "image": _media_checker("image"),
    "audio": _media_checker("audio"),
    "document": _media_checker("document"),
    "video": _media_checker("video"),
    "sticker": _media_checker("sticker"),
    "location": _check_location,
    "contacts": _check_contacts,
    "interactive": _check_interactive,
    "reaction": _check_reaction,
}


def placeholders(text):
    """Distinct {{n}} / {{name}} variables of a template text, in order."""
    seen = []
    for name in _PLACEHOLDER.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def check_template_send(obj, find_template):
    """Return the stored template a send uses; raise 132001/132000 like Meta."""
    name = obj.get("name")
    if not name:
        raise required("template['name']")
    language = (obj.get("language") or {}).get("code")
    if not language:
        raise required("template['language']['code']")
    template = find_template(name, language)
    if template is None or template.get("status") != "APPROVED":
        raise GraphError(C.ERR_TEMPLATE_MISSING,
                         "template name (%s) does not exist in %s" % (name, language))
    sent = {}
    for component in obj.get("components") or []:
        sent[str(component.get("type", "")).lower()] = len(component.get("parameters") or [])
    for component in template.get("components") or []:
        ctype = str(component.get("type", "")).lower()
        if ctype not in ("header", "body") or component.get("format", "TEXT") != "TEXT":
            continue
        expected = len(placeholders(component.get("text")))
        got = sent.get(ctype, 0)
        if expected != got:
            raise GraphError(C.ERR_TEMPLATE_PARAM_COUNT,
                             "%s: number of localizable_params (%d) does not match the expected "
                             "number of params (%d)" % (ctype, got, expected))
    return template
