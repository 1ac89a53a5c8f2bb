"""Meta-shaped JSON pieces the simulator answers and delivers.

Error bodies, message ids, webhook envelopes and status objects follow the
shapes in Meta's Cloud API reference, so code tested against the simulator
meets the same fields in production.
"""

import base64
import json
import secrets

from .. import constants as C

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Meta puts the title in the message as "(#code) Title"; details go in
# error_data. Titles as Meta's error code table words them.
ERROR_TITLES = {
    1: "API Unknown",
    2: "Service temporarily unavailable",
    C.ERR_APP_RATE: "Application request limit reached",
    C.ERR_INVALID_PARAMETER: "Invalid parameter",
    C.ERR_TOKEN_EXPIRED: "Invalid OAuth access token - Cannot parse access token",
    C.ERR_WABA_RATE: "Rate limit issues",
    C.ERR_THROUGHPUT: "Rate limit hit",
    C.ERR_GENERIC: "Something went wrong",
    131008: "Required parameter is missing",
    C.ERR_INVALID_PARAMETER_VALUE: "Parameter value is not valid",
    C.ERR_UNAVAILABLE: "Service unavailable",
    C.ERR_UNDELIVERABLE: "Message Undeliverable",
    C.ERR_RECIPIENT_NOT_ALLOWED: "Recipient phone number not in allowed list",
    C.ERR_REENGAGEMENT: "Re-engagement message",
    C.ERR_SPAM_LIMIT: "Spam rate limit hit",
    C.ERR_UNSUPPORTED_TYPE: "Message type unknown",
    C.ERR_MEDIA_DOWNLOAD: "Media download error",
    C.ERR_MEDIA_UPLOAD: "Media upload error",
    C.ERR_PAIR_RATE: "(Business Account, Consumer Account) pair rate limit hit",
    C.ERR_TEMPLATE_PARAM_COUNT: "Number of parameters does not match the expected number of params",
    C.ERR_TEMPLATE_MISSING: "Template name does not exist in the translation",
}

ERROR_DETAILS = {
    C.ERR_REENGAGEMENT: ("Message failed to send because more than 24 hours have passed "
                         "since the customer last replied to this number."),
    C.ERR_THROUGHPUT: "Cloud API message throughput has been reached.",
    C.ERR_PAIR_RATE: ("Message failed to send because there were too many messages sent "
                      "from this phone number to the same phone number in a short period of time."),
    C.ERR_UNDELIVERABLE: "Message Undeliverable.",
    2: "Service temporarily unavailable. Please retry your request.",
}

# Graph answers these codes without the WhatsApp error_data block.
_PLAIN_GRAPH_CODES = {C.ERR_TOKEN_EXPIRED}


def fbtrace_id():
    return base64.urlsafe_b64encode(secrets.token_bytes(15)).decode().rstrip("=")


class GraphError(Exception):
    """An error answer of the simulated Graph API."""

    def __init__(self, code, details=None, http_status=400, subcode=None, message=None):
        self.code = int(code)
        self.details = details if details is not None else ERROR_DETAILS.get(self.code)
        self.http_status = int(http_status)
        self.subcode = subcode
        self.message = message
        super().__init__("%s %s" % (self.code, self.details or ""))

    def body(self):
        return error_body(self.code, self.details, self.subcode, self.message)


def error_title(code):
    return ERROR_TITLES.get(code, "Error")


def error_body(code, details=None, subcode=None, message=None):
    """Meta's error envelope for one error code."""
    if message is None:
        title = error_title(code)
        message = title if code in _PLAIN_GRAPH_CODES else "(#%s) %s" % (code, title)
    error = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if code not in _PLAIN_GRAPH_CODES:
        error["error_data"] = {"messaging_product": "whatsapp",
                               "details": details if details is not None else error_title(code)}
    error["fbtrace_id"] = fbtrace_id()
    return {"error": error}


def status_error(code, details=None):
    """The errors[] item of a failed status or an unsupported message."""
    title = error_title(code)
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or ERROR_DETAILS.get(code) or title},
        "href": ERROR_HREF,
    }


def new_wamid(number=""):
    """A unique message id shaped like Meta's (base64 of opaque bytes)."""
    raw = b"\x18\x0c" + str(number or "0").encode() + b"\x15\x02\x00\x12\x18\x14" \
        + secrets.token_hex(10).upper().encode() + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def new_numeric_id():
    """A Graph object id: 15-16 digits, as Meta's media and template ids."""
    return str(10 ** 15 + secrets.randbelow(9 * 10 ** 15))


def envelope(waba_id, field, value):
    return {
        "object": C.WEBHOOK_OBJECT,
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }


def messages_value(phone_number_id, display_phone_number, **parts):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number,
                     "phone_number_id": phone_number_id},
    }
    value.update({k: v for k, v in parts.items() if v is not None})
    return value


def status_object(wamid, status, timestamp, recipient_id, category="service",
                  errors=None, recipient_user_id=None):
    """One statuses[] item; pricing as Meta reports it under per-message pricing."""
    item = {"id": wamid, "status": status, "timestamp": str(int(timestamp))}
    if recipient_id:
        item["recipient_id"] = recipient_id
    if recipient_user_id:
        item["recipient_user_id"] = recipient_user_id
    if status == "failed":
        item["errors"] = errors or [status_error(C.ERR_UNDELIVERABLE)]
        return item
    if status in ("sent", "delivered"):
        free = category == "service"
        item["pricing"] = {
            "billable": not free,
            "pricing_model": "PMP",
            "category": category,
            "type": "free_customer_service" if free else "regular",
        }
    return item


def template_status_value(template, event, reason=None):
    return {
        "event": event,
        "message_template_id": int(template["id"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "reason": reason or "NONE",
    }


def encode(payload):
    """The exact bytes delivered: compact JSON with non-ASCII escaped, as Meta sends."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()
