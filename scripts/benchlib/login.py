"""Sign each role in once, through the real forms (CSRF token, password, then a TOTP code), and
keep its cookie session; a TOTP code works once per 30-second step per user, so a refused code
is retried with the next step's code."""
from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import pyotp

from .client import Result, Session

CSRF_INPUT = re.compile(r"<input[^>]*\bname=[\"']csrf_token[\"'][^>]*>", re.I)
VALUE = re.compile(r"\bvalue=[\"']([^\"']*)[\"']", re.I)
INTERVAL = 30


class SignInFailed(RuntimeError):
    pass


def csrf_token(page: str) -> str:
    """The CSRF token of the first form on the page (Flask-WTF's hidden ``csrf_token`` input)."""
    for tag in CSRF_INPUT.findall(page):
        found = VALUE.search(tag)
        if found:
            return html.unescape(found.group(1))
    raise ValueError("no csrf_token input on the page")


def hidden_fields(page: str, form_index: int = 0) -> dict:
    """Every hidden input of one form (the import confirmation carries its payload this way)."""
    forms = re.findall(r"<form\b.*?</form>", page, re.S | re.I)
    fields = {}
    for tag in re.findall(r"<input[^>]*>", forms[form_index] if forms else page, re.I):
        if re.search(r"type=[\"']hidden[\"']", tag, re.I):
            name = re.search(r"\bname=[\"']([^\"']+)[\"']", tag, re.I)
            value = VALUE.search(tag)
            if name:
                fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return fields


def load_logins(instance: Path) -> dict:
    path = Path(instance) / "scale-logins.json"
    if not path.exists():
        raise SystemExit(f"{path} is missing: build the data with `flask demo scale` first")
    return json.loads(path.read_text())


def _code(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret, digits=6, interval=INTERVAL).at(time.time() + offset_steps * INTERVAL)


def _wait_next_step() -> None:
    time.sleep(INTERVAL - time.time() % INTERVAL + 0.5)


def sign_in(host: str, port: int, login: str, password: str, totp_secret: str | None, tries: int = 3) -> Session:
    """A signed-in session for ``login``; raises SignInFailed with the page's status when refused."""
    session = Session(host, port)
    page = session.get("/login")
    result = session.post("/login", {"csrf_token": csrf_token(page.text()), "login": login,
                                     "password": password, "next": ""})
    if result.status != 302:
        raise SignInFailed(f"{login}: password step answered {result.status}")
    if "/login/code" in result.location:
        if not totp_secret:
            raise SignInFailed(f"{login}: the server asks for a code and scale-logins.json has no totp_secret")
        result = _code_step(session, login, totp_secret, tries)
    landing = session.follow(result)
    if landing.status != 200:
        raise SignInFailed(f"{login}: landing page answered {landing.status} ({landing.headers.get('location', '')})")
    return session


def _code_step(session: Session, login: str, secret: str, tries: int) -> Result:
    for attempt in range(tries):
        page = session.get("/login/code")
        if page.status != 200:
            raise SignInFailed(f"{login}: code page answered {page.status}")
        result = session.post("/login/code", {"csrf_token": csrf_token(page.text()), "code": _code(secret)})
        if result.status == 302:
            return result
        _wait_next_step()  # this step's code was used already (an earlier run): the next one works
    raise SignInFailed(f"{login}: the TOTP code was refused {tries} times")


def sign_in_all(host: str, port: int, logins: dict, roles: list[str]) -> dict[str, Session]:
    password = logins["password"]
    return {role: sign_in(host, port, logins["users"][role]["login"], password,
                          logins["users"][role].get("totp_secret")) for role in roles}


def refresh_sessions(sessions: dict[str, Session], logins: dict) -> list[str]:
    """Sign in again any role whose session lapsed (idle timeout during a long run); returns them."""
    renewed = []
    for role, session in sessions.items():
        probe = session.get("/")
        if probe.status in (301, 302, 303) and "/login" in probe.location:
            user = logins["users"][role]
            sessions[role] = sign_in(session.host, session.port, user["login"], logins["password"],
                                     user.get("totp_secret"))
            renewed.append(role)
    return renewed
