"""Benchmark 2: building outbound payloads.

Every send goes through one builder (and template sends through
``templates.build_components``) before it is queued, so their cost is paid
once per message by whoever queues it.
"""

from campotech_whatsapp.cloud import builders, templates

from . import payloads as P
from .common import per_call_line, sample_ns

FULL_RUNS = 5000
QUICK_RUNS = 50


def _cases():
    tpl = templates.Template.from_definition(P.TEMPLATE_DEFINITION)
    values = P.TEMPLATE_VALUES
    to = P.RECIPIENT
    return [
        ("build.text", lambda: builders.text(
            to, "Hola Juana, el técnico llega en 20 minutos. Cualquier cosa escribinos acá.")),
        ("build.media", lambda: builders.media(
            to, "image", media_id="1503284820434127", caption="Foto del equipo reparado")),
        ("build.buttons", lambda: builders.buttons(
            to, "¿Confirmás la visita del martes 14/10 a las 10:00?", P.BUTTONS,
            header="Visita técnica", footer="Campotech Servicios")),
        ("build.list_message", lambda: builders.list_message(
            to, "Elegí un horario para la visita", "Ver horarios", P.LIST_SECTIONS,
            header="Turnos disponibles", footer="Campotech Servicios")),
        ("build.template_components", lambda: templates.build_components(tpl, values)),
        ("build.template_components_from_dict",
         lambda: templates.build_components(P.TEMPLATE_DEFINITION, values)),
        ("build.template_send", lambda: builders.template(
            to, tpl.name, tpl.language, templates.build_components(tpl, values))),
    ]


def _check_template():
    """The definition must pass Meta's mechanical rules, or the bench measures a fiction."""
    tpl = templates.validate_definition(P.TEMPLATE_DEFINITION)
    components = templates.build_components(tpl, P.TEMPLATE_VALUES)
    body = next(c for c in components if c["type"] == "body")
    button = next(c for c in components if c["type"] == "button")
    if len(body["parameters"]) != 3 or button["sub_type"] != "url":
        raise RuntimeError("bench template built unexpected components: %r" % (components,))
    return tpl


def run(out, quick=False):
    runs = QUICK_RUNS if quick else FULL_RUNS
    tpl = _check_template()
    out("[build] payload builders; template %s (%s, %s): 3 body params + URL button"
        % (tpl.name, tpl.language, tpl.parameter_format.lower()))
    for name, fn in _cases():
        out(per_call_line(name, sample_ns(fn, runs, budget_s=1.0)))
