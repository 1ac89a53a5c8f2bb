import copy

import pytest

from campotech_whatsapp.cloud import builders
from campotech_whatsapp.cloud.errors import PayloadError
from campotech_whatsapp.cloud.templates import (
    Currency, DateTime, Location, Media, Template, Variable, build_components, clean_param,
    placeholders, render, validate_definition)

# As GET /{waba-id}/message_templates returns them.
TURNO = {
    "name": "turno_recordatorio",
    "language": "es_AR",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "id": "1234567890",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Turno {{1}}",
         "example": {"header_text": ["confirmado"]}},
        {"type": "BODY", "text": "Hola {{1}}, tu turno es el {{2}} a las {{3}}.",
         "example": {"body_text": [["Ana", "lunes 3", "9:00"]]}},
        {"type": "FOOTER", "text": "CampoTech"},
        {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Ver turno", "url": "https://campo.test/t/{{1}}",
             "example": ["https://campo.test/t/abc"]},
            {"type": "PHONE_NUMBER", "text": "Llamar", "phone_number": "+541143210000"},
            {"type": "QUICK_REPLY", "text": "Cancelar"},
        ]},
    ],
}

FACTURA_NAMED = {
    "name": "factura_emitida",
    "language": "es_AR",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "NAMED",
    "components": [
        {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::aW"]}},
        {"type": "BODY",
         "text": "Hola {{customer_name}}, tu factura por {{total}} vence el {{due_date}}.",
         "example": {"body_text_named_params": [
             {"param_name": "customer_name", "example": "Ana"},
             {"param_name": "total", "example": "$ 1.500"},
             {"param_name": "due_date", "example": "10/12"}]}},
    ],
}


def definition(**changes):
    """A copy of TURNO with top-level keys or components replaced."""
    d = copy.deepcopy(TURNO)
    d.update(changes)
    return d


def component(d, type_):
    return next(c for c in d["components"] if c["type"] == type_)


TURNO_VALUES = {"header.1": "confirmado", "1": "Ana", "2": "lunes 3", "3": "9:00",
                "button.0": "abc123"}


# --- parsing ---------------------------------------------------------------------

def test_from_definition_reads_metadata_in_lower_case():
    tpl = Template.from_definition(TURNO)
    assert (tpl.name, tpl.language, tpl.status, tpl.category, tpl.parameter_format,
            tpl.header_format, tpl.id) == (
        "turno_recordatorio", "es_AR", "approved", "utility", "POSITIONAL", "text", "1234567890")


def test_variables_of_positional_template_in_send_order():
    assert Template.from_definition(TURNO).variables() == [
        Variable("header", None, "1", "text", "header.1"),
        Variable("body", None, "1", "text", "1"),
        Variable("body", None, "2", "text", "2"),
        Variable("body", None, "3", "text", "3"),
        Variable("button", 0, "1", "text", "button.0"),
    ]


def test_body_variables_are_ordered_by_number_not_by_appearance():
    d = definition()
    component(d, "BODY")["text"] = "El {{2}} a las {{3}}, {{1}}."
    assert [v.name for v in Template.from_definition(d).variables()
            if v.component == "body"] == ["1", "2", "3"]


def test_variables_of_named_template_with_document_header():
    assert Template.from_definition(FACTURA_NAMED).variables() == [
        Variable("header", None, "header", "document", "header"),
        Variable("body", None, "customer_name", "text", "customer_name"),
        Variable("body", None, "total", "text", "total"),
        Variable("body", None, "due_date", "text", "due_date"),
    ]


def test_parameter_format_is_inferred_when_the_definition_lacks_it():
    d = copy.deepcopy(FACTURA_NAMED)
    del d["parameter_format"]
    assert Template.from_definition(d).parameter_format == "NAMED"
    d = definition()
    del d["parameter_format"]
    assert Template.from_definition(d).parameter_format == "POSITIONAL"


def test_placeholders_in_order_of_first_appearance():
    assert placeholders("{{2}} y {{1}}, otra vez {{2}}") == ["2", "1"]
    assert placeholders("Hola {{customer_name}}") == ["customer_name"]
    assert placeholders("sin variables") == []
    assert placeholders(None) == []


def test_from_definition_refuses_something_that_is_not_a_definition():
    with pytest.raises(PayloadError, match="no name"):
        Template.from_definition({"components": []})
    with pytest.raises(PayloadError, match="must be a dict"):
        Template.from_definition("turno")


# --- build_components: positional ------------------------------------------------------

def test_build_components_positional_template():
    assert build_components(Template.from_definition(TURNO), TURNO_VALUES) == [
        {"type": "header", "parameters": [{"type": "text", "text": "confirmado"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                        {"type": "text", "text": "lunes 3"},
                                        {"type": "text", "text": "9:00"}]},
        {"type": "button", "sub_type": "url", "index": "0",
         "parameters": [{"type": "text", "text": "abc123"}]},
    ]


def test_parameter_order_follows_numbers_whatever_the_dict_order():
    reversed_values = dict(reversed(list(TURNO_VALUES.items())))
    assert list(reversed_values)[0] == "button.0"
    assert build_components(TURNO, reversed_values) == build_components(TURNO, TURNO_VALUES)


def test_integer_keys_and_number_values_are_accepted():
    values = {"header.1": "ok", 1: "Ana", 2: 3, 3: 9.5, "button.0": 77}
    body = build_components(TURNO, values)[1]["parameters"]
    assert body == [{"type": "text", "text": "Ana"}, {"type": "text", "text": "3"},
                    {"type": "text", "text": "9.5"}]


def test_quick_reply_payload_is_optional_and_sent_when_given():
    components = build_components(TURNO, dict(TURNO_VALUES, **{"button.2": "CANCEL_42"}))
    assert components[-1] == {"type": "button", "sub_type": "quick_reply", "index": "2",
                              "parameters": [{"type": "payload", "payload": "CANCEL_42"}]}
    assert all(c.get("sub_type") != "quick_reply" for c in build_components(TURNO, TURNO_VALUES))


def test_currency_and_date_time_parameters():
    d = definition()
    values = dict(TURNO_VALUES, **{"2": DateTime("lunes 3 de marzo"),
                                   "3": Currency("$ 1.500,00", "ARS", 1500000)})
    body = build_components(d, values)[1]["parameters"]
    assert body[1:] == [
        {"type": "date_time", "date_time": {"fallback_value": "lunes 3 de marzo"}},
        {"type": "currency", "currency": {"fallback_value": "$ 1.500,00", "code": "ARS",
                                          "amount_1000": 1500000}},
    ]


@pytest.mark.parametrize("value, message", [
    (Currency("$ 1", "pesos", 1000), "currency code 'pesos'"),
    (Currency("$ 1", "ARS", 1.5), "amount_1000 must be an int"),
    (Currency("", "ARS", 1000), "fallback_value is empty"),
    (DateTime(" "), "date_time fallback_value is empty"),
])
def test_invalid_currency_or_date_time_is_refused(value, message):
    with pytest.raises(PayloadError, match=message):
        build_components(TURNO, dict(TURNO_VALUES, **{"3": value}))


def test_template_with_only_a_body():
    d = {"name": "aviso", "language": "es", "category": "UTILITY",
         "components": [{"type": "BODY", "text": "Tu pedido {{1}} está listo."}]}
    assert build_components(d, {"1": "A-17"}) == [
        {"type": "body", "parameters": [{"type": "text", "text": "A-17"}]}]


def test_template_without_variables_has_no_components():
    d = {"name": "hola", "language": "es", "components": [{"type": "BODY", "text": "Hola!"}]}
    assert build_components(d, {}) == []
    assert build_components(d) == []


def test_built_components_fit_the_template_builder():
    payload = builders.template("5491123456789", "turno_recordatorio", "es_AR",
                                build_components(TURNO, TURNO_VALUES))
    assert payload["template"]["components"][0]["type"] == "header"


# --- build_components: named, media headers ----------------------------------------------

def test_build_components_named_template_with_document_header():
    values = {"due_date": "10/12", "customer_name": "Ana",
              "total": Currency("$ 1.500", "ARS", 1500000),
              "header": Media("document", id="998877", filename="factura-0001.pdf")}
    assert build_components(FACTURA_NAMED, values) == [
        {"type": "header", "parameters": [
            {"type": "document", "document": {"id": "998877", "filename": "factura-0001.pdf"}}]},
        {"type": "body", "parameters": [
            {"type": "text", "text": "Ana", "parameter_name": "customer_name"},
            {"type": "currency", "parameter_name": "total",
             "currency": {"fallback_value": "$ 1.500", "code": "ARS", "amount_1000": 1500000}},
            {"type": "text", "text": "10/12", "parameter_name": "due_date"}]},
    ]


def test_named_text_header_uses_its_name_as_key_and_parameter_name():
    d = copy.deepcopy(FACTURA_NAMED)
    d["components"][0] = {"type": "HEADER", "format": "TEXT", "text": "Factura {{number}}"}
    values = {"number": "0001-42", "customer_name": "Ana", "total": "$ 1", "due_date": "hoy"}
    assert build_components(d, values)[0] == {"type": "header", "parameters": [
        {"type": "text", "text": "0001-42", "parameter_name": "number"}]}


def test_image_header_by_link():
    d = definition()
    component(d, "HEADER").update(format="IMAGE", text=None)
    values = dict(TURNO_VALUES, header=Media("image", link="https://campo.test/mapa.png"))
    del values["header.1"]
    assert build_components(d, values)[0] == {"type": "header", "parameters": [
        {"type": "image", "image": {"link": "https://campo.test/mapa.png"}}]}


def test_location_header():
    d = definition()
    component(d, "HEADER").update(format="LOCATION")
    values = dict(TURNO_VALUES, header=Location(-34.6037, -58.3816, "Taller", "Av. Corrientes 1"))
    del values["header.1"]
    assert build_components(d, values)[0] == {"type": "header", "parameters": [
        {"type": "location", "location": {"latitude": "-34.6037", "longitude": "-58.3816",
                                          "name": "Taller", "address": "Av. Corrientes 1"}}]}


# --- build_components: refusals ----------------------------------------------------------------

def test_missing_values_are_all_named_with_meta_error_code():
    with pytest.raises(PayloadError) as exc:
        build_components(TURNO, {"1": "Ana"})
    message = str(exc.value)
    assert "missing values for header.1, 2, 3, button.0" in message
    assert "132000" in message
    assert exc.value.problems == [
        "missing values for header.1, 2, 3, button.0 "
        "(Meta would refuse the send with error 132000)"]


def test_extra_values_are_named():
    with pytest.raises(PayloadError, match=r"unknown values 4, nombre; the template has "):
        build_components(TURNO, dict(TURNO_VALUES, **{"4": "x", "nombre": "Ana"}))


def test_positional_header_variable_is_not_filled_by_the_body_value():
    values = dict(TURNO_VALUES)
    del values["header.1"]
    with pytest.raises(PayloadError, match="missing values for header.1"):
        build_components(TURNO, values)


def test_none_counts_as_missing():
    with pytest.raises(PayloadError, match="missing values for 2"):
        build_components(TURNO, dict(TURNO_VALUES, **{"2": None}))


def test_same_key_given_as_int_and_str_is_refused():
    with pytest.raises(PayloadError, match="value for 1 given twice"):
        build_components(TURNO, {**TURNO_VALUES, 1: "Ana"})


@pytest.mark.parametrize("key, value, message", [
    ("header", "factura.pdf", r"header \(document\) needs a Media value, got text"),
    ("header", Media("image", id="1"), r"needs Media of kind 'document', got 'image'"),
    ("header", Media("document"), "exactly one of media id or link"),
    ("customer_name", Media("image", id="1"), "body variable customer_name needs text"),
    ("total", True, "needs text, a number, Currency or DateTime, got bool"),
])
def test_wrong_kind_of_value_is_refused(key, value, message):
    values = {"customer_name": "Ana", "total": "$ 1", "due_date": "hoy",
              "header": Media("document", id="1")}
    values[key] = value
    with pytest.raises(PayloadError, match=message):
        build_components(FACTURA_NAMED, values)


def test_url_button_takes_only_text():
    with pytest.raises(PayloadError, match="button button.0 needs text"):
        build_components(TURNO, dict(TURNO_VALUES, **{"button.0": DateTime("x")}))


@pytest.mark.parametrize("text, message", [
    ("", "body variable 2 is empty"),
    ("   ", "body variable 2 is empty"),
    ("lunes\n3", "newline or tab; Meta refuses these in template parameters .error 132018"),
    ("lunes\t3", "newline or tab"),
    ("lunes     3", "more than 4 spaces in a row"),
])
def test_text_parameters_meta_would_refuse(text, message):
    with pytest.raises(PayloadError, match=message):
        build_components(TURNO, dict(TURNO_VALUES, **{"2": text}))


def test_clean_param_makes_text_acceptable():
    cleaned = clean_param("Av. Corrientes 1234\n  Piso 3\t\tDto   B")
    assert cleaned == "Av. Corrientes 1234 Piso 3 Dto B"
    build_components(TURNO, dict(TURNO_VALUES, **{"2": cleaned}))


def test_header_value_that_makes_header_longer_than_60_is_refused():
    # "Turno " is 6 characters, so 54 fit and 55 do not.
    build_components(TURNO, dict(TURNO_VALUES, **{"header.1": "x" * 54}))
    with pytest.raises(PayloadError, match="header would be 61 characters with its variable; "
                                           "WhatsApp allows at most 60"):
        build_components(TURNO, dict(TURNO_VALUES, **{"header.1": "x" * 55}))


def test_body_parameter_limit_is_1024_with_other_components():
    build_components(TURNO, dict(TURNO_VALUES, **{"1": "a" * 1024}))
    with pytest.raises(PayloadError, match="body variable 1 is 1025 characters; "
                                           "WhatsApp allows at most 1024"):
        build_components(TURNO, dict(TURNO_VALUES, **{"1": "a" * 1025}))


def test_body_parameter_limit_is_32768_when_body_is_the_only_component():
    d = {"name": "aviso", "language": "es", "components": [{"type": "BODY", "text": "A: {{1}}."}]}
    build_components(d, {"1": "a" * 32768})
    with pytest.raises(PayloadError, match="is 32769 characters; WhatsApp allows at most 32768"):
        build_components(d, {"1": "a" * 32769})


def test_url_button_value_longer_than_the_url_allows_is_refused():
    base = len("https://campo.test/t/")
    build_components(TURNO, dict(TURNO_VALUES, **{"button.0": "a" * (2000 - base)}))
    with pytest.raises(PayloadError, match="button button.0 URL variable is"):
        build_components(TURNO, dict(TURNO_VALUES, **{"button.0": "a" * (2001 - base)}))


def test_copy_code_button_sends_coupon_code():
    d = definition()
    component(d, "BUTTONS")["buttons"] = [{"type": "COPY_CODE", "example": "CAMPO10"}]
    values = {k: v for k, v in TURNO_VALUES.items() if k != "button.0"}
    values["button.0"] = "CAMPO10"
    assert build_components(d, values)[-1] == {
        "type": "button", "sub_type": "copy_code", "index": "0",
        "parameters": [{"type": "coupon_code", "coupon_code": "CAMPO10"}]}
    values["button.0"] = "C" * 16
    with pytest.raises(PayloadError, match="coupon code is 16 characters; "
                                           "WhatsApp allows at most 15"):
        build_components(d, values)


def test_authentication_otp_button_sends_the_code_as_url_parameter():
    d = {"name": "codigo", "language": "es", "category": "AUTHENTICATION", "components": [
        {"type": "BODY", "text": "*{{1}}* es tu código de verificación."},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE",
                                         "text": "Copiar código"}]}]}
    assert build_components(d, {"1": "482913", "button.0": "482913"}) == [
        {"type": "body", "parameters": [{"type": "text", "text": "482913"}]},
        {"type": "button", "sub_type": "url", "index": "0",
         "parameters": [{"type": "text", "text": "482913"}]}]


def test_values_must_be_a_mapping():
    with pytest.raises(PayloadError, match="mapping"):
        build_components(TURNO, ["Ana", "lunes"])


# --- render ----------------------------------------------------------------------------------------

def test_render_full_preview():
    assert render(TURNO, TURNO_VALUES) == (
        "Turno confirmado\n\n"
        "Hola Ana, tu turno es el lunes 3 a las 9:00.\n\n"
        "CampoTech\n\n"
        "[Ver turno]\n[Llamar]\n[Cancelar]")


def test_render_leaves_unset_variables_visible():
    assert render(TURNO, {"1": "Ana"}).splitlines()[:3] == [
        "Turno {{1}}", "", "Hola Ana, tu turno es el {{2}} a las {{3}}."]


def test_render_named_template_with_typed_values_and_media_header():
    values = {"customer_name": "Ana", "total": Currency("$ 1.500", "ARS", 1500000),
              "due_date": DateTime("10 de diciembre"),
              "header": Media("document", id="9", filename="factura.pdf")}
    assert render(FACTURA_NAMED, values) == (
        "[document: factura.pdf]\n\n"
        "Hola Ana, tu factura por $ 1.500 vence el 10 de diciembre.")


def test_render_media_header_without_value():
    assert render(FACTURA_NAMED).startswith("[document]\n\nHola {{customer_name}}")


# --- validate_definition ----------------------------------------------------------------------------

def test_valid_definitions_pass_and_return_the_template():
    assert validate_definition(TURNO).name == "turno_recordatorio"
    assert validate_definition(FACTURA_NAMED).parameter_format == "NAMED"


def problems_of(d):
    with pytest.raises(PayloadError) as exc:
        validate_definition(d)
    return exc.value.problems


def test_invalid_name_language_and_category_are_all_reported():
    problems = problems_of(definition(name="Turno-Recordatorio", language="Spanish",
                                      category="TRANSACTIONAL"))
    assert problems == [
        "name 'Turno-Recordatorio' may only contain lowercase letters, digits and underscores",
        "language 'Spanish' is not a language code like es_AR or en",
        "category 'transactional' is not one of marketing, utility, authentication",
    ]


def test_name_over_512_characters():
    assert "name is 513 characters; WhatsApp allows at most 512" in problems_of(
        definition(name="a" * 513))


def test_body_is_required_and_limited_to_1024():
    d = definition()
    d["components"] = [c for c in d["components"] if c["type"] != "BODY"]
    assert "body is required" in problems_of(d)
    d = definition()
    component(d, "BODY").update(text="Hola {{1}}, " + "x" * 1020 + " {{2}} {{3}}.")
    assert any(p.startswith("body is 10") and p.endswith("at most 1024")
               for p in problems_of(d))


def test_positional_variables_must_be_consecutive():
    d = definition()
    component(d, "BODY").update(text="Hola {{1}}, el {{3}}.",
                                example={"body_text": [["Ana", "lunes"]]})
    assert problems_of(d) == [
        "body variables must be numbered {{1}} to {{2}} without gaps, got {{1}}, {{3}}"]


def test_body_may_not_start_or_end_with_a_variable():
    for text in ("{{1}} es tu turno, {{2}} {{3}}!", "Hola {{1}}, el {{2}} a las {{3}}"):
        d = definition()
        component(d, "BODY")["text"] = text
        assert ("body starts or ends with a variable; Meta rejects variables at the very "
                "start or end of the body") in problems_of(d)


def test_adjacent_variables_are_refused():
    d = definition()
    component(d, "BODY")["text"] = "Hola {{1}}, el {{2}} {{3}} confirmado."
    assert "body has two variables next to each other; put text between them" in problems_of(d)


def test_variables_need_examples():
    d = definition()
    del component(d, "BODY")["example"]
    assert "body needs 3 example values in example.body_text, got 0" in problems_of(d)
    d = copy.deepcopy(FACTURA_NAMED)
    d["components"][1]["example"]["body_text_named_params"].pop()
    assert ("body needs example values (example.body_text_named_params) for due_date"
            in problems_of(d))


def test_named_and_positional_variables_do_not_mix():
    d = definition()
    component(d, "BODY")["text"] = "Hola {{name}}, el {{1}}."
    assert any("named variables name but parameter_format is POSITIONAL" in p
               for p in problems_of(d))
    d = copy.deepcopy(FACTURA_NAMED)
    d["components"][1]["text"] = "Hola {{Customer}}, listo."
    assert any("must be lowercase letters" in p and "Customer" in p for p in problems_of(d))


def test_header_limits():
    d = definition()
    component(d, "HEADER").update(text="Turno {{1}} " + "x" * 60)
    assert "header is 72 characters; WhatsApp allows at most 60" in problems_of(d)
    d = definition()
    component(d, "HEADER").update(text="{{1}} y {{2}}", example={"header_text": ["a", "b"]})
    assert "header has 2 variables; WhatsApp allows at most 1" in problems_of(d)
    d = definition()
    component(d, "HEADER").update(format="IMAGE", example={})
    assert "image header needs a sample (example.header_handle)" in problems_of(d)
    d = definition()
    component(d, "HEADER").update(format="AUDIO")
    assert problems_of(d)[0].startswith("header format 'AUDIO' is not one of")


def test_footer_limits():
    d = definition()
    component(d, "FOOTER")["text"] = "f" * 61
    assert problems_of(d) == ["footer is 61 characters; WhatsApp allows at most 60"]
    d = definition()
    component(d, "FOOTER")["text"] = "Hasta {{1}}"
    assert problems_of(d) == ["footer cannot have variables"]


def test_button_limits():
    d = definition()
    component(d, "BUTTONS")["buttons"] = [
        {"type": "QUICK_REPLY", "text": "q%d" % i} for i in range(11)]
    assert "11 buttons; WhatsApp allows at most 10" in problems_of(d)

    d = definition()
    component(d, "BUTTONS")["buttons"] = [
        {"type": "URL", "text": "u%d" % i, "url": "https://x.test/%d" % i} for i in range(3)]
    assert "3 URL buttons; WhatsApp allows at most 2" in problems_of(d)

    d = definition()
    component(d, "BUTTONS")["buttons"] = [
        {"type": "PHONE_NUMBER", "text": "p%d" % i, "phone_number": "+5411%d" % i}
        for i in range(2)]
    assert "2 PHONE_NUMBER buttons; WhatsApp allows at most 1" in problems_of(d)

    d = definition()
    component(d, "BUTTONS")["buttons"] = [{"type": "QUICK_REPLY", "text": "t" * 26}]
    assert problems_of(d) == [
        "button 0 (QUICK_REPLY) text is 26 characters; WhatsApp allows at most 25"]


def test_quick_replies_must_be_grouped():
    d = definition()
    component(d, "BUTTONS")["buttons"] = [
        {"type": "QUICK_REPLY", "text": "A"},
        {"type": "URL", "text": "Web", "url": "https://x.test"},
        {"type": "QUICK_REPLY", "text": "B"}]
    assert problems_of(d) == [
        "quick-reply buttons must be grouped together, before or after the other buttons"]


def test_url_button_variable_rules():
    d = definition()
    component(d, "BUTTONS")["buttons"][0].update(url="https://campo.test/{{1}}/ver")
    assert "button 0 (URL) url variable must be at the end of the url" in problems_of(d)
    d = definition()
    component(d, "BUTTONS")["buttons"][0].update(url="https://campo.test/{{2}}")
    assert "button 0 (URL) url may have one variable, {{1}}" in problems_of(d)
    d = definition()
    del component(d, "BUTTONS")["buttons"][0]["example"]
    assert "button 0 (URL) url has a variable and needs an example url" in problems_of(d)
    d = definition()
    component(d, "BUTTONS")["buttons"][0].update(url="campo.test/t")
    assert "button 0 (URL) url must be an http(s) URL" in problems_of(d)


def test_authentication_template_needs_no_body_text():
    d = {"name": "codigo", "language": "es_AR", "category": "AUTHENTICATION", "components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}]}
    assert validate_definition(d).category == "authentication"


def test_placeholder_context_shows_the_words_around_a_variable():
    from campotech_whatsapp.cloud.templates import placeholder_context
    body = ("Hola {{1}}, {{2}} está en camino y llega en unos {{3}} minutos. "
            "Si no podés recibirlo respondé a este mensaje.")
    assert placeholder_context(body, "1") == "Hola {{1}}, {{2}} está en camino y…"
    assert placeholder_context(body, 3) == "…en camino y llega en unos {{3}} minutos. Si no podés…"
    assert placeholder_context("Tu turno es el {{fecha}}.", "fecha") == "Tu turno es el {{fecha}}."
    assert placeholder_context(body, "9") == ""
    assert placeholder_context(None, "1") == ""
