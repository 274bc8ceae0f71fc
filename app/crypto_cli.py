"""flask keys init | status | rotate | retire.

Registered as a ``flask.commands`` entry point (setup.cfg) rather than on ``app.cli``, so that
``flask keys init`` works before a key ring exists (create_app refuses to start without one).
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import click
from flask.cli import with_appcontext

from .crypto import DecryptionError, KeyRing, KeyRingError
from .domain import DomainError

#: refusals and key problems become one clear line, never a traceback (messages hold no values)
SERVICE_ERRORS = (DomainError, KeyRingError, DecryptionError)

keys = click.Group("keys", help="암호화 키 관리 (init, status, rotate, retire)")


def default_key_file() -> Path:
    """instance/keys.json (or IEUM_KEYS_FILE), found without building the app."""
    if os.environ.get("IEUM_KEYS_FILE"):
        return Path(os.environ["IEUM_KEYS_FILE"])
    instance = os.environ.get("IEUM_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance"
    return Path(instance) / "keys.json"


@keys.command("init")
@click.option("--path", type=click.Path(path_type=Path), default=None, help="기본: instance/keys.json")
def init_command(path: Path | None):
    """Create a new key ring (mode 0600); refuses to overwrite an existing one."""
    path = path or default_key_file()
    if path.exists():
        raise click.ClickException(f"key ring already exists at {path}; it was left unchanged")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        KeyRing.generate(path).save(overwrite=False)  # no clobbering even if created meanwhile
    except KeyRingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created key ring {path} (mode 0600). Back it up: losing it loses the encrypted data.")


@keys.command("status")
@click.option("--verify", is_flag=True, help="also decrypt every value and name those that fail")
@with_appcontext
def status_command(verify: bool):
    """Show the active keys and how many values each key id encrypted, per table and column."""
    from .crypto_rotation import key_status  # imported late: 'flask keys init' needs no app
    status = key_status()
    click.echo(f"active data key: {status.active}    active index key: {status.index_active}    "
               f"active audit key: {status.audit_active or '- (run flask keys rotate --audit)'}")
    if status.rotation:
        click.echo("an interrupted rotation is pending: run 'flask keys rotate' to finish it")
    for kind, label in (("data", "data keys"), ("index", "index keys")):
        totals = ", ".join(f"{kid} {n}" for kid, n in status.totals(kind).items())
        click.echo(f"{label}: {totals or '-'}")
    width = max((len(c.table) + len(c.column) + 1 for c in status.columns), default=0)
    for col in status.columns:
        counts = "  ".join(f"{kid}={n}" for kid, n in col.counts.items())
        unknown = f"  unknown key={col.unknown}" if col.unknown else ""
        click.echo(f"  {(col.table + '.' + col.column).ljust(width)}  [{col.kind}]  {counts}{unknown}")
    if verify:
        _verify_values()


def _verify_values() -> None:
    """Name every value that fails to decrypt (table, column, row uid); exit 1 if any."""
    from .crypto_check import find_unreadable
    bad = find_unreadable()
    for value in bad:
        click.echo(f"  undecryptable: {value.table}.{value.column} row {value.uid}")
    if bad:
        raise click.ClickException(f"{len(bad)} values cannot be decrypted (moved, tampered or under a "
                                   "missing key); restore them from a backup. 'flask keys rotate' stops on them.")
    click.echo("every stored value decrypts.")


@keys.command("rotate")
@click.option("--index", "index", is_flag=True, help="also rotate the blind-index key and recompute indexes")
@click.option("--audit", "audit", is_flag=True,
              help="only start a new audit-chain key (history is not rewritten; old keys stay to verify it)")
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
@with_appcontext
def rotate_command(index: bool, audit: bool, batch_size: int):
    """Add a new active key and re-encrypt every value; safe to interrupt and run again."""
    from .crypto_rotation import rotate_audit_key, rotate_keys
    if audit:
        try:
            kid, recorded = rotate_audit_key()
        except SERVICE_ERRORS as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"new audit key {kid} is active; earlier events stay verifiable with the older audit keys. "
                   "Back up the key ring now.")
        if not recorded:
            click.echo("the audit trail has no key_id column yet: run 'flask db upgrade' to re-seal the chain.")
        return
    with contextlib.ExitStack() as stack:
        bar = []

        def progress(done: int, total: int) -> None:
            if not bar:  # the total is known only once the new key is saved
                bar.append(stack.enter_context(click.progressbar(length=total, label="re-encrypting rows")))
            bar[0].update(done)

        try:
            result = rotate_keys(index=index, batch_size=batch_size, progress=progress)
        except SERVICE_ERRORS as exc:
            raise click.ClickException(str(exc)) from None
    verb = "resumed rotation to" if result.resumed else "rotated to"
    click.echo(f"{verb} data key {result.active} (index key {result.index_active}): "
               f"{result.values} values re-encrypted and {result.blind_indexes} blind indexes "
               f"recomputed in {result.batches} batches.")
    if result.added:
        click.echo(f"new keys {', '.join(result.added)} were saved to the key ring file: back it up now.")
    if result.remaining:
        click.echo(f"{result.remaining} rows were written with an old key meanwhile; "
                   "run 'flask keys rotate' again to finish.")


@keys.command("retire")
@click.argument("kid")
@with_appcontext
def retire_command(kid: str):
    """Remove an old key from the ring; refused while any value still uses it."""
    from .crypto_rotation import retire_key
    try:
        retire_key(kid)
    except SERVICE_ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"retired key {kid}; it is gone from the key ring (and from backups made from now on).")

