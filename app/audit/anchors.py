"""Anchors: the signed head of the audit chain, appended to a file outside the database.

``flask audit anchor`` (an hourly timer) appends one JSON line: the number of events after the
newest checkpoint up to the head, the head's id and hash, the time, the audit key id and an
HMAC over all of them.  Someone who can write to the database cannot cut the newest events or
delete one and relink without verify noticing, because the anchors they cannot rewrite (another
file, another permission, ideally shipped to another host) still name the old head and count.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from ..db import utcnow
from ..words import particle
from .raw import fetch_one, read_connection
from .services import keyring, mac_fields

ANCHOR_FIELDS = ("after_id", "count", "last_id", "hash", "time", "key_id")


def anchor_path() -> Path:
    """AUDIT_ANCHOR_FILE, or instance/audit-anchors.jsonl."""
    return Path(current_app.config.get("AUDIT_ANCHOR_FILE") or Path(current_app.instance_path) / "audit-anchors.jsonl")


def _mac(key: bytes, anchor: dict) -> str:
    return mac_fields(key, "audit_anchor", *(anchor[f] for f in ANCHOR_FIELDS))


def current_head() -> dict:
    """The chain's head as an anchor would name it (unsigned)."""
    with read_connection() as (conn, dialect):
        cp = fetch_one(conn, dialect, "SELECT MAX(last_event_id) FROM audit_checkpoint")[0] or 0
        count, last_id = fetch_one(conn, dialect, "SELECT COUNT(*), MAX(id) FROM audit_event WHERE id > ?", (cp,))
        head = fetch_one(conn, dialect, "SELECT hash FROM audit_event WHERE id = ?", (last_id,)) if last_id else None
    return {"after_id": int(cp), "count": int(count), "last_id": last_id and int(last_id),
            "hash": head[0] if head else None}


def write_anchor() -> dict:
    """Sign the current head and append it to the anchor file (created 0600); returns the anchor."""
    kid, key = keyring().audit_key()
    anchor = {**current_head(), "time": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "key_id": kid}
    anchor["mac"] = _mac(key, anchor)
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each line is written whole at the end; the file is never rewritten
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(anchor, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return anchor


def read_anchors(path: Path | None = None) -> list[tuple[int, dict | None]]:
    """(line number, anchor or None when the line does not parse) for every line of the file."""
    path = path or anchor_path()
    if not path.exists():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            out.append((number, data if isinstance(data, dict) else None))
        except ValueError:
            out.append((number, None))
    return out


def latest_anchor() -> dict | None:
    """The newest anchor line (for auditor exports), or None when there is none."""
    anchors = [a for _n, a in read_anchors() if a]
    return anchors[-1] if anchors else None


@dataclass
class AnchorCheck:
    ok: bool
    checked: int
    message: str


def check_anchors(path: Path | None = None) -> AnchorCheck:
    """Compare the chain with every anchor: a forged line, a rewritten head, a cut tail or
    deleted events are named (the chain walk itself checks the links and HMACs)."""
    keys = keyring().audit_key_bytes()
    anchors = read_anchors(path)
    with read_connection() as (conn, dialect):
        max_id = fetch_one(conn, dialect, "SELECT MAX(id) FROM audit_event")[0] or 0
        cp_last = fetch_one(conn, dialect, "SELECT MAX(last_event_id) FROM audit_checkpoint")[0] or 0
        for number, anchor in anchors:
            try:
                key = keys[anchor["key_id"]]
                valid = anchor is not None and _mac(key, anchor) == anchor.get("mac")
            except (KeyError, TypeError):
                valid = False
            if not valid:
                return AnchorCheck(False, number - 1, _("앵커 파일 %(line)d번째 줄의 서명이 맞지 않습니다 (앵커 위조·손상)",
                                                        line=number))
            last_id = anchor["last_id"]
            if not last_id or last_id <= cp_last:
                continue  # an empty chain, or a head purged since (through a signed checkpoint)
            if last_id > max_id:
                return AnchorCheck(False, number - 1, _("이벤트 #%(max_id)d 이후의 이벤트가 없습니다: 앵커 %(line)d번째 "
                                                        "줄은 #%(last_id)d까지 있었다고 기록합니다 (events after id "
                                                        "%(max_id)d are missing)", max_id=max_id, line=number,
                                                        last_id=last_id))
            purged = fetch_one(conn, dialect, "SELECT COALESCE(SUM(events_removed), 0) FROM audit_checkpoint "
                                              "WHERE last_event_id > ?", (anchor["after_id"],))[0]
            present = fetch_one(conn, dialect, "SELECT COUNT(*) FROM audit_event WHERE id > ? AND id <= ?",
                                (cp_last, last_id))[0]
            missing = anchor["count"] - int(purged) - present
            if missing:
                text = (_("이벤트 #%(last_id)d까지 %(n)d건이 앵커 %(line)d번째 줄과 다릅니다: 이벤트가 삭제되었습니다 "
                          "(deleted events)", last_id=last_id, n=abs(missing), line=number) if missing > 0 else
                        _("이벤트 #%(last_id)d까지 %(n)d건이 앵커 %(line)d번째 줄과 다릅니다: 이벤트가 끼워 넣기되었습니다 "
                          "(deleted events)", last_id=last_id, n=abs(missing), line=number))
                return AnchorCheck(False, number - 1, text)
            row = fetch_one(conn, dialect, "SELECT hash FROM audit_event WHERE id = ?", (last_id,))
            if row is None or row[0] != anchor["hash"]:
                return AnchorCheck(False, number - 1, _("이벤트 #%(id)d%(i)s 앵커 %(line)d번째 줄과 다릅니다 "
                                                        "(삭제 또는 다시 쓰기)", id=last_id,
                                                        i=particle(str(last_id), "이/가"), line=number))
    return AnchorCheck(True, len(anchors), _("앵커 %(n)d개와 일치", n=len(anchors)))
