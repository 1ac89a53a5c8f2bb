"""Phone numbers: from what people type to E.164, wa_id and a matching key.

Three forms of one number exist side by side:

* E.164 (``+5491155556666``): what we store, from :func:`normalize`.
* wa_id (``5491155556666``): the digits Meta puts in webhooks; keep the exact
  value Meta gave, :func:`to_wa_id` only builds one for sending.
* the canonical key (``541155556666``): what two records are matched on.

Argentina and Mexico write one mobile in two ways. Argentine mobiles carry a
``9`` after ``54`` in international form (``+54 9 11 …``) and ``15`` after the
area code in national dialing (``011 15 …``), and people often type neither.
Old Mexican mobiles carry a ``1`` after ``52``, which Meta's wa_ids still
use and ``phonenumbers`` calls invalid. The canonical key drops the ``9`` and
the ``1``, so every form of one customer maps to one key.

By design an Argentine landline and the mobile with the same digits share a
key (``+54 11 5555-6666`` and ``+54 9 11 5555-6666``): the area code and
subscriber number are the same digits, and WhatsApp only exists on mobiles,
so a landline-looking number in a customer record is in practice that
customer's mobile typed without the ``9``/``15``.
"""

import re

import phonenumbers

from .errors import CloudError


class PhoneError(CloudError, ValueError):
    """A phone number or wa_id that cannot be understood."""


AR_CODE = "54"
AR_MOBILE = "549"
MX_CODE = "52"
MX_MOBILE = "521"
# Argentine national significant numbers are 10 digits: area code (2 to 4
# digits) + subscriber. Area codes are prefix-free, so at most one split of a
# number typed with "15" yields a real area code.
_AR_NSN_LEN = 10
_AR_AREA_LENGTHS = (2, 3, 4)
_MX_NSN_LEN = 10

# What may precede a number pasted from a link: tel:, whatsapp:, wa.me/ and
# api.whatsapp.com/send?phone=.
_LINK_PREFIX = re.compile(
    r"^(?:tel:|whatsapp:|(?:https?://)?(?:api\.)?wa\.me/"
    r"|(?:https?://)?api\.whatsapp\.com/send/?\?(?:.*&)?phone=)",
    re.IGNORECASE,
)
# Separators people type between digit groups.
_ALLOWED = re.compile(r"^\+?[\d\s\-./()]+$")
_PURE_DIGITS = re.compile(r"^\+?[0-9]+$")
_WA_ID = re.compile(r"^[1-9][0-9]{6,14}$")


def normalize(raw, region="AR"):
    """Return the E.164 form (``+5491155556666``) of a number as people type it.

    ``region`` is where national numbers (no ``+``/international prefix) are
    dialled; ``None`` accepts international numbers only. Digits typed
    without ``+`` that are not a valid national number are tried as an
    international number, as in a wa.me link. Raises PhoneError when the
    number is empty, contains letters or is not a valid number.
    """
    text = _clean(raw)
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise PhoneError("unknown phone region %r (expected a code like 'AR')" % (region,))
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise PhoneError("phone number %r has no digits" % (text,))

    tries = []
    if text.startswith("+") or region is not None:
        tries.append((text, region))
    # Digits typed without "+" fall back to international only when they
    # carry no separators, as copied from a link or a wa_id: a mistyped
    # national number "351 555 666" must fail, not become a Portuguese one.
    if re.fullmatch(r"[1-9][0-9]*", text):
        tries.append(("+" + digits, None))
    for candidate, reg in tries:
        number = _parse(candidate, reg)
        if number is not None:
            fixed = _valid_or_fixed(number)
            if fixed is not None:
                return fixed
    raise PhoneError(_invalid_message(text, region, digits))


def to_wa_id(e164):
    """Return the digits WhatsApp uses for this number, without ``+``.

    Argentine numbers get the mobile ``9`` (``+541155556666`` →
    ``5491155556666``): WhatsApp only exists on mobiles. Other numbers are
    their E.164 digits. When Meta has given a wa_id for a contact, keep and
    use that one; this is for numbers that never wrote to us.
    """
    digits = _international_digits(e164)
    if digits.startswith(AR_CODE) and not digits.startswith(AR_MOBILE) \
            and len(digits) == len(AR_CODE) + _AR_NSN_LEN:
        return AR_MOBILE + digits[len(AR_CODE):]
    return digits


def canonical_key(number_or_wa_id):
    """Return the matching key: digits, without the AR ``9`` or the MX ``1``.

    Accepts a wa_id or an E.164 number (pure digits, with or without ``+``),
    or an international number with separators (``+54 9 11 5555-6666``).
    National forms (``011 15 …``) raise PhoneError: :func:`normalize` them
    with their region first.
    """
    return _key_of_digits(_international_digits(number_or_wa_id))


def e164_from_wa_id(wa_id):
    """The E.164 form of a wa_id Meta sent, to store beside the exact wa_id."""
    digits = str(wa_id or "").strip().lstrip("+")
    if not _PURE_DIGITS.match(digits):
        raise PhoneError("wa_id %.20r is not a string of digits" % wa_id)
    try:
        return normalize("+" + digits)
    except PhoneError:
        return "+" + digits  # Meta knows the number; keep it even if we cannot check it


def contact_key(number=None, user_id=None, region="AR"):
    """The key a customer is found by, whatever form their number was typed in.

    The number is read as people type it first (``011 15 …``, a bare national
    ``11 5555-6666``, a wa_id) for ``region``, so a national number never
    passes for an international one; the canonical key of the raw digits is
    the fallback for ids Meta sends that no region reads. Without a readable
    number, Meta's business-scoped user id (customers known only by a
    username) is the key; else None.
    """
    if number:
        for read in (lambda value: canonical_key(normalize(value, region)), canonical_key):
            try:
                return read(number)
            except PhoneError:
                continue
    return user_id or None


def contact_key_of(numbers, user_id=None, region="AR"):
    """The contact key of a record holding several numbers (say wa_id,
    WhatsApp number, mobile, phone, in that order of trust): the first one
    that reads, else Meta's user id, else None."""
    for number in numbers:
        key = contact_key(number, region=region) if number else None
        if key:
            return key
    return user_id or None


def same_customer(a, b):
    """True when a and b are forms of one customer's number."""
    try:
        return canonical_key(a) == canonical_key(b)
    except PhoneError:
        return False


def candidates(wa_id):
    """Return the E.164 forms a stored number of this customer may have.

    For ``5491155556666``: ``["+5491155556666", "+541155556666"]`` (the given
    form first), so a search on stored E.164 numbers finds the customer
    whichever way the number was typed.
    """
    digits = _international_digits(wa_id)
    key = _key_of_digits(digits)
    forms = ["+" + digits]
    for code, mobile, nsn_len in ((AR_CODE, AR_MOBILE, _AR_NSN_LEN),
                                  (MX_CODE, MX_MOBILE, _MX_NSN_LEN)):
        if key.startswith(code) and len(key) == len(code) + nsn_len:
            rest = key[len(code):]
            forms += ["+" + mobile + rest, "+" + code + rest]
    return list(dict.fromkeys(forms))


def is_valid_wa_id(value):
    """True when value looks like a wa_id: 7 to 15 digits with a known country code.

    A shape check only: Meta's wa_ids are not always numbers ``phonenumbers``
    calls valid (old Mexican ``521…``). Business-scoped user ids
    (``AR.123…``) are not wa_ids.
    """
    if not isinstance(value, str) or not _WA_ID.match(value):
        return False
    try:
        number = phonenumbers.parse("+" + value, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_country_code(number.country_code) != "ZZ"


# --- internals -------------------------------------------------------------

def _clean(raw):
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise PhoneError("a phone number must be text, not %s" % type(raw).__name__)
    text = str(raw).strip()
    if not text:
        raise PhoneError("empty phone number")
    match = _LINK_PREFIX.match(text)
    if match:
        # A link may go on with "?text=…" or "&…" after the number.
        text = re.split(r"[?&#]", text[match.end():], maxsplit=1)[0].strip()
    if "+" in text[1:]:
        raise PhoneError("phone number %r has a '+' that is not at the start" % (text,))
    if not _ALLOWED.match(text):
        if re.search(r"[^\W\d_]", text):
            raise PhoneError("phone number %r contains letters" % (text,))
        raise PhoneError("phone number %r contains characters other than digits, "
                         "spaces, '+', '-', '.', '/' and parentheses" % (text,))
    return text


def _parse(text, region):
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number):
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _valid_e164(e164):
    number = _parse(e164, None)
    return number is not None and phonenumbers.is_valid_number(number)


def _valid_or_fixed(number):
    """E.164 of a valid number, after the AR/MX repairs; None if invalid."""
    if phonenumbers.is_valid_number(number):
        return _e164(number)
    # national_number, not national_significant_number: a kept trunk "0"
    # (as in "044 55…") would hide the digits we repair.
    nsn = str(number.national_number)
    code = str(number.country_code)
    if code == AR_CODE:
        return _fix_argentina(nsn)
    if code == MX_CODE:
        return _fix_mexico(nsn)
    return None


def _fix_argentina(nsn):
    """Repair what phonenumbers misses: ``15`` after a 4-digit area code,
    and ``9`` and ``15`` typed together (``+54 9 11 15 5555-6666``)."""
    if nsn.startswith("9") and len(nsn) == 1 + 2 + _AR_NSN_LEN:
        nsn = nsn[1:]
    if len(nsn) != 2 + _AR_NSN_LEN:
        return None
    for area_len in _AR_AREA_LENGTHS:
        if nsn[area_len:area_len + 2] == "15":
            e164 = "+" + AR_MOBILE + nsn[:area_len] + nsn[area_len + 2:]
            if _valid_e164(e164):
                return e164
    return None


def _fix_mexico(nsn):
    """Drop the old mobile ``1`` (``+52 1 55…``) or ``044``/``045`` (national)."""
    if len(nsn) == 1 + _MX_NSN_LEN and nsn.startswith("1"):
        e164 = "+" + MX_CODE + nsn[1:]
    elif len(nsn) == 2 + _MX_NSN_LEN and nsn[:2] in ("44", "45"):
        e164 = "+" + MX_CODE + nsn[2:]
    else:
        return None
    return e164 if _valid_e164(e164) else None


def _invalid_message(text, region, digits):
    where = ("an international number" if region is None
             else "a number from %s or an international number" % region)
    message = "%r is not a valid phone number (expected %s" % (text, where)
    if region is None:
        message += " starting with '+'"
    message += ")"
    if region == "AR" and digits.startswith("15") and len(digits) == 2 + 8:
        message += "; a mobile typed with 15 needs its area code first, like 11 15 5555-6666"
    return message


def _international_digits(value):
    """Digits of an international number or wa_id, with no trunk prefix."""
    text = _clean(value)
    if _PURE_DIGITS.match(text):
        digits = text.lstrip("+")
        if digits.startswith("0"):
            raise PhoneError("%r is not an international number; normalize() it with "
                             "its region first" % (text,))
        return digits
    if not text.startswith("+"):
        raise PhoneError("%r is not an international number; normalize() it with "
                         "its region first" % (text,))
    return normalize(text, region=None)[1:]


def _key_of_digits(digits):
    if digits.startswith(AR_MOBILE) and len(digits) == len(AR_MOBILE) + _AR_NSN_LEN:
        return AR_CODE + digits[len(AR_MOBILE):]
    if digits.startswith(MX_MOBILE) and len(digits) == len(MX_MOBILE) + _MX_NSN_LEN:
        return MX_CODE + digits[len(MX_MOBILE):]
    return digits
