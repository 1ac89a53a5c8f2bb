"""Numbers and names that Meta defines for the WhatsApp Cloud API.

Every limit, code and type the engine checks against lives here, once, so a
change in Meta's documentation is a one-line change.
"""

# Graph API. v24.0 (2025-10) is supported until 2028-02; older ones expire.
GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v24.0"
# Oldest version we still accept from a setting; anything older is expired.
MIN_API_VERSION = (24, 0)

# Seconds for the connection and for each read on every call: Meta answers
# in well under a second, and a cron worker must never hang on a dead socket.
# One number rather than a (connect, read) pair, because Odoo's test harness
# compares the timeout with a number.
DEFAULT_TIMEOUT = 20

# --- Outbound limits -------------------------------------------------------
TEXT_MAX = 4096
CAPTION_MAX = 1024
TEMPLATE_HEADER_TEXT_MAX = 60
TEMPLATE_BODY_MAX = 1024
TEMPLATE_FOOTER_MAX = 60
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTON_ID_MAX = 256
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
LIST_ROW_ID_MAX = 200
LIST_BUTTON_MAX = 20
LIST_SECTION_TITLE_MAX = 24
INTERACTIVE_BODY_MAX = 1024
INTERACTIVE_HEADER_TEXT_MAX = 60
INTERACTIVE_FOOTER_MAX = 60
CTA_DISPLAY_TEXT_MAX = 20

# Media kinds and what Meta accepts for each (bytes, mime types).
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
MEDIA_MAX_BYTES = {
    "image": 5 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "document": 100 * 1024 * 1024,
    "sticker": 500 * 1024,
}
MEDIA_MIME_TYPES = {
    "image": ("image/jpeg", "image/png"),
    "video": ("video/mp4", "video/3gpp"),
    "audio": ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"),
    "sticker": ("image/webp",),
    # Documents: any type Meta renders; we do not restrict them here.
    "document": (),
}

# --- Throughput ------------------------------------------------------------
DEFAULT_MPS = 80
MAX_MPS = 1000
# Pair rate: about one message every 6 s to the same customer number.
PAIR_RATE_SECONDS = 6

# --- Customer service window ---------------------------------------------
SERVICE_WINDOW_SECONDS = 24 * 3600

# --- Webhooks --------------------------------------------------------------
WEBHOOK_OBJECT = "whatsapp_business_account"
SIGNATURE_HEADER = "X-Hub-Signature-256"
FIELD_MESSAGES = "messages"
FIELD_TEMPLATE_STATUS = "message_template_status_update"

INBOUND_MESSAGE_TYPES = (
    "text", "image", "document", "audio", "video", "sticker", "location",
    "contacts", "interactive", "button", "reaction", "order", "system",
    "unsupported", "unknown",
)

# Delivery statuses, by how far a message has come. A status never moves a
# message backwards (a late "delivered" does not undo "read"); "failed"
# replaces only the statuses in STATUS_FAILED_OVERWRITES, and nothing
# replaces "failed" (events.status_advances).
STATUS_RANK = {
    "pending": 0,
    "sent": 1,
    "delivered": 2,
    "read": 3,
    "played": 4,
    "failed": 5,
}

# Template statuses Meta reports, as our lower-case names.
TEMPLATE_STATUSES = ("pending", "approved", "rejected", "paused", "disabled")
TEMPLATE_CATEGORIES = ("marketing", "utility", "authentication")

# --- Error codes -------------------------------------------------------------
ERR_TEMPORARY = (1, 2)
ERR_APP_RATE = 4
ERR_INVALID_PARAMETER = 100
ERR_TOKEN_EXPIRED = 190
ERR_PERMISSION = (10, 200, 299)
ERR_WABA_RATE = 80007
ERR_THROUGHPUT = 130429
ERR_GENERIC = 131000
ERR_INVALID_PARAMETER_VALUE = 131009
ERR_UNAVAILABLE = 131016
ERR_UNDELIVERABLE = 131026
ERR_RECIPIENT_NOT_ALLOWED = 131030
ERR_REENGAGEMENT = 131047
ERR_SPAM_LIMIT = 131048
ERR_UNSUPPORTED_TYPE = 131051
ERR_MEDIA_DOWNLOAD = 131052
ERR_MEDIA_UPLOAD = 131053
ERR_PAIR_RATE = 131056
ERR_TEMPLATE_PARAM_COUNT = 132000
ERR_TEMPLATE_MISSING = 132001

# --- Client (appended by the client/retry helper) --------------------------
# Largest media download we accept: Meta's own ceiling is 100 MB (documents).
MEDIA_DOWNLOAD_MAX_BYTES = 100 * 1024 * 1024
# Longest excerpt of a non-JSON error body (an HTML 502 page) kept in an error.
ERROR_EXCERPT_CHARS = 300
# Safety stop when following template list pages, so a looping `paging.next`
# cannot keep a worker busy forever.
MAX_PAGES = 200

# --- Outbound payloads (builders.py) -----------------------------------------
# E.164 numbers have at most 15 digits; a wa_id is one without the "+".
WA_ID_MAX_DIGITS = 15
# Echoed back in status webhooks; Meta raised it from 256 to 512 characters.
BIZ_OPAQUE_CALLBACK_DATA_MAX = 512
# Captions are only rendered for these media kinds.
MEDIA_CAPTION_TYPES = ("image", "video", "document")

# --- Template definitions (templates.py) ------------------------------------
TEMPLATE_NAME_MAX = 512
TEMPLATE_HEADER_FORMATS = ("TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION")
TEMPLATE_HEADER_VARIABLES_MAX = 1
TEMPLATE_PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
TEMPLATE_BUTTONS_MAX = 10
TEMPLATE_URL_BUTTONS_MAX = 2
TEMPLATE_PHONE_BUTTONS_MAX = 1
TEMPLATE_COPY_CODE_BUTTONS_MAX = 1
TEMPLATE_BUTTON_TEXT_MAX = 25
TEMPLATE_BUTTON_URL_MAX = 2000
TEMPLATE_BUTTON_PHONE_MAX = 20
# Send-time parameter limits. A body parameter may be up to 32768
# characters when the template has nothing but a body, 1024 otherwise.
TEMPLATE_BODY_PARAM_MAX = 1024
TEMPLATE_BODY_ONLY_PARAM_MAX = 32768
TEMPLATE_COUPON_CODE_MAX = 15
# Meta rejects a text parameter with a newline, a tab or more than this many
# consecutive spaces (error 132018).
TEMPLATE_PARAM_MAX_SPACES = 4
ERR_TEMPLATE_PARAM_FORMAT = 132018

# --- Webhook parsing (events.py) --------------------------------------------
FIELD_TEMPLATE_QUALITY = "message_template_quality_update"
FIELD_TEMPLATE_CATEGORY = "template_category_update"

# The kinds of chat record we keep, whatever Meta called the message.
RECORD_TYPES = (
    "text", "image", "document", "audio", "video", "sticker", "location",
    "contact", "template", "interactive", "reaction", "unknown",
)
# Meta's inbound message type -> our record type; anything else is "unknown".
INBOUND_RECORD_TYPE = {
    "text": "text",
    "image": "image",
    "document": "document",
    "audio": "audio",
    "video": "video",
    "sticker": "sticker",
    "location": "location",
    "contacts": "contact",
    "interactive": "interactive",
    "button": "interactive",
    "reaction": "reaction",
}

# Template events -> our template status. None: the event says nothing about
# whether the template can be sent (LOCKED only blocks edits, LIMIT_EXCEEDED
# is about the account), so the stored status stays as it is.
TEMPLATE_EVENT_STATUS = {
    "APPROVED": "approved",
    "REJECTED": "rejected",
    "PENDING": "pending",
    "IN_APPEAL": "pending",
    "PAUSED": "paused",
    "DISABLED": "disabled",
    # Still sendable: negative feedback only puts it at risk.
    "FLAGGED": "approved",
    "REINSTATED": "approved",
    "UNARCHIVED": "approved",
    # Gone or on its way out: it can no longer be sent.
    "PENDING_DELETION": "disabled",
    "DELETED": "disabled",
    "ARCHIVED": "disabled",
    "LOCKED": None,
    "LIMIT_EXCEEDED": None,
}

# Statuses a "failed" may overwrite. Meta can report failed after sent or
# delivered; once the customer has read or played the message a failure is
# nonsense, and a failed message stays failed.
STATUS_FAILED_OVERWRITES = ("pending", "sent", "delivered")

# --- Pacing (appended by the throttle helper) --------------------------------
# Sends to one customer that may go at once before the pair rate applies.
# Third-party write-ups of Meta's docs say bursts of up to 45 in 6 s are
# tolerated and paid back later (unverified); we stay well below.
PAIR_BURST = 5

# --- Webhook input bounds (the webhook task) ----------------------------------
# What a webhook may carry before we trust it to reach an indexed column: a
# value outside these bounds is not Meta's, and storing it would fail (btree
# rows hold about 2,700 bytes) or leak garbage into lookups.
# Meta refuses webhook subscriptions for bodies this large; ours are kB.
WEBHOOK_BODY_MAX_BYTES = 3 * 1024 * 1024
# Graph object ids (phone number, WABA, media and template ids) are decimal
# strings of 64-bit numbers: at most 20 digits.
GRAPH_ID_MAX_DIGITS = 20
# A wamid is "wamid." and base64 of a few dozen bytes (about 60 characters
# today); Meta documents no maximum, so leave room and refuse absurd ones.
WAMID_MAX = 256
# Business-scoped user ids: a two-letter country code, a period, an optional
# "ENT." and up to 128 alphanumeric characters (Meta's BSUID format).
USER_ID_MAX = 2 + 1 + 4 + 128
# Display values are cut, never refused: WhatsApp names are 25 characters in
# the app, usernames 35; the rest of a longer one is noise.
PROFILE_NAME_MAX = 256
MIME_TYPE_MAX = 255
MEDIA_FILENAME_MAX = 255
# Change field names are short snake_case words ("messages", ...).
FIELD_NAME_MAX = 64
# Routing reads at most this many distinct ids and event kinds of a body.
ROUTING_IDS_MAX = 100
ROUTING_EVENT_TYPES_MAX = 10
# Nesting kept in a message's metadata (Meta's objects are 4-5 levels deep).
METADATA_DEPTH_MAX = 32
# Meta's error codes fit PostgreSQL's integer column.
ERROR_CODE_MAX = 2**31 - 1
# --- Outbound queue (appended by the queue task) -----------------------------
ERR_ACCESS_DENIED = 131005
ERR_REQUIRED_PARAMETER = 131008
ERR_ACCOUNT_LOCKED = 131031
ERR_TEMPLATE_PARAM_MISMATCH = 132012
ERR_TEMPLATE_PAUSED = 132015
ERR_TEMPLATE_DISABLED = 132016
ERR_TEMPLATE_FORMAT = 132007
ERR_TEMPLATE_TEXT_TOO_LONG = 132005
# Why a send failed for good, in words a person can act on (errors.failure_type).
FAILURE_TYPES = ("window_closed", "undeliverable", "template", "invalid_parameter",
                 "token", "media_too_large", "unknown")
# A queue item found "processing" this long after its attempt began belongs
# to a worker that died: it is tried again. Longer than any HTTP call can
# take (DEFAULT_TIMEOUT per read, plus a media upload).
QUEUE_LEASE_SECONDS = 300
# Uploaded media lives 30 days at Meta; reuse an id only with a day to spare.
MEDIA_UPLOAD_TTL_SECONDS = 30 * 24 * 3600
MEDIA_REUSE_MARGIN_SECONDS = 24 * 3600
