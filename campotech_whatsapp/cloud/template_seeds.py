"""The five templates every account starts with, in Argentine Spanish.

Each seed is what the addon needs to create a draft: the Meta definition
parts, the record model it is written for, and per variable where its value
comes from (a field path on that model, the record's PDF report or its portal
link) with a sample for Meta's review. ``definition(seed, base_url)`` gives
the JSON submitted to Meta.
"""

from .template_compose import compose_definition

LANGUAGE = "es_AR"
CATEGORY = "utility"
# Quick replies of the job templates; the notifications act on the taps.
JOB_REPLIES = ("Confirmar", "Reprogramar", "Cancelar")

SEEDS = (
    {
        "name": "trabajo_programado",
        "model": "project.task",
        "body": "Hola {{customer_name}}, agendamos el trabajo \"{{job_title}}\" para el "
                "{{date}} en {{address}}. ¿Nos confirmás si te queda bien?",
        "buttons": [{"type": "QUICK_REPLY", "text": text} for text in JOB_REPLIES],
        "variables": [
            {"name": "customer_name", "field": "partner_id.name", "sample": "Juana Pérez"},
            {"name": "job_title", "field": "name", "sample": "Instalación de aire acondicionado"},
            {"name": "date", "field": "date_deadline", "sample": "15/12/2026 14:30"},
            {"name": "address", "field": "partner_id.contact_address",
             "sample": "Av. Corrientes 1234, CABA"},
        ],
    },
    {
        "name": "tecnico_asignado",
        "model": "project.task",
        "body": "Hola {{customer_name}}, {{tech_name}} va a hacer el trabajo \"{{job_title}}\" "
                "el {{date}}. Si necesitás cambiar algo, avisanos por acá.",
        "buttons": [{"type": "QUICK_REPLY", "text": text} for text in JOB_REPLIES],
        "variables": [
            {"name": "customer_name", "field": "partner_id.name", "sample": "Juana Pérez"},
            {"name": "tech_name", "field": "user_ids.name", "sample": "Martín Gómez"},
            {"name": "job_title", "field": "name", "sample": "Instalación de aire acondicionado"},
            {"name": "date", "field": "date_deadline", "sample": "15/12/2026 14:30"},
        ],
    },
    {
        "name": "trabajo_completado",
        "model": "project.task",
        "body": "Hola {{customer_name}}, terminamos el trabajo \"{{job_title}}\". "
                "¡Gracias por confiar en {{company_name}}!",
        "buttons": [],
        "variables": [
            {"name": "customer_name", "field": "partner_id.name", "sample": "Juana Pérez"},
            {"name": "job_title", "field": "name", "sample": "Instalación de aire acondicionado"},
            {"name": "company_name", "field": "company_id.name", "sample": "CampoTech"},
        ],
    },
    {
        "name": "factura_lista",
        "model": "account.move",
        "header": "DOCUMENT",
        "body": "Hola {{customer_name}}, te enviamos la factura {{invoice_number}} por "
                "{{total}}. Podés pagarla online con el botón de abajo.",
        "buttons": [{"type": "URL", "text": "Pagar online", "url": "{base_url}/{{{{1}}}}"}],
        "variables": [
            {"name": "header", "component": "header", "source": "report",
             "report": "account.account_invoices", "sample": "INV-2026-0001.pdf"},
            {"name": "customer_name", "field": "partner_id.name", "sample": "Juana Pérez"},
            {"name": "invoice_number", "field": "name", "sample": "INV/2026/00001"},
            {"name": "total", "field": "amount_total", "sample": "$ 12.345,67"},
            {"name": "1", "component": "button", "button_index": 0, "source": "portal_url",
             "sample": "my/invoices/1?access_token=3f2a6c1e"},
        ],
    },
    {
        "name": "pago_recibido",
        "model": "account.move",
        "body": "Hola {{customer_name}}, recibimos tu pago de {{amount}}. ¡Muchas gracias!",
        "buttons": [],
        "variables": [
            {"name": "customer_name", "field": "partner_id.name", "sample": "Juana Pérez"},
            {"name": "amount", "field": "amount_total", "sample": "$ 12.345,67"},
        ],
    },
)


def seed_buttons(seed, base_url):
    """The seed's buttons, URL ones pointed at base_url (this Odoo)."""
    base_url = (base_url or "").rstrip("/")
    return [dict(b, url=b["url"].format(base_url=base_url)) if "url" in b else dict(b)
            for b in seed["buttons"]]


def seed_samples(seed):
    """Sample value per variable key (see templates.Variable.key)."""
    samples = {}
    for var in seed["variables"]:
        component = var.get("component", "body")
        if component == "button":
            samples["button.%d" % var["button_index"]] = var["sample"]
        else:
            samples[var["name"]] = var["sample"]
    return samples


def definition(seed, base_url, header_handle=None):
    """The definition submitted to Meta for seed, with its examples."""
    return compose_definition(
        seed["name"], LANGUAGE, CATEGORY, seed["body"], parameter_format="NAMED",
        header_format=seed.get("header"), header_handle=header_handle,
        buttons=seed_buttons(seed, base_url), samples=seed_samples(seed))
