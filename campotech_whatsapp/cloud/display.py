"""How values are shown to a person: phone numbers grouped as they are
written in the customer's country, and map links for locations."""

from urllib.parse import urlencode

import phonenumbers


def format_phone(e164):
    """``+5491155550101`` as ``+54 9 11 5555-0101``; anything unparsable unchanged."""
    if not e164:
        return e164 or ""
    try:
        number = phonenumbers.parse(e164 if e164.startswith("+") else "+" + e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_possible_number(number):
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def map_url(latitude, longitude):
    """A link that opens the point on a map, on a phone or a laptop."""
    if latitude is None or longitude is None:
        return None
    return "https://www.openstreetmap.org/?" + urlencode(
        {"mlat": latitude, "mlon": longitude}) + "#map=17/%s/%s" % (latitude, longitude)
