"""Messages stored for later readers, shown in each reader's language.

A chronology line or an alert is written once and read for years, by Korean and English readers.
Storing the Korean sentence would freeze it in one language, so a service passes the marked
message itself (``_l("%(name)s 학생의 사례를 선정했습니다", name=…)``): ``EncryptedMessage``
stores its msgid and parameters (encrypted, since parameters name people) and renders them
with the reader's catalogue on every read.  Plain strings (free text, lines written before this
existed) are stored and shown as they are.

Parameters may be text, numbers, dates (written for the reader: "2026. 12. 8." / "8 Dec 2026")
or other marked messages (a status label inside a sentence).  Particles computed for the Korean
word (words.particle) are parameters like any other; an English translation leaves them out.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask_babel import get_locale, gettext, pgettext
from flask_babel.speaklater import LazyString

from .db import EncryptedText
from .words import date_text

#: the first character of a stored message: a control character no typed text can carry
MARK = "\x1e"


def _pack(value: Any) -> Any:
    """A parameter as JSON: marked messages and dates keep what they are."""
    if isinstance(value, LazyString):
        return {"$msg": envelope(value)}
    if isinstance(value, dt.datetime):
        raise TypeError("a moment in a stored message: pass its date (or format the time)")
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


def envelope(message: LazyString) -> dict:
    """{"m": msgid, "a": parameters[, "c": context]} of a message marked with _l / lazy_pgettext."""
    func, args = message._func, message._args
    if func is pgettext or getattr(func, "__name__", "") == "pgettext":
        context, msgid = args
        packed = {"c": context, "m": msgid}
    else:
        (msgid,) = args
        packed = {"m": msgid}
    packed["a"] = {name: _pack(value) for name, value in message._kwargs.items()}
    return packed


def _unpack(value: Any, language: str) -> Any:
    if isinstance(value, dict):
        if "$date" in value:
            return date_text(dt.date.fromisoformat(value["$date"]), language)
        if "$msg" in value:
            return render(value["$msg"], language)
    return value


def render(packed: dict, language: str | None = None) -> str:
    """The stored message in the reader's language (the page's, or the default outside a request)."""
    if language is None:  # the page's language; outside a request, the forced or default one
        locale = get_locale()
        language = locale.language if locale else "ko"
    params = {name: _unpack(value, language) for name, value in packed.get("a", {}).items()}
    msgid, context = packed["m"], packed.get("c")  # variables, so pybabel extracts nothing here
    return gettext(msgid, **params) if context is None else pgettext(context, msgid, **params)


def pack_value(value: Any) -> Any:
    """A value for a stored JSON document (a referral's shared copy): marked messages and dates
    packed to be rendered for each reader by ``render_value``; lists packed item by item."""
    if isinstance(value, (list, tuple)):
        return [pack_value(item) for item in value]
    if isinstance(value, LazyString):
        return {"$msg": envelope(value)}
    return _pack(value)


def render_value(value: Any, language: str | None = None) -> Any:
    """A value packed by ``pack_value`` as text for the reader (lists joined with "; "); plain
    values, and documents stored before packing existed, as they are."""
    if isinstance(value, list):
        return "; ".join(str(render_value(item, language)) for item in value)
    if isinstance(value, dict) and ("$msg" in value or "$date" in value):
        if language is None:
            locale = get_locale()
            language = locale.language if locale else "ko"
        return _unpack(value, language)
    return value


def dump_message(value: Any) -> str:
    """What the encrypted column holds: a marked message as MARK + JSON, plain text as it is."""
    if isinstance(value, LazyString) and isinstance(getattr(value, "_args", None), tuple):
        return MARK + json.dumps(envelope(value), ensure_ascii=False, separators=(",", ":"))
    if not isinstance(value, str):
        raise TypeError("a stored message must be text or a message marked with _l")
    return value


class StoredMessage:
    """A decrypted stored message, rendered for whoever reads it."""

    __slots__ = ("packed",)

    def __init__(self, packed: dict) -> None:
        self.packed = packed

    def __str__(self) -> str:
        return render(self.packed)


class EncryptedMessage(EncryptedText):
    """An encrypted text field that keeps marked messages translatable (see the module doc)."""

    def dump(self, value: Any) -> str:
        return dump_message(value)

    def load(self, text: str) -> Any:
        if text.startswith(MARK):
            return StoredMessage(json.loads(text[1:]))
        return text

    def __set__(self, obj: Any, value: Any) -> None:
        if isinstance(value, str):  # typed text never poses as a stored message
            value = value.lstrip(MARK)
        super().__set__(obj, value)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        value = super().__get__(obj, owner)
        if obj is None:
            return value
        if isinstance(value, LazyString):  # just assigned: the cache holds what was set
            return render(envelope(value))
        return str(value) if isinstance(value, StoredMessage) else value
