"""Message templates: their variables, the send-time parameters, a preview.

A template definition is Meta's JSON as GET /{waba-id}/message_templates
returns it. From it we know every variable the template needs, so a send
with a missing, extra or wrongly typed value is refused here, with the
variables named, instead of coming back from Meta as error 132000.

Values are given as a mapping from ``Variable.key`` to a value:

* body variables: their name, ``"1"``, ``"2"`` or ``"customer_name"``;
* a text header variable: ``"header.1"`` in positional templates (the header
  numbers its own ``{{1}}``), its name in named templates;
* a media or location header: ``"header"``;
* a button: ``"button.<index>"`` (URL suffix, copy-code coupon, or the
  optional payload of a quick-reply button).

A value is a str or number (a text parameter), or a Currency, DateTime,
Media or Location.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal

from . import constants as C
from .builders import media_object
from .errors import PayloadError

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_NAME_RE = re.compile(r"[a-z0-9_]+")
_PARAM_NAME_RE = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")
_MEDIA_HEADERS = ("image", "video", "document")
# Buttons whose value is sent as a "url" parameter: authentication OTP
# buttons carry the code that way too.
_URL_BUTTONS = ("URL", "OTP")


# --- Values ------------------------------------------------------------------

@dataclass(frozen=True)
class Currency:
    """A currency parameter; amount_1000 is the amount times 1000 (an int)."""
    fallback_value: str
    code: str
    amount_1000: int


@dataclass(frozen=True)
class DateTime:
    """A date_time parameter; WhatsApp shows fallback_value as is."""
    fallback_value: str


@dataclass(frozen=True)
class Media:
    """The image, video or document of a media header."""
    kind: str
    id: str = None
    link: str = None
    filename: str = None


@dataclass(frozen=True)
class Location:
    """The place of a location header."""
    latitude: float
    longitude: float
    name: str = None
    address: str = None


def clean_param(text):
    """Return text as a valid text parameter: newlines, tabs and runs of
    spaces become one space (Meta refuses them with error 132018)."""
    return " ".join(str(text).split())


# --- The template --------------------------------------------------------------

def placeholders(text):
    """Variable names in text, in order of first appearance, each once."""
    names = []
    for match in PLACEHOLDER.finditer(text or ""):
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


@dataclass(frozen=True)
class Variable:
    """One value a template needs when it is sent.

    component: 'header', 'body' or 'button'; index: the button's index;
    name: "1", "2"… or the named key ("header" for media headers);
    kind: 'text', 'image', 'video', 'document', 'location' or 'coupon_code';
    key: where build_components looks for its value.
    """
    component: str
    index: int
    name: str
    kind: str
    key: str


def _upper(value):
    return value.upper() if isinstance(value, str) else value


@dataclass
class Template:
    name: str
    language: str
    status: str = ""
    category: str = ""
    parameter_format: str = "POSITIONAL"
    header_format: str = None  # lower case: 'text', 'image', …; None without header
    components: list = field(default_factory=list)
    id: str = None

    @classmethod
    def from_definition(cls, definition):
        if not isinstance(definition, dict):
            raise PayloadError("template definition must be a dict, got %s"
                               % type(definition).__name__)
        if not definition.get("name"):
            raise PayloadError("template definition has no name")
        language = definition.get("language") or ""
        if isinstance(language, dict):
            language = language.get("code") or ""
        components = []
        for comp in definition.get("components") or []:
            if not isinstance(comp, dict):
                continue
            comp = dict(comp, type=_upper(comp.get("type")))
            if comp["type"] == "BUTTONS":
                comp["buttons"] = [dict(b, type=_upper(b.get("type")))
                                   for b in comp.get("buttons") or [] if isinstance(b, dict)]
            components.append(comp)
        tpl = cls(
            name=definition["name"],
            language=language,
            status=(definition.get("status") or "").lower(),
            category=(definition.get("category") or "").lower(),
            components=components,
            id=definition.get("id"),
        )
        header = tpl.component("HEADER")
        if header is not None:
            tpl.header_format = (header.get("format") or "TEXT").lower()
        fmt = _upper(definition.get("parameter_format"))
        if not fmt:
            texts = [tpl.header_text, tpl.body_text]
            named = any(not n.isdigit() for t in texts for n in placeholders(t))
            fmt = "NAMED" if named else "POSITIONAL"
        tpl.parameter_format = fmt
        return tpl

    @property
    def named(self):
        return self.parameter_format == "NAMED"

    def component(self, type_):
        for comp in self.components:
            if comp.get("type") == type_:
                return comp
        return None

    def _text(self, type_):
        comp = self.component(type_)
        return (comp or {}).get("text") or ""

    @property
    def header_text(self):
        return self._text("HEADER") if self.header_format == "text" else ""

    @property
    def body_text(self):
        return self._text("BODY")

    @property
    def footer_text(self):
        return self._text("FOOTER")

    @property
    def buttons(self):
        return (self.component("BUTTONS") or {}).get("buttons") or []

    def _ordered(self, names):
        if self.named:
            return names
        return sorted(names, key=lambda n: (0, int(n)) if n.isdigit() else (1, names.index(n)))

    def header_key(self, name):
        return name if self.named else "header." + name

    def variables(self):
        """Every value a send needs, header first, then body, then buttons."""
        out = []
        if self.header_format == "text":
            out += [Variable("header", None, n, "text", self.header_key(n))
                    for n in self._ordered(placeholders(self.header_text))]
        elif self.header_format in _MEDIA_HEADERS + ("location",):
            out.append(Variable("header", None, "header", self.header_format, "header"))
        out += [Variable("body", None, n, "text", n)
                for n in self._ordered(placeholders(self.body_text))]
        for i, button in enumerate(self.buttons):
            key = "button.%d" % i
            if button.get("type") == "URL":
                names = placeholders(button.get("url"))
                if names:
                    out.append(Variable("button", i, names[0], "text", key))
            elif button.get("type") == "OTP":
                out.append(Variable("button", i, "1", "text", key))
            elif button.get("type") == "COPY_CODE":
                out.append(Variable("button", i, "coupon_code", "coupon_code", key))
        return out

    def optional_keys(self):
        """Keys that may carry a value but need none: quick-reply payloads."""
        return ["button.%d" % i for i, b in enumerate(self.buttons)
                if b.get("type") == "QUICK_REPLY"]


def _as_template(template):
    return template if isinstance(template, Template) else Template.from_definition(template)


# --- Send-time parameters --------------------------------------------------------

def _text_value(value):
    """The text of a plain value, or None when it is not a plain value."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return None


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


def _normalise(values):
    if values is None:
        return {}, []
    if not hasattr(values, "items"):
        raise PayloadError("template values must be a mapping of variable key to value")
    out, problems = {}, []
    for key, value in values.items():
        skey = str(key)
        if skey in out:
            problems.append("value for %s given twice" % skey)
        out[skey] = value
    return out, problems


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


# --- Preview ---------------------------------------------------------------------

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


# --- Definitions submitted for review ------------------------------------------------

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
