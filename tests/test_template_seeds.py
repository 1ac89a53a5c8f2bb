import pytest

from campotech_whatsapp.cloud import template_seeds as S
from campotech_whatsapp.cloud.errors import PayloadError
from campotech_whatsapp.cloud.template_compose import compose_definition
from campotech_whatsapp.cloud.templates import build_components, render, validate_definition

BASE = "https://campotech.example.com"


@pytest.mark.parametrize("seed", S.SEEDS, ids=lambda s: s["name"])
def test_every_seed_passes_metas_mechanical_rules(seed):
    tpl = validate_definition(S.definition(seed, BASE, header_handle="4::aGFuZGxl"))
    assert tpl.named and tpl.language == "es_AR" and tpl.category == "utility"
    keys = {v.key for v in tpl.variables()}
    assert keys == set(S.seed_samples(seed)), "every variable has a mapping and a sample"


def test_seed_names_and_parameters_are_the_products():
    params = {s["name"]: [v["name"] for v in s["variables"] if v.get("component", "body") == "body"]
              for s in S.SEEDS}
    assert params == {
        "trabajo_programado": ["customer_name", "job_title", "date", "address"],
        "tecnico_asignado": ["customer_name", "tech_name", "job_title", "date"],
        "trabajo_completado": ["customer_name", "job_title", "company_name"],
        "factura_lista": ["customer_name", "invoice_number", "total"],
        "pago_recibido": ["customer_name", "amount"],
    }


def test_job_templates_offer_confirm_reschedule_cancel():
    for seed in S.SEEDS[:2]:
        assert [b["text"] for b in seed["buttons"]] == ["Confirmar", "Reprogramar", "Cancelar"]


def test_invoice_seed_has_a_document_header_and_a_portal_button():
    seed = next(s for s in S.SEEDS if s["name"] == "factura_lista")
    d = S.definition(seed, BASE + "/", header_handle="4::h")
    header, _body, buttons = d["components"]
    assert header == {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::h"]}}
    url = buttons["buttons"][0]
    assert url["url"] == BASE + "/{{1}}"
    assert url["example"] == [BASE + "/my/invoices/1?access_token=3f2a6c1e"]


def test_media_header_without_a_sample_handle_is_refused_clearly():
    seed = next(s for s in S.SEEDS if s["name"] == "factura_lista")
    with pytest.raises(PayloadError, match="header_handle"):
        validate_definition(S.definition(seed, BASE))


def test_compose_positional_examples_in_number_order():
    d = compose_definition("aviso", "es_AR", "utility", "Hola {{2}} y {{1}}, listo.",
                           header_format="text", header_text="Aviso {{1}}", footer="CampoTech",
                           samples={"1": "uno", "2": "dos", "header.1": "hoy"})
    header, body, footer = d["components"]
    assert header["example"] == {"header_text": ["hoy"]}
    assert body["example"] == {"body_text": [["uno", "dos"]]}
    assert footer == {"type": "FOOTER", "text": "CampoTech"}
    validate_definition(d)


def test_compose_missing_sample_is_named_by_validation():
    d = compose_definition("aviso", "es_AR", "utility", "Hola {{customer_name}}, listo.",
                           parameter_format="NAMED")
    with pytest.raises(PayloadError, match="customer_name"):
        validate_definition(d)


def test_seed_sends_and_renders_with_mapped_values():
    seed = next(s for s in S.SEEDS if s["name"] == "trabajo_programado")
    d = dict(S.definition(seed, BASE), status="APPROVED")
    values = {"customer_name": "Ana", "job_title": "Service", "date": "15/12/2026 14:30",
              "address": "Av. Siempre Viva 742"}
    components = build_components(d, values)
    assert components[0]["parameters"][0] == {"type": "text", "text": "Ana",
                                              "parameter_name": "customer_name"}
    text = render(d, values)
    assert "Hola Ana" in text and "15/12/2026 14:30" in text and "[Reprogramar]" in text


def test_compose_empty_positional_sample_is_named_by_validation():
    d = compose_definition("aviso", "es_AR", "utility", "Hola {{1}}, vence el {{2}}.",
                           samples={"1": "Ana"})
    with pytest.raises(PayloadError, match=r"\{\{2\}\} must not be empty"):
        validate_definition(d)
