"""Send-time parameters: the ``components`` of a template send, checked against its variables."""

import re
from decimal import Decimal

from .. import constants as C
from ..builders import media_object
from ..errors import PayloadError
from .definition import PLACEHOLDER, _as_template
from .preview import _substitute
from .values import Currency, DateTime, Location, Media, _normalise, _text_value

_CURRENCY_RE = re.compile(r"[A-Z]{3}")


def _check_text(where, text, limit):
    if not text.strip():
        return "%s is empty" % where
    if "\n" in text or "\r" in text or "\t" in text:
        return ("%s contains a newline or tab; Meta refuses these in template parameters "
                "(error %d)" % (where, C.ERR_TEMPLATE_PARAM_FORMAT))
    if " " * (C.TEMPLATE_PARAM_MAX_SPACES + 1) in text:
        return ("%s has more than %d spaces in a row; Meta refuses this (error %d)"
                % (where, C.TEMPLATE_PARAM_MAX_SPACES, C.ERR_TEMPLATE_PARAM_FORMAT))
    if limit is not None and len(text) > limit:
        return "%s is %d characters; WhatsApp allows at most %d" % (where, len(text), limit)
    return None


def _describe(value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return type(value).__name__
    return "text"


def _typed_param(where, value):
    """Currency / DateTime parameter dict, or raise PayloadError."""
    if isinstance(value, Currency):
        if not isinstance(value.fallback_value, str) or not value.fallback_value.strip():
            raise PayloadError("%s: currency fallback_value is empty" % where)
        if not isinstance(value.code, str) or not _CURRENCY_RE.fullmatch(value.code):
            raise PayloadError("%s: currency code %r is not an ISO 4217 code like ARS"
                               % (where, value.code))
        if isinstance(value.amount_1000, bool) or not isinstance(value.amount_1000, int):
            raise PayloadError("%s: currency amount_1000 must be an int (amount × 1000)" % where)
        return {"type": "currency", "currency": {
            "fallback_value": value.fallback_value, "code": value.code,
            "amount_1000": value.amount_1000}}
    if not isinstance(value.fallback_value, str) or not value.fallback_value.strip():
        raise PayloadError("%s: date_time fallback_value is empty" % where)
    return {"type": "date_time", "date_time": {"fallback_value": value.fallback_value}}


def _header_param(var, value):
    where = "header (%s)" % var.kind
    if var.kind == "location":
        if not isinstance(value, Location):
            raise PayloadError("%s needs a Location value, got %s" % (where, _describe(value)))
        loc = {"latitude": str(value.latitude), "longitude": str(value.longitude)}
        for key in ("name", "address"):
            if getattr(value, key):
                loc[key] = getattr(value, key)
        return {"type": "location", "location": loc}
    if not isinstance(value, Media):
        raise PayloadError("%s needs a Media value, got %s" % (where, _describe(value)))
    if value.kind != var.kind:
        raise PayloadError("%s needs Media of kind %r, got %r" % (where, var.kind, value.kind))
    try:
        obj = media_object(var.kind, value.id, value.link, filename=value.filename)
    except PayloadError as exc:
        raise PayloadError("%s: %s" % (where, exc)) from None
    return {"type": var.kind, var.kind: obj}


def _text_param(tpl, var, value, limit):
    where = "%s variable %s" % (var.component, var.key)
    if isinstance(value, (Currency, DateTime)):
        param = _typed_param(where, value)
    else:
        text = _text_value(value)
        if text is None:
            raise PayloadError("%s needs text, a number, Currency or DateTime, got %s"
                               % (where, _describe(value)))
        problem = _check_text(where, text, limit)
        if problem:
            raise PayloadError(problem)
        param = {"type": "text", "text": text}
    if tpl.named:
        param["parameter_name"] = var.name
    return param


def _button_component(tpl, index, value):
    """The button component for button ``index`` given ``value``."""
    button = tpl.buttons[index]
    key = "button.%d" % index
    kind = button.get("type")
    text = _text_value(value)
    if text is None:
        raise PayloadError("button %s needs text, got %s" % (key, _describe(value)))
    if kind == "QUICK_REPLY":
        problem = _check_text("button %s payload" % key, text, None)
        sub_type, param = "quick_reply", {"type": "payload", "payload": text}
    elif kind == "COPY_CODE":
        problem = _check_text("button %s coupon code" % key, text, C.TEMPLATE_COUPON_CODE_MAX)
        sub_type, param = "copy_code", {"type": "coupon_code", "coupon_code": text}
    else:
        base = PLACEHOLDER.sub("", button.get("url") or "")
        problem = _check_text("button %s URL variable" % key, text,
                              C.TEMPLATE_BUTTON_URL_MAX - len(base))
        sub_type, param = "url", {"type": "text", "text": text}
    if problem:
        raise PayloadError(problem)
    return {"type": "button", "sub_type": sub_type, "index": str(index), "parameters": [param]}


def _fail(tpl, problems):
    error = PayloadError("template %r (%s): %s" % (tpl.name, tpl.language, "; ".join(problems)))
    error.problems = list(problems)
    raise error


def build_components(template, values=None):
    """The ``components`` of a template send, in Meta's parameter order.

    Raises PayloadError listing every missing, unknown or invalid value.
    """
    tpl = _as_template(template)
    values, problems = _normalise(values)
    variables = tpl.variables()
    known = {v.key for v in variables} | set(tpl.optional_keys())

    missing = []
    for var in variables:
        if values.get(var.key) is None and var.key not in missing:
            missing.append(var.key)
    if missing:
        problems.append("missing values for %s (Meta would refuse the send with error %d)"
                        % (", ".join(missing), C.ERR_TEMPLATE_PARAM_COUNT))
    extra = [k for k in values if k not in known]
    if extra:
        problems.append("unknown values %s; the template has %s"
                        % (", ".join(extra), ", ".join(sorted(known)) or "no variables"))

    body_only = all(c.get("type") == "BODY" for c in tpl.components)
    body_limit = C.TEMPLATE_BODY_ONLY_PARAM_MAX if body_only else C.TEMPLATE_BODY_PARAM_MAX
    header, body, buttons = [], [], {}
    for var in variables:
        value = values.get(var.key)
        if value is None:
            continue
        try:
            if var.component == "button":
                buttons[var.index] = _button_component(tpl, var.index, value)
            elif var.component == "header" and var.kind != "text":
                header.append(_header_param(var, value))
            elif var.component == "header":
                header.append(_text_param(tpl, var, value, None))
            else:
                body.append(_text_param(tpl, var, value, body_limit))
        except PayloadError as exc:
            problems.append(str(exc))
    for key in tpl.optional_keys():
        if values.get(key) is not None:
            index = int(key.split(".")[1])
            try:
                buttons[index] = _button_component(tpl, index, values[key])
            except PayloadError as exc:
                problems.append(str(exc))

    if tpl.header_format == "text" and header:
        rendered = _substitute(tpl.header_text, tpl.header_key, values)
        if len(rendered) > C.TEMPLATE_HEADER_TEXT_MAX:
            problems.append("header would be %d characters with its variable; WhatsApp allows "
                            "at most %d" % (len(rendered), C.TEMPLATE_HEADER_TEXT_MAX))
    if problems:
        _fail(tpl, problems)

    components = []
    if header:
        components.append({"type": "header", "parameters": header})
    if body:
        components.append({"type": "body", "parameters": body})
    components += [buttons[i] for i in sorted(buttons)]
    return components
