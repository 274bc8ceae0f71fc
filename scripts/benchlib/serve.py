"""Serve the app and the bare hello with gunicorn, as in production, on free local ports."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from .client import Session

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(module: str, port: int, workers: int, threads: int = 1) -> list[str]:
    """The production command of README ("Production"), with the bench's worker count."""
    # threads > 1: gunicorn's gthread worker, as the README's production line runs it, so one
    # long export or import does not hold a whole worker's queue
    return [str(GUNICORN), "-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}", module]


def server_env(instance: str | None, database_url: str | None) -> dict:
    env = dict(os.environ)
    env["IEUM_REQUEST_STATS"] = "1"
    env.setdefault("IEUM_ENV", "production")  # secure cookies as in production; the bench sends them itself
    if instance:
        env["IEUM_INSTANCE_PATH"] = instance
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def served(module: str, *, workers: int = 2, threads: int = 1, env: dict | None = None, cwd: Path = ROOT,
           ready_path: str = "/", log: Path | None = None):
    """Start gunicorn for ``module`` and yield its port; stop it (its own process group) after."""
    port = free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL
    proc = subprocess.Popen(gunicorn_command(module, port, workers, threads), cwd=str(cwd), env=env or dict(os.environ),
                            stdout=out, stderr=out, start_new_session=True)
    try:
        try:
            _wait_ready(proc, port, ready_path)
        except RuntimeError as error:
            tail = log.read_text(errors="replace").splitlines()[-15:] if log and log.exists() else []
            raise RuntimeError("\n".join([str(error), *tail])) from None
        yield port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log:
            out.close()


def _wait_ready(proc: subprocess.Popen, port: int, path: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    probe = Session("127.0.0.1", port, timeout=5)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {proc.returncode} (see the server log)")
        try:
            if probe.get(path).status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} within {limit:.0f} s")
