"""Checks on a definition before it is submitted to Meta for review."""

import re

from .. import constants as C
from .definition import PLACEHOLDER, _as_template, _upper, placeholders
from .parameters import _fail

_NAME_RE = re.compile(r"[a-z0-9_]+")
_PARAM_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")


def _check_numbering(where, names, problems):
    numbers = sorted(int(n) for n in names if n.isdigit())
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        problems.append("%s variables must be numbered {{1}} to {{%d}} without gaps, got %s"
                        % (where, len(numbers), ", ".join("{{%d}}" % n for n in numbers)))


def _check_names(where, names, named, problems):
    if named:
        bad = [n for n in names if not _PARAM_NAME_RE.fullmatch(n)]
        if bad:
            problems.append("%s variable names must be lowercase letters, digits and "
                            "underscores starting with a letter: %s" % (where, ", ".join(bad)))
    else:
        bad = [n for n in names if not n.isdigit()]
        if bad:
            problems.append("%s has named variables %s but parameter_format is POSITIONAL"
                            % (where, ", ".join(bad)))
        _check_numbering(where, names, problems)


def _check_examples(where, comp, names, named, prefix, problems):
    if not names:
        return
    example = comp.get("example") or {}
    if named:
        given = {e.get("param_name") for e in example.get(prefix + "_named_params") or []
                 if isinstance(e, dict)}
        lacking = [n for n in names if n not in given]
        lacking += [e.get("param_name") for e in example.get(prefix + "_named_params") or []
                    if isinstance(e, dict) and e.get("param_name") in names
                    and not str(e.get("example") or "").strip()]
        if lacking:
            problems.append("%s needs example values (example.%s_named_params) for %s"
                            % (where, prefix, ", ".join(lacking)))
        return
    sample = example.get(prefix) or []
    if prefix == "body_text":
        sample = sample[0] if sample and isinstance(sample[0], list) else []
    if len(sample) != len(names):
        problems.append("%s needs %d example values in example.%s, got %d"
                        % (where, len(names), prefix, len(sample)))
    else:
        ordered = sorted(names, key=lambda n: int(n) if n.isdigit() else 0)
        empty = ["{{%s}}" % n for n, value in zip(ordered, sample) if not str(value or "").strip()]
        if empty:
            problems.append("%s example values for %s must not be empty"
                            % (where, ", ".join(empty)))


def _check_length(where, text, limit, problems):
    if len(text) > limit:
        problems.append("%s is %d characters; WhatsApp allows at most %d"
                        % (where, len(text), limit))


def _check_body(comp, tpl, problems):
    text = comp.get("text") or ""
    if not text.strip():
        if tpl.category != "authentication":
            problems.append("body text is required")
        return
    _check_length("body", text, C.TEMPLATE_BODY_MAX, problems)
    names = placeholders(text)
    _check_names("body", names, tpl.named, problems)
    _check_examples("body", comp, names, tpl.named, "body_text", problems)
    stripped = text.strip()
    if PLACEHOLDER.match(stripped) or re.search(PLACEHOLDER.pattern + r"$", stripped):
        problems.append("body starts or ends with a variable; Meta rejects variables at the "
                        "very start or end of the body")
    if re.search(r"\}\}\s*\{\{", text):
        problems.append("body has two variables next to each other; put text between them")


def _check_header(comp, tpl, problems):
    fmt = _upper(comp.get("format") or "TEXT")
    if fmt not in C.TEMPLATE_HEADER_FORMATS:
        problems.append("header format %r is not one of %s"
                        % (fmt, ", ".join(C.TEMPLATE_HEADER_FORMATS)))
        return
    if fmt == "TEXT":
        text = comp.get("text") or ""
        if not text.strip():
            problems.append("text header has no text")
        _check_length("header", text, C.TEMPLATE_HEADER_TEXT_MAX, problems)
        names = placeholders(text)
        if len(names) > C.TEMPLATE_HEADER_VARIABLES_MAX:
            problems.append("header has %d variables; WhatsApp allows at most %d"
                            % (len(names), C.TEMPLATE_HEADER_VARIABLES_MAX))
        _check_names("header", names, tpl.named, problems)
        _check_examples("header", comp, names, tpl.named, "header_text", problems)
    elif fmt != "LOCATION" and not (comp.get("example") or {}).get("header_handle"):
        problems.append("%s header needs a sample (example.header_handle)" % fmt.lower())


def _check_buttons(comp, problems):
    buttons = comp.get("buttons") or []
    if not buttons:
        problems.append("BUTTONS component has no buttons")
        return
    if len(buttons) > C.TEMPLATE_BUTTONS_MAX:
        problems.append("%d buttons; WhatsApp allows at most %d"
                        % (len(buttons), C.TEMPLATE_BUTTONS_MAX))
    kinds = [b.get("type") for b in buttons]
    for kind, limit in (("URL", C.TEMPLATE_URL_BUTTONS_MAX),
                        ("PHONE_NUMBER", C.TEMPLATE_PHONE_BUTTONS_MAX),
                        ("COPY_CODE", C.TEMPLATE_COPY_CODE_BUTTONS_MAX)):
        if kinds.count(kind) > limit:
            problems.append("%d %s buttons; WhatsApp allows at most %d"
                            % (kinds.count(kind), kind, limit))
    flags = [k == "QUICK_REPLY" for k in kinds]
    if sum(1 for a, b in zip(flags, flags[1:]) if a != b) > 1:
        problems.append("quick-reply buttons must be grouped together, before or after "
                        "the other buttons")
    for i, button in enumerate(buttons):
        where = "button %d (%s)" % (i, button.get("type"))
        if not button.get("type"):
            problems.append("button %d has no type" % i)
            continue
        label = button.get("text") or ""
        if button["type"] in ("QUICK_REPLY", "URL", "PHONE_NUMBER") and not label.strip():
            problems.append("%s has no text" % where)
        _check_length("%s text" % where, label, C.TEMPLATE_BUTTON_TEXT_MAX, problems)
        if button["type"] == "URL":
            _check_url_button(where, button, problems)
        elif button["type"] == "PHONE_NUMBER":
            phone = button.get("phone_number") or ""
            if not phone:
                problems.append("%s has no phone_number" % where)
            _check_length("%s phone_number" % where, phone, C.TEMPLATE_BUTTON_PHONE_MAX, problems)


def _check_url_button(where, button, problems):
    url = button.get("url") or ""
    if not re.match(r"https?://[^/\s]+", url, re.I):
        problems.append("%s url must be an http(s) URL" % where)
    _check_length("%s url" % where, url, C.TEMPLATE_BUTTON_URL_MAX, problems)
    names = placeholders(url)
    if not names:
        return
    if names != ["1"] or len(PLACEHOLDER.findall(url)) > 1:
        problems.append("%s url may have one variable, {{1}}" % where)
    elif not re.search(PLACEHOLDER.pattern + r"$", url.strip()):
        problems.append("%s url variable must be at the end of the url" % where)
    if not button.get("example"):
        problems.append("%s url has a variable and needs an example url" % where)


def validate_definition(definition):
    """Check a definition before submitting it to Meta for review.

    Returns the parsed Template; raises PayloadError listing every problem
    (also in its ``problems`` attribute). Meta's review checks more than
    this (wording, category, variable density); these are the rules it
    applies mechanically.
    """
    tpl = _as_template(definition)
    problems = []
    if not _NAME_RE.fullmatch(tpl.name or ""):
        problems.append("name %r may only contain lowercase letters, digits and underscores"
                        % tpl.name)
    _check_length("name", tpl.name or "", C.TEMPLATE_NAME_MAX, problems)
    if not isinstance(tpl.language, str) or not _LANGUAGE_RE.fullmatch(tpl.language):
        problems.append("language %r is not a language code like es_AR or en" % (tpl.language,))
    if tpl.category not in C.TEMPLATE_CATEGORIES:
        problems.append("category %r is not one of %s"
                        % (tpl.category, ", ".join(C.TEMPLATE_CATEGORIES)))
    if tpl.parameter_format not in C.TEMPLATE_PARAMETER_FORMATS:
        problems.append("parameter_format %r is not one of %s"
                        % (tpl.parameter_format, ", ".join(C.TEMPLATE_PARAMETER_FORMATS)))
    types = [c.get("type") for c in tpl.components]
    for type_ in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
        if types.count(type_) > 1:
            problems.append("more than one %s component" % type_)
    header, body = tpl.component("HEADER"), tpl.component("BODY")
    footer, buttons = tpl.component("FOOTER"), tpl.component("BUTTONS")
    if header is not None:
        _check_header(header, tpl, problems)
    if body is not None:
        _check_body(body, tpl, problems)
    elif tpl.category != "authentication":
        problems.append("body is required")
    if footer is not None:
        text = footer.get("text") or ""
        _check_length("footer", text, C.TEMPLATE_FOOTER_MAX, problems)
        if placeholders(text):
            problems.append("footer cannot have variables")
    if buttons is not None:
        _check_buttons(buttons, problems)
    if problems:
        _fail(tpl, problems)
    return tpl
