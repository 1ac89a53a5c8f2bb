"""The preview text of a template with its values."""

from .definition import PLACEHOLDER, _as_template
from .values import Currency, DateTime, Location, Media, _normalise, _text_value

def _display(value):
    if isinstance(value, (Currency, DateTime)):
        return value.fallback_value
    if isinstance(value, Location):
        return ", ".join(p for p in (value.name, value.address) if p) or "%s, %s" % (
            value.latitude, value.longitude)
    if isinstance(value, Media):
        return value.filename or value.link or value.id
    return _text_value(value)


def _substitute(text, key_for, values):
    def repl(match):
        shown = _display(values.get(key_for(match.group(1))))
        return shown if shown is not None else match.group(0)
    return PLACEHOLDER.sub(repl, text)


def render(template, values=None):
    """Preview text of a template with its values: header, body, footer and
    one "[button text]" line per button. Variables without a value are left
    as ``{{name}}``, so the preview also works while a form is incomplete."""
    tpl = _as_template(template)
    values, _ = _normalise(values)
    parts = []
    if tpl.header_format == "text":
        parts.append(_substitute(tpl.header_text, tpl.header_key, values))
    elif tpl.header_format:
        shown = _display(values.get("header"))
        parts.append("[%s: %s]" % (tpl.header_format, shown) if shown
                     else "[%s]" % tpl.header_format)
    parts.append(_substitute(tpl.body_text, lambda n: n, values))
    if tpl.footer_text:
        parts.append(tpl.footer_text)
    text = "\n\n".join(p for p in parts if p)
    labels = ["[%s]" % b.get("text") for b in tpl.buttons if b.get("text")]
    if labels:
        text += "\n\n" + "\n".join(labels)
    return text
