"""``flask keys status --verify``: find stored values that fail to decrypt (moved between rows,
tampered, or under a key the ring lacks).  Pages show such a value as "복호화할 수 없는 값"
(app.db.Unreadable) and rotation stops on it; this names them so an operator can restore
them from a backup.  Reports table, column and row uid only — never a value or ciphertext."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from .crypto import DecryptionError
from .db import EncryptedTable, encrypted_tables, keyring
from .extensions import db

BATCH = 2000


@dataclass(frozen=True)
class UnreadableValue:
    table: str
    column: str
    uid: str


def find_unreadable(tables: list[EncryptedTable] | None = None) -> list[UnreadableValue]:
    """Every stored value that does not decrypt and load, table by table in id order."""
    ring = keyring()
    found: list[UnreadableValue] = []
    for et in encrypted_tables() if tables is None else tables:
        id_col, uid_col = et.col("id"), et.col("uid")
        cols = [et.col(f.column) for f in et.fields]
        last = 0
        while True:
            rows = db.session.execute(select(id_col, uid_col, *cols).where(id_col > last)
                                      .order_by(id_col).limit(BATCH)).all()
            if not rows:
                break
            last = rows[-1][0]
            for row in rows:
                for n, f in enumerate(et.fields):
                    stored = row[2 + n]
                    if stored is None:
                        continue
                    try:
                        f.load(ring.decrypt(stored, et.name, f.column, row[1]))
                    except (DecryptionError, ValueError):
                        found.append(UnreadableValue(et.name, f.column, row[1]))
    db.session.rollback()  # end the read (on SQLite every transaction holds the write lock)
    return found
