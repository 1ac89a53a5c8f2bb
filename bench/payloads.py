"""Inputs of the benchmarks: a realistic webhook POST, builder arguments, a template.

The webhook is shaped like the ones Meta sends a busy number: one entry,
a ``messages`` change carrying ten customer messages of mixed types from
three customers, and a second change carrying three delivery statuses.
It is serialised the way Meta does it (compact, non-ASCII escaped), and
signed like Meta signs it.
"""

import json

from campotech_whatsapp.cloud import webhook

APP_SECRET = "bench-app-secret-5f0c1d"
WABA_ID = "209876543210987"
PHONE_NUMBER_ID = "301234567890123"
DISPLAY_NUMBER = "5491152630000"
TIMESTAMP = 1763980000

_CUSTOMERS = (
    ("5491133334444", "AR.13491208655302741918", "María González"),
    ("5491155556666", "AR.13491208655302741920", "Juan Pérez"),
    ("5493515557777", "AR.13491208655302741933", "Lucía Fernández"),
)


def _wamid(n, outbound=False):
    # Meta's wamids are base64 of an opaque id; the length is what matters here.
    kind = "EQ" if outbound else "IY"
    return "wamid.HBgNNTQ5MTEzMzMzNDQ0NBUCAB%sFjNFQjA%04dQzI0NEI0NUQ3NkI5M0YwOUUA" % (kind, n)


def _sha(n):
    return ("%064x" % (0x3C1B9F5C0A6C4A0F4B8F2E7D9A1C5E3B7D2F4A6C8E0B1D3F5A7C9E2B4D6F8A0C + n))[:64]


def _messages():
    (maria, _, _), (juan, _, _), (lucia, _, _) = _CUSTOMERS
    items = [
        (maria, "text", {"text": {"body": "Hola, buen día. Se me rompió el aire acondicionado "
                                          "del living, ¿pueden venir esta semana?"}}),
        (maria, "image", {"image": {"caption": "Así quedó la pérdida de agua",
                                    "mime_type": "image/jpeg", "sha256": _sha(1),
                                    "id": "1503284820434127"}}),
        (maria, "location", {"location": {"latitude": -34.603722, "longitude": -58.381592,
                                          "name": "Casa",
                                          "address": "Av. Corrientes 1234, 5° B, CABA"}}),
        (juan, "interactive", {
            "interactive": {"type": "button_reply",
                            "button_reply": {"id": "confirmar_visita_4412", "title": "Confirmar"}},
            "context": {"from": DISPLAY_NUMBER, "id": _wamid(1, outbound=True)}}),
        (juan, "interactive", {
            "interactive": {"type": "list_reply",
                            "list_reply": {"id": "slot_2025_11_24_0900", "title": "Lunes 9:00",
                                           "description": "Técnico disponible: Carlos"}},
            "context": {"from": DISPLAY_NUMBER, "id": _wamid(2, outbound=True)}}),
        (juan, "reaction", {"reaction": {"message_id": _wamid(3, outbound=True),
                                         "emoji": "\U0001f44d"}}),
        (lucia, "audio", {"audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": _sha(2),
                                    "id": "1186624789512634", "voice": True}}),
        (lucia, "document", {"document": {"caption": "Presupuesto anterior",
                                          "filename": "presupuesto_1043.pdf",
                                          "mime_type": "application/pdf", "sha256": _sha(3),
                                          "id": "902145671239874"}}),
        (lucia, "contacts", {"contacts": [{
            "name": {"formatted_name": "Carlos Gómez", "first_name": "Carlos",
                     "last_name": "Gómez"},
            "phones": [{"phone": "+54 9 11 4444-3333", "wa_id": "5491144443333",
                        "type": "CELL"}],
            "org": {"company": "Gómez Refrigeración"}}]}),
        (lucia, "text", {"text": {"body": "Perdón, el encargado es él. Gracias!"},
                         "context": {"forwarded": True}}),
    ]
    messages = []
    for n, (sender, kind, body) in enumerate(items, start=1):
        message = {"from": sender, "id": _wamid(100 + n),
                   "timestamp": str(TIMESTAMP + 7 * n), "type": kind}
        message.update(body)
        messages.append(message)
    return messages


def _status(n, status, recipient, user_id):
    item = {"id": _wamid(n, outbound=True), "status": status,
            "timestamp": str(TIMESTAMP + n), "recipient_id": recipient,
            "recipient_user_id": user_id}
    if status != "read":
        item["conversation"] = {"id": "0b5d62f3d0f7b5e1c9a4e2f8d6b3a1c%d" % n,
                                "expiration_timestamp": str(TIMESTAMP + 86400),
                                "origin": {"type": "service"}}
        item["pricing"] = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service",
                           "category": "service"}
    return item


def _metadata():
    return {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": PHONE_NUMBER_ID}


def webhook_body():
    """The webhook as a dict: 10 messages and 3 statuses in two changes of one entry."""
    contacts = [{"profile": {"name": name}, "wa_id": wa_id, "user_id": user_id}
                for wa_id, user_id, name in _CUSTOMERS]
    statuses = [_status(1, "sent", *_CUSTOMERS[1][:2]),
                _status(2, "delivered", *_CUSTOMERS[1][:2]),
                _status(3, "read", *_CUSTOMERS[0][:2])]
    return {"object": "whatsapp_business_account", "entry": [{
        "id": WABA_ID,
        "changes": [
            {"value": {"messaging_product": "whatsapp", "metadata": _metadata(),
                       "contacts": contacts, "messages": _messages()},
             "field": "messages"},
            {"value": {"messaging_product": "whatsapp", "metadata": _metadata(),
                       "statuses": statuses},
             "field": "messages"},
        ]}]}


def webhook_request():
    """(raw bytes, X-Hub-Signature-256 header) exactly as the POST would carry them."""
    raw = json.dumps(webhook_body(), separators=(",", ":")).encode()
    return raw, webhook.sign(raw, APP_SECRET)


# --- Outbound ------------------------------------------------------------------

RECIPIENT = "5491133334444"

BUTTONS = [("confirmar", "Confirmar"), ("reprogramar", "Reprogramar"),
           ("hablar_tecnico", "Hablar con técnico")]

LIST_SECTIONS = [
    {"title": "Esta semana", "rows": [
        {"id": "slot_2025_11_24_0900", "title": "Lunes 9:00", "description": "Técnico: Carlos"},
        {"id": "slot_2025_11_24_1400", "title": "Lunes 14:00", "description": "Técnico: Martín"},
        {"id": "slot_2025_11_26_1000", "title": "Miércoles 10:00",
         "description": "Técnico: Carlos"},
    ]},
    {"title": "La semana que viene", "rows": [
        {"id": "slot_2025_12_01_0900", "title": "Lunes 1/12 9:00",
         "description": "Técnico: Lucía"},
        {"id": "slot_2025_12_02_1600", "title": "Martes 2/12 16:00",
         "description": "Técnico: Martín"},
    ]},
]

# As GET /{waba-id}/message_templates returns an approved positional template.
TEMPLATE_DEFINITION = {
    "name": "visita_programada",
    "language": "es_AR",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "id": "1187654321098765",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Visita técnica confirmada"},
        {"type": "BODY",
         "text": "Hola {{1}}, tu visita técnica quedó programada para el {{2}}. "
                 "Te va a atender {{3}}. Podés ver o cambiar el turno desde el botón.",
         "example": {"body_text": [["Juana", "martes 14/10 a las 10:00", "Martín"]]}},
        {"type": "FOOTER", "text": "Campotech Servicios"},
        {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Ver turno", "url": "https://campotech.com.ar/turnos/{{1}}",
             "example": ["https://campotech.com.ar/turnos/T-20251014-0042"]},
            {"type": "QUICK_REPLY", "text": "Reprogramar"},
        ]},
    ],
}

TEMPLATE_VALUES = {"1": "Juana Ramírez", "2": "martes 14/10 a las 10:00", "3": "Martín",
                   "button.0": "T-20251014-0042"}
