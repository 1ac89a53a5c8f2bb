"""A template definition for Meta's review, composed from its parts.

The addon edits a template as fields (header, body, footer, buttons, one
sample per variable); Meta wants one JSON document with the samples as
``example`` blocks in the shape each component and parameter format needs.
Check the result with ``templates.validate_definition`` before submitting.
"""

from .templates import PLACEHOLDER, Template, placeholders


def _text_example(prefix, text, named, samples, key_for):
    names = placeholders(text)
    if not names:
        return None
    if named:
        return {prefix + "_named_params": [
            {"param_name": n, "example": samples.get(key_for(n)) or ""} for n in names]}
    ordered = sorted(names, key=lambda n: int(n) if n.isdigit() else 0)
    values = [samples.get(key_for(n)) or "" for n in ordered]
    if prefix == "header_text":
        return {"header_text": values}
    return {"body_text": [values]}


def compose_definition(name, language, category, body, parameter_format="POSITIONAL",
                       header_format=None, header_text=None, header_handle=None, footer=None,
                       buttons=(), samples=None):
    """Meta's definition of a template.

    header_format: None, 'text', 'image', 'video' or 'document' (any case);
    buttons: dicts with ``type`` (QUICK_REPLY, URL, PHONE_NUMBER), ``text`` and
    ``url`` / ``phone_number``; samples: example value per variable key as
    ``Template.variables()`` names them ("1", "customer_name", "header.1",
    "button.0"). A missing sample is sent empty, so validation names it.
    """
    samples = samples or {}
    named = str(parameter_format).upper() == "NAMED"
    header_key = (lambda n: n) if named else (lambda n: "header." + n)
    components = []
    fmt = (header_format or "").upper()
    if fmt == "TEXT":
        header = {"type": "HEADER", "format": "TEXT", "text": header_text or ""}
        example = _text_example("header_text", header_text, named, samples, header_key)
        if example:
            header["example"] = example
        components.append(header)
    elif fmt:
        header = {"type": "HEADER", "format": fmt}
        if header_handle:
            header["example"] = {"header_handle": [header_handle]}
        components.append(header)
    body_component = {"type": "BODY", "text": body or ""}
    example = _text_example("body_text", body, named, samples, lambda n: n)
    if example:
        body_component["example"] = example
    components.append(body_component)
    if footer:
        components.append({"type": "FOOTER", "text": footer})
    out = []
    for index, button in enumerate(buttons or ()):
        button = {k: v for k, v in dict(button).items() if v not in (None, "", False)}
        button["type"] = str(button.get("type") or "").upper()
        if button["type"] == "URL" and placeholders(button.get("url")):
            sample = samples.get("button.%d" % index) or ""
            button["example"] = [PLACEHOLDER.sub(lambda _m: sample, button["url"], count=1)]
        out.append(button)
    if out:
        components.append({"type": "BUTTONS", "buttons": out})
    return {"name": name, "language": language, "category": str(category or "").upper(),
            "parameter_format": "NAMED" if named else "POSITIONAL", "components": components}


def variables_of(definition):
    """The engine's Variables of a definition (its send-time values)."""
    return Template.from_definition(definition).variables()
