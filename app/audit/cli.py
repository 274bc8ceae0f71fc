"""flask audit verify | anchor | summarise | purge | export: the audit trail from the command line."""
from __future__ import annotations

import getpass
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from ..crypto import KeyRingError
from ..domain import DomainError
from ..extensions import db
from ..i18n import date_words
from .anchors import anchor_path, check_anchors, write_anchor
from .chain import purge_events, verify_chain
from .export import EXPORT_FORMATS, write_export
from .review_totals import settled_months_to_store, store_month

audit = AppGroup("audit", help="접속기록: 해시 체인 검증(verify), 앵커 기록(anchor), 지난달 점검 집계(summarise), "
                               "보존기한 삭제(purge), 내보내기(export)")
DATE = click.DateTime(formats=["%Y-%m-%d"])


def register_cli(app) -> None:
    app.cli.add_command(audit)


def cli_actor() -> SimpleNamespace:
    """Who ran the command, for the audit record: the operating-system account."""
    try:
        name = getpass.getuser()
    except Exception:  # no login name in some containers
        name = "unknown"
    return SimpleNamespace(id=None, login=f"cli:{name}"[:64], role="system", organisation_id=None)


@contextmanager
def progress_bar(label: str):
    """A progress callback (done, total) drawing a click bar on stderr, made on first use."""
    bars: list = []

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(click.progressbar(length=max(total, 1), label=label, file=sys.stderr))
            bars[0].__enter__()
        bars[0].update(max(done - bars[0].pos, 0))

    try:
        yield update
    finally:
        if bars:
            bars[0].__exit__(None, None, None)


@audit.command("verify")
def verify_command():
    """Walk the keyed chain (needs the key ring) and compare it with every anchor; exit 1 naming
    the first broken event, a forged checkpoint, a cut tail or deleted events."""
    try:
        with progress_bar(_("해시 체인 검증")) as update:
            result = verify_chain(progress=update)
        anchors = check_anchors() if result.ok else None
    except KeyRingError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"events: {result.count}")
    click.echo(f"head: {result.head or '-'}")
    if anchors is not None and anchors.checked:
        click.echo(f"anchors: {anchors.checked} ({anchor_path()})")
    if result.ok and anchors.ok:
        click.echo("OK")
        return
    if not result.ok:
        click.echo(f"BROKEN: first broken event id {result.first_broken_id or '-'}")
        click.echo(result.message)
    else:
        click.echo("BROKEN: the chain does not match an anchor")
        click.echo(anchors.message)
    sys.exit(1)


@audit.command("anchor")
def anchor_command():
    """Append the signed chain head to the anchor file (run hourly) and print it."""
    try:
        anchor = write_anchor()
    except (KeyRingError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(anchor, sort_keys=True, separators=(",", ":")))


@audit.command("summarise")
def summarise_command():
    """Store the access-review figures of every ended month not stored yet (run hourly)."""
    months = settled_months_to_store()
    stored = 0
    with progress_bar(_("접속기록 점검 집계")) as update:
        for done, first in enumerate(months, start=1):
            stored += store_month(first, actor=cli_actor())
            db.session.commit()  # one month at a time: the write lock is held briefly
            update(done, len(months))
    click.echo(_("집계한 달: %(count)d", count=stored))


@audit.command("purge")
@click.option("--before", required=True, type=DATE, help="이 날짜(KST) 이전 기록을 삭제 (보존기한 이전만)")
@click.option("--yes", is_flag=True, help="확인 없이 진행")
def purge_command(before, yes):
    """Remove events older than --before through a checkpoint (retention)."""
    if not yes:
        click.confirm(_("%(day)s 이전의 접속기록을 삭제합니다. 계속할까요?", day=date_words(before.date())), abort=True)
    try:
        with progress_bar(_("삭제 전 해시 체인 검증")) as update:
            checkpoint = purge_events(before.date(), actor=cli_actor(), progress=update)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    if checkpoint is None:
        click.echo(_("%(day)s 이전에 삭제할 접속기록이 없습니다.", day=date_words(before.date())))
        return
    click.echo(f"removed: {checkpoint.events_removed} events (ids up to {checkpoint.last_event_id})")
    click.echo(f"checkpoint: #{checkpoint.id}, chain continues from {checkpoint.last_event_hash}")


@audit.command("export")
@click.option("--from", "start", required=True, type=DATE, help="시작일 (KST, 포함)")
@click.option("--to", "end", required=True, type=DATE, help="종료일 (KST, 포함)")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="sqlite", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="만들 파일")
@click.option("--reason", required=True, help="내보내는 사유 (감사 기록에 남습니다)")
def export_command(start, end, fmt, out, reason):
    """Export events of a date range; the export itself is audited with its reason."""
    try:
        with progress_bar(_("내보내기")) as update:
            result = write_export(fmt, start.date(), end.date(), out, reason, actor=cli_actor(),
                                  progress=update)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    click.echo(f"rows: {result.rows}")
    click.echo(f"file: {result.path}")
    click.echo(f"chain head: {result.chain_head or '-'}")
    click.echo("verified: OK" if result.verified else "verified: FAILED (see the metadata)")
