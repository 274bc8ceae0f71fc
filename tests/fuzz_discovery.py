"""Where the fuzz tests find what to send (issue 19): every form of every GET page, per allowed
role, parsed with html.parser: the POST forms by endpoint and, per GET endpoint, its list
parameters (its GET forms' fields and every query argument the view reads, recorded while the
page renders: that is how ``page`` is found)."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import Request, g
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException

from app.extensions import db

from .route_table import ROUTES

@dataclass
class Field:
    kind: str  # text, textarea, select, checkbox, radio, hidden, submit, file, date, number, ...
    options: list = field(default_factory=list)
    multiple: bool = False


@dataclass
class Discovery:
    #: POST endpoint -> {field name: Field}
    posts: dict = field(default_factory=dict)
    #: GET endpoint -> {query argument: Field}
    lists: dict = field(default_factory=dict)
    #: GET endpoint -> the role that opened it
    pages: dict = field(default_factory=dict)
    #: POST endpoint -> the first GET route key showing its form (opened before posting, as a
    #: person does: some pages prepare their form, e.g. a second factor's new key)
    shown_on: dict = field(default_factory=dict)
    #: POST endpoint -> (role, URL its form posts to, page URL) on the page of tests/fuzz_states.py
    #: opened for it (its object in the state that shows the form): where it is fuzzed
    targets: dict = field(default_factory=dict)


def _add(fields: dict, name: str, kind: str, value: str | None = None, multiple: bool = False) -> None:
    spec = fields.setdefault(name, Field(kind))
    if spec.kind in ("hidden", "submit") and kind not in ("hidden", "submit"):
        spec.kind = kind  # the visible field says what it is
    if value is not None and value not in spec.options:
        spec.options.append(value)
    spec.multiple = spec.multiple or multiple or (kind == "checkbox" and len(spec.options) > 1)


class FormParser(HTMLParser):
    """Every <form> as {method, action, fields}; a submit button's ``formaction`` adds a form of
    the same fields posting there; a control's ``form="id"`` attribute is honoured."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self.by_id, self.extra = page_url, [], {}, []
        self.current = self.select = self.option = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or self.page_url,
                            "fields": {}}
            self.forms.append(self.current)
            self.by_id[a.get("id")] = self.current
            return
        form = self.by_id.get(a["form"]) if a.get("form") else self.current
        name, kind = a.get("name"), (a.get("type") or ("submit" if tag == "button" else "text")).lower()
        if form is None:
            return
        if tag in ("input", "button") and kind in ("submit", "image") and a.get("formaction"):
            self.extra.append({**form, "action": a["formaction"]})
        if tag == "option" and self.select:
            self.option = [a.get("value"), ""]
        elif not name or kind in ("button", "reset"):
            return
        elif tag in ("input", "button"):
            default = "on" if kind in ("checkbox", "radio") else ""
            _add(form["fields"], name, "submit" if kind == "image" else kind, a.get("value") or default)
        elif tag == "textarea":
            _add(form["fields"], name, "textarea")
        elif tag == "select":
            self.select = (form["fields"], name)
            _add(form["fields"], name, "select", multiple="multiple" in a)

    def handle_data(self, data):
        if self.option:
            self.option[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "option" and self.option and self.select:
            value, text = self.option
            _add(*self.select, "select", text.strip() if value is None else value)
            self.option = None

    def all_forms(self) -> list:
        return self.forms + self.extra


def _noting(name: str):
    def method(self, key, *args, **kwargs):
        _Recording.asked.add(key)
        return getattr(ImmutableMultiDict, name)(self, key, *args, **kwargs)
    return method


class _Recording(ImmutableMultiDict):
    """Query arguments that note every name a view asks for."""
    asked: set = set()
    get, getlist, __contains__, __getitem__ = map(_noting, ("get", "getlist", "__contains__", "__getitem__"))


_RecordingRequest = type("_RecordingRequest", (Request,), {"parameter_storage_class": _Recording})


def _endpoint(adapter, action: str, method: str) -> str | None:
    try:
        return adapter.match(urlsplit(action).path, method=method)[0]
    except HTTPException:
        return None


def _visit(clients, adapter, key: str, role: str, url: str, extra: tuple | None = None) -> None:
    """Open ``url`` (GET route ``key``) as ``role`` and collect its forms; ``extra``: a page of
    tests/fuzz_states.py and the POST endpoints it is opened for (each must be there)."""
    found, client = clients.found, clients.client(role)
    g.pop("_login_user", None)
    _Recording.asked = set()
    response = client.get(url)
    db.session.rollback()
    endpoint = key[4:]
    if response.status_code != 200 or "html" not in response.content_type:
        assert extra is None, f"{key} {url} as {role}: {response.status_code}"
        return
    if extra is None:  # the lists are fuzzed at the table's URLs only (tests/test_fuzz_lists.py)
        found.pages.setdefault(endpoint, role)
        for name in _Recording.asked - {"next"}:
            _add(found.lists.setdefault(endpoint, {}), name, "text")
    parser = FormParser(url)
    parser.feed(response.get_data(as_text=True))
    for form in parser.all_forms():
        method = "POST" if form["method"] == "post" else "GET"
        target = _endpoint(adapter, form["action"], method)
        if target is None or (extra is not None and (method == "GET" or target not in extra)):
            continue
        if extra is not None:
            found.targets.setdefault(target, (role, form["action"], url))
        elif method == "POST":
            found.shown_on.setdefault(target, key)
        table = found.posts if method == "POST" else found.lists
        fields = table.setdefault(target, {})
        for name, spec in form["fields"].items():
            if name.endswith("csrf_token"):  # tests run without CSRF (TestConfig)
                continue
            for value in spec.options or [None]:
                _add(fields, name, spec.kind, value, spec.multiple)
    missing = [endpoint for endpoint in extra or () if endpoint not in found.targets]
    assert not missing, f"{key} {url} as {role} shows no form of {missing}"


def discover(clients) -> Discovery:
    """Open every GET route of the table as each role allowed on it, then the extra pages of
    tests/fuzz_states.py, and collect their forms into ``clients.found`` (``clients``: a
    fuzz_helpers.Fuzz, its clients signed in per role)."""
    from .fuzz_states import PAGES, page_url
    app = clients.app
    adapter = app.url_map.bind("localhost")
    app.request_class, plain = _RecordingRequest, app.request_class
    try:
        for key in sorted(k for k in ROUTES if k.startswith("GET ")):
            for role in sorted(ROUTES[key].roles):
                _visit(clients, adapter, key, role, clients.url(key))
        for role, key, args, routes in PAGES:
            _visit(clients, adapter, key, role, page_url(app, clients.world, key, args), routes)
    finally:
        app.request_class = plain
    return clients.found
