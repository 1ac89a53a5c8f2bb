"""Values of template variables beyond plain text, and how a mapping of them is read."""

from dataclasses import dataclass
from decimal import Decimal

from ..errors import PayloadError

@dataclass(frozen=True)
class Currency:
    """A currency parameter; amount_1000 is the amount times 1000 (an int)."""
    fallback_value: str
    code: str
    amount_1000: int


@dataclass(frozen=True)
class DateTime:
    """A date_time parameter; WhatsApp shows fallback_value as is."""
    fallback_value: str


@dataclass(frozen=True)
class Media:
    """The image, video or document of a media header."""
    kind: str
    id: str = None
    link: str = None
    filename: str = None


@dataclass(frozen=True)
class Location:
    """The place of a location header."""
    latitude: float
    longitude: float
    name: str = None
    address: str = None


def clean_param(text):
    """Return text as a valid text parameter: newlines, tabs and runs of
    spaces become one space (Meta refuses them with error 132018)."""
    return " ".join(str(text).split())


def _text_value(value):
    """The text of a plain value, or None when it is not a plain value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return None


def _normalise(values):
    if values is None:
        return {}, []
    if not hasattr(values, "items"):
        raise PayloadError("template values must be a mapping of variable key to value")
    out, problems = {}, []
    for key, value in values.items():
        skey = str(key)
        if skey in out:
            problems.append("value for %s given twice" % skey)
        out[skey] = value
    return out, problems
