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


def placeholder_context(text, name, width=28):
    """The words around ``{{name}}`` in a template text, so a person filling
    variable "2" sees "…Hola {{1}}, {{2}} está en camino…" instead of a bare
    number. Empty when the text does not hold that placeholder."""
    for match in PLACEHOLDER.finditer(text or ""):
        if match.group(1) != str(name):
            continue
        start, end = match.start(), match.end()
        before = text[max(0, start - width):start]
        after = text[end:end + width]
        if start - width > 0:
            before = "…" + before.split(" ", 1)[-1] if " " in before else "…" + before
        if end + width < len(text):
            after = after.rsplit(" ", 1)[0] + "…" if " " in after else after + "…"
        return " ".join((before + match.group(0) + after).split())
    return ""
