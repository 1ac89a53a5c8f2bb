import pytest

from campotech_whatsapp.cloud import phone
from campotech_whatsapp.cloud.errors import CloudError
from campotech_whatsapp.cloud.phone import (
    PhoneError, candidates, canonical_key, is_valid_wa_id, normalize, same_customer, to_wa_id,
)

BA_MOBILE = "+5491155556666"
BA_LANDLINE_FORM = "+541155556666"


@pytest.mark.parametrize("typed", [
    "+54 9 11 5555-6666",
    "+5491155556666",
    "011 15 5555-6666",
    "011 15 5555 6666",
    "(011) 15-5555-6666",
    "0 11 15 5555 6666",
    "11 15 5555-6666",
    "5491155556666",
    "54 9 11 5555 6666",
    "+54 11 15 5555-6666",
    "+54 9 11 15 5555-6666",
    "00 54 9 11 5555 6666",
    "https://wa.me/5491155556666",
    "wa.me/5491155556666?text=Hola",
    "https://api.whatsapp.com/send?phone=5491155556666&text=x",
    "whatsapp:+5491155556666",
    "tel:+54-9-11-5555-6666",
    "  +54 9 11 5555.6666  ",
])
def test_buenos_aires_mobile_forms_normalize_to_one_e164(typed):
    assert normalize(typed) == BA_MOBILE


@pytest.mark.parametrize("typed", ["11 5555-6666", "1155556666", "54 11 5555 6666",
                                   "+54 11 5555 6666", "011 5555-6666"])
def test_number_typed_without_9_or_15_stays_in_landline_form(typed):
    assert normalize(typed) == BA_LANDLINE_FORM


def test_wa_id_given_as_an_integer_is_accepted():
    assert normalize(5491155556666) == BA_MOBILE


@pytest.mark.parametrize("typed, expected", [
    ("0351 15 555-6666", "+5493515556666"),  # Córdoba
    ("351 15 5556666", "+5493515556666"),
    ("+54 9 351 555 6666", "+5493515556666"),
    ("+54 351 555 6666", "+543515556666"),
    ("0341 15 555 6666", "+5493415556666"),  # Rosario
    ("+54 9 341 555-6666", "+5493415556666"),
    ("0221 15 555 6666", "+5492215556666"),  # La Plata
    ("02944 15 55-6666", "+5492944556666"),  # Bariloche: 4-digit area code
    ("2944 15 556666", "+5492944556666"),
    ("+54 9 2944 55 6666", "+5492944556666"),
    ("02944 55-6666", "+542944556666"),
    ("02966 15 55 6666", "+5492966556666"),  # Río Gallegos
])
def test_other_argentine_area_codes(typed, expected):
    assert normalize(typed) == expected


def test_bariloche_15_form_is_repaired_where_phonenumbers_alone_fails():
    # phonenumbers leaves "15" inside 4-digit-area numbers and calls them
    # invalid; this is the case our own AR rule exists for.
    import phonenumbers
    raw = phonenumbers.parse("02944 15 55-6666", "AR")
    assert not phonenumbers.is_valid_number(raw)
    assert normalize("02944 15 55-6666") == "+5492944556666"


@pytest.mark.parametrize("typed, region", [
    ("+52 1 55 1234 5678", "AR"),
    ("+5215512345678", None),
    ("5215512345678", "AR"),
    ("+52 55 1234 5678", None),
    ("55 1234 5678", "MX"),
    ("044 55 1234 5678", "MX"),
    ("045 55 1234 5678", "MX"),
])
def test_mexican_mobile_forms_drop_the_old_1(typed, region):
    assert normalize(typed, region) == "+525512345678"


@pytest.mark.parametrize("typed, region, expected", [
    ("+34 612 34 56 78", "AR", "+34612345678"),
    ("612 34 56 78", "ES", "+34612345678"),
    ("34612345678", "AR", "+34612345678"),  # wa.me digits of a Spanish number
    ("(650) 253-0000", "US", "+16502530000"),
    ("+1 650 253 0000", None, "+16502530000"),
    ("011 54 9 11 5555 6666", "US", BA_MOBILE),  # dialled from the US
])
def test_other_countries_use_their_region(typed, region, expected):
    assert normalize(typed, region) == expected


@pytest.mark.parametrize("bad, fragment", [
    ("", "empty"),
    ("   ", "empty"),
    (None, "must be text"),
    (True, "must be text"),
    (3.5, "must be text"),
    ("abc", "letters"),
    ("1-800-FLOWERS", "letters"),
    ("+54 11 5555-6666 int 12", "letters"),
    ("+54 9 11 5555#6666", "characters other than digits"),
    ("54+91155556666", "'+'"),
    ("---", "no digits"),
    ("15 5555-6666", "area code"),  # a mobile without its area code
    ("+54 9 11 5555-66", "not a valid phone number"),
    ("549 11 5555 666", "not a valid phone number"),
    ("011 15 5555-6666 0000", "not a valid phone number"),
    ("+999 1234 5678", "not a valid phone number"),
])
def test_invalid_input_raises_phone_error_with_a_reason(bad, fragment):
    with pytest.raises(PhoneError) as info:
        normalize(bad)
    assert fragment in str(info.value)


def test_national_number_without_region_is_rejected():
    with pytest.raises(PhoneError, match="international"):
        normalize("011 15 5555-6666", region=None)


def test_unknown_region_is_rejected():
    with pytest.raises(PhoneError, match="unknown phone region"):
        normalize("11 5555-6666", region="XX")


def test_mistyped_national_number_with_separators_is_not_read_as_foreign():
    # "351 555 666" is a short Córdoba number, not +351 (Portugal).
    with pytest.raises(PhoneError):
        normalize("351 555 666")


def test_phone_error_is_a_cloud_error_and_a_value_error():
    with pytest.raises(CloudError):
        normalize("nope")
    with pytest.raises(ValueError):
        normalize("nope")


@pytest.mark.parametrize("e164, wa_id", [
    (BA_MOBILE, "5491155556666"),
    (BA_LANDLINE_FORM, "5491155556666"),
    ("+543515556666", "5493515556666"),
    ("+5492944556666", "5492944556666"),
    ("+525512345678", "525512345678"),
    ("+34612345678", "34612345678"),
    ("5491155556666", "5491155556666"),
])
def test_to_wa_id_gives_digits_with_the_argentine_mobile_9(e164, wa_id):
    assert to_wa_id(e164) == wa_id


def test_to_wa_id_rejects_national_forms():
    with pytest.raises(PhoneError):
        to_wa_id("011 15 5555-6666")


@pytest.mark.parametrize("form", [
    "5491155556666", "541155556666", "+5491155556666", "+541155556666",
    "+54 9 11 5555-6666", "+54 11 5555-6666", "+54 11 15 5555-6666",
    normalize("011 15 5555-6666"), normalize("11 5555-6666"),
])
def test_every_form_of_one_argentine_customer_has_one_key(form):
    assert canonical_key(form) == "541155556666"


@pytest.mark.parametrize("form", ["5215512345678", "525512345678", "+52 1 55 1234 5678",
                                  "+525512345678"])
def test_every_form_of_one_mexican_customer_has_one_key(form):
    assert canonical_key(form) == "525512345678"


def test_other_countries_key_is_their_digits():
    assert canonical_key("+34612345678") == "34612345678"
    assert canonical_key("16502530000") == "16502530000"


def test_different_customers_have_different_keys():
    assert canonical_key("5491155556666") != canonical_key("5491155556667")
    assert canonical_key("5493515556666") != canonical_key("5491155556666")


def test_key_does_not_strip_a_9_that_belongs_to_the_number():
    # 549 + 9 digits is not the AR mobile shape: nothing to drop.
    assert canonical_key("549115555666") == "549115555666"


@pytest.mark.parametrize("bad", ["011 15 5555-6666", "01155556666", "", "AR.1234567", None])
def test_canonical_key_rejects_national_and_non_numbers(bad):
    with pytest.raises(PhoneError):
        canonical_key(bad)


def test_same_customer_across_forms():
    assert same_customer("5491155556666", "+54 11 5555-6666")
    assert same_customer("5215512345678", "+525512345678")
    assert not same_customer("5491155556666", "5491155556667")


def test_same_customer_is_false_rather_than_raising_on_garbage():
    assert not same_customer("5491155556666", "not a number")
    assert not same_customer(None, None)


def test_landline_and_mobile_with_same_digits_are_one_customer_by_design():
    assert same_customer("+541155556666", "+5491155556666")


def test_candidates_for_argentine_wa_id_list_both_e164_forms_given_one_first():
    assert candidates("5491155556666") == ["+5491155556666", "+541155556666"]
    assert candidates("541155556666") == ["+541155556666", "+5491155556666"]
    assert candidates("+5491155556666") == ["+5491155556666", "+541155556666"]


def test_candidates_for_mexican_wa_id():
    assert candidates("5215512345678") == ["+5215512345678", "+525512345678"]


def test_candidates_for_other_countries_is_the_number_itself():
    assert candidates("34612345678") == ["+34612345678"]


def test_every_candidate_has_the_same_key():
    for wa_id in ("5491155556666", "5215512345678", "34612345678"):
        assert {canonical_key(c) for c in candidates(wa_id)} == {canonical_key(wa_id)}


@pytest.mark.parametrize("value", ["5491155556666", "541155556666", "5215512345678",
                                   "34612345678", "16502530000"])
def test_valid_wa_ids(value):
    assert is_valid_wa_id(value)


@pytest.mark.parametrize("value", ["", "+5491155556666", "0111555556666", "549 11 5555 6666",
                                   "AR.12345678", "123", "1234567890123456", "9991234567",
                                   None, 5491155556666])
def test_invalid_wa_ids(value):
    assert not is_valid_wa_id(value)



@pytest.mark.parametrize("typed", [
    "5491155556666", "+54 9 11 5555-6666", "011 15 5555-6666", "11 5555-6666", "541155556666",
    "1155556666",
])
def test_contact_key_finds_one_argentine_customer_in_every_form(typed):
    assert phone.contact_key(typed) == "541155556666"


def test_contact_key_falls_back_to_the_business_scoped_user_id():
    assert phone.contact_key(None, "AR.13491208655302741918") == "AR.13491208655302741918"
    assert phone.contact_key("not a number", "AR.1") == "AR.1"
    assert phone.contact_key(None, None) is None


def test_e164_from_wa_id_keeps_the_argentine_mobile_nine():
    assert phone.e164_from_wa_id("5491155556666") == "+5491155556666"
    assert phone.e164_from_wa_id("5215512345678").startswith("+52")
    with pytest.raises(phone.PhoneError):
        phone.e164_from_wa_id("AR.123")


def test_contact_key_reads_a_bare_national_number_in_its_region():
    assert phone.contact_key("5512345678", region="MX") == phone.contact_key("5215512345678")
    assert phone.contact_key("3515550000") == phone.contact_key("5493515550000")


def test_contact_key_of_takes_the_first_number_that_reads():
    assert phone.contact_key_of([None, "no number", "011 15 5555-6666", "+52 55 1234 5678"]) \
        == "541155556666"
    assert phone.contact_key_of(["", None], "AR.1") == "AR.1"
    assert phone.contact_key_of([]) is None
