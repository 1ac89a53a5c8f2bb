"""Small readers of webhook values that never raise on odd input.

Every string they return can be stored (no NUL, no lone surrogate); the id
readers raise _Unstorable for an id Meta would never send, so the caller
can fail that one item and keep the others.
"""

import datetime
import math
import re

from .. import constants as C

_UTC = datetime.timezone.utc
_fromtimestamp = datetime.datetime.fromtimestamp


class _Malformed(Exception):
    """A message Meta sent in a shape we cannot read."""


class _Unstorable(_Malformed):
    """A value Meta would never send (an id too long, a number that is not digits)."""


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
    if _is_clean(text):
        return text
    return _UNSTORABLE.sub("\ufffd", text)


def _is_clean(text):
    # C-speed tests that spare most texts the regex pass (which costs several
    # times as much): ASCII without NUL (ids, types), else printable text
    # (NUL and surrogates are not printable: accents and emoji are).
    return (text.isascii() and "\x00" not in text) or text.isprintable()


def _str(value, limit=None):
    """A non-empty storable string, or None for missing, empty and non-scalar values.

    With ``limit``, a display value is cut to that many characters.
    """
    if type(value) is str:  # nearly always: the checks below are for the odd value
        if (limit is None or len(value) <= limit) and (
                (value.isascii() and "\x00" not in value) or value.isprintable()):
            return value or None  # _is_clean's tests, without the calls
        text = value
    elif value is None or isinstance(value, (dict, list, bool)):
        return None
    else:
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


# The readers below accept the usual id first, with str methods that say the
# same as _DIGITS and _TOKEN for ASCII text (isdigit: [0-9]+; isprintable and
# no space: [\x21-\x7e]+) at half a regex's cost; anything else goes through
# _id, which decides and says why.

def _graph_id(value, what="id"):
    if (type(value) is str and len(value) <= C.GRAPH_ID_MAX_DIGITS and value.isascii()
            and value.isdigit()):
        return value
    return _id(value, what, C.GRAPH_ID_MAX_DIGITS, digits=True)


def _wamid(value, what="message id"):
    if (type(value) is str and 0 < len(value) <= C.WAMID_MAX and value.isascii()
            and value.isprintable() and " " not in value):
        return value
    return _id(value, what, C.WAMID_MAX)


def _wa_id(value, what="wa_id"):
    if (type(value) is str and len(value) <= C.WA_ID_MAX_DIGITS and value.isascii()
            and value.isdigit()):
        return value
    return _id(value, what, C.WA_ID_MAX_DIGITS, digits=True)


def _user_id(value, what="user_id"):
    if (type(value) is str and 0 < len(value) <= C.USER_ID_MAX and value.isascii()
            and value.isprintable() and " " not in value):
        return value
    return _id(value, what, C.USER_ID_MAX)


def _lenient(reader, value, *args):
    """reader(value), or None where it would raise: for ids that only help."""
    try:
        return reader(value, *args)
    except _Unstorable:
        return None


class _Problems(list):
    """The reasons an item cannot be stored, collected while it is read."""

    def take(self, reader, value, *args):
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
    if type(value) is str:  # as _int reads it: int() of the string
        try:
            return _fromtimestamp(int(value), _UTC)
        except (ValueError, OverflowError, OSError):
            return None
    seconds = _int(value)
    if seconds is None:
        return None
    try:
        return _fromtimestamp(seconds, _UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _storable(value, depth=0):
    """A copy of JSON data that a JSON column accepts: clean strings, finite numbers.

    Raise _Malformed past C.METADATA_DEPTH_MAX levels.
    """
    if depth > C.METADATA_DEPTH_MAX:
        raise _Malformed("the message nests more than %d levels" % C.METADATA_DEPTH_MAX)
    kind = type(value)
    # The containers json.loads makes, their strings and constants read in
    # the loop instead of a call each: a contact card is two dozen values.
    if kind is dict or kind is list:
        if value and depth == C.METADATA_DEPTH_MAX:
            raise _Malformed("the message nests more than %d levels" % C.METADATA_DEPTH_MAX)
        depth += 1
        pairs = value.items() if kind is dict else enumerate(value)
        copy = {} if kind is dict else [None] * len(value)
        for key, item in pairs:
            if kind is dict:
                key = clean_text(key if type(key) is str else str(key))
            if type(item) is str:
                copy[key] = item if _is_clean(item) else _UNSTORABLE.sub("\ufffd", item)
            elif item is None or item is True or item is False:
                copy[key] = item
            else:
                copy[key] = _storable(item, depth)
        return copy
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


def _plain_storable(data, depth):
    """_storable(_plain(data), depth), in one pass: a contact card's parts, a referred product."""
    if not isinstance(data, dict):
        return {}
    if data and depth >= C.METADATA_DEPTH_MAX:
        return _storable(_plain(data), depth)  # let _storable say it is too deep
    copy = {}
    for key, item in data.items():
        if item is None or item == "" or item == [] or item == {}:
            continue
        key = clean_text(key if type(key) is str else str(key))
        if type(item) is str:
            copy[key] = item if _is_clean(item) else _UNSTORABLE.sub("\ufffd", item)
        elif item is True or item is False:
            copy[key] = item
        else:
            copy[key] = _storable(item, depth + 1)
    return copy
