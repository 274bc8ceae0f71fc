"""Ieum (이음): 학생맞춤통합지원 협업 플랫폼.

``create_app`` builds the application: config -> key ring -> extensions -> blueprints ->
CLI -> error handlers.  It never creates tables or runs migrations.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

from flask import Flask

from .config import Config, ConfigError, apply_environment
from .crypto import KeyRingError, load_keyring

FEATURES = ("auth", "admin", "home", "students", "cases", "guardians", "agencies", "conferences",
            "audit", "reports", "notifications", "records")


def create_app(config: dict | type | None = None) -> Flask:
    """Application factory; ``config`` (a dict or class) wins over files and environment."""
    app = Flask(__name__, instance_path=os.environ.get("IEUM_INSTANCE_PATH") or None,
                instance_relative_config=True)
    _load_config(app, config)
    if app.config["PROXY_COUNT"]:
        # behind a proxy the client's address and scheme come from its X-Forwarded-* headers
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from . import (cpu_share, errors, extensions, form_fields, i18n, input_guard, models, navigation,  # noqa: F401  (models: all tables)
                   profiling, security, submissions, transactions)
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(Path(app.root_path).parent / "migrations"),
                                render_as_batch=True, compare_type=True)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    input_guard.init_app(app)  # a NUL anywhere in a request: a Korean 400 before any view
    navigation.init_app(app)
    form_fields.init_app(app)
    cpu_share.init_app(app)
    errors.init_app(app)
    profiling.init_app(app)
    transactions.init_app(app)  # after security and profiling: its 503 gets their headers
    submissions.init_app(app)  # where a change's redirect went, kept for its repeats
    from .auth import account, handling, session as auth_session
    auth_session.init_app(app)
    account.init_app(app)  # after the session checks: a temporary password must be changed first
    handling.init_app(app)  # then the clearance gate: no personal data without approval and training
    with app.app_context():
        from .db_setup import configure_engine, secure_instance_folder
        secure_instance_folder(app.instance_path)  # 0700 whoever starts the app, whatever the umask
        configure_engine(extensions.db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"],  # SQLite files 0600 likewise
                         app.config["SQLITE_CACHE_KIB"])
        _refuse_a_ring_that_does_not_fit(app)
    from .integrity import flush_integrity_alarms
    app.teardown_request(flush_integrity_alarms)  # undecryptable values read in this request

    for name in FEATURES:
        package = importlib.import_module(f".{name}", __name__)
        # views and commands load only now, after every model is mapped, so one feature's
        # screens may use another feature's models and queries without import cycles
        parts = [importlib.import_module(f"{package.__name__}.{part}") for part in ("views", "cli")
                 if importlib.util.find_spec(f"{package.__name__}.{part}")]
        app.register_blueprint(package.bp)
        for part in parts:
            if hasattr(part, "register_cli"):
                part.register_cli(app)
    from . import cli, signals
    signals.connect_reactions()  # each feature's reactions.py connects its receivers on import
    cli.init_app(app)
    return app


def _refuse_a_ring_that_does_not_fit(app: Flask) -> None:
    """Start only with the key ring the database was written with (app/key_check.py)."""
    from .key_check import check_ring_fits
    problems = check_ring_fits(app.extensions["ieum_keyring"], app.config.get("SQLALCHEMY_DATABASE_URI") or "")
    if problems:
        from .extensions import db
        db.engine.dispose()  # this app will never serve: close what the check opened
        raise ConfigError(
            "the key ring does not fit this database: " + "; ".join(problems) + ". Restore the key ring that "
            "belongs to this database (a new ring cannot read its data); see README, 'Encryption keys'.")


def _load_config(app: Flask, config) -> None:
    app.config.from_object(Config)
    if config is None or (isinstance(config, dict) and not config.get("TESTING")):
        app.config.from_pyfile("config.py", silent=True)
    if isinstance(config, type):
        app.config.from_object(config)
    apply_environment(app.config)
    if isinstance(config, dict):
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'ieum.db'}"
    if not app.config.get("IEUM_KEYS_FILE"):
        app.config["IEUM_KEYS_FILE"] = str(Path(app.instance_path) / "keys.json")

    if not app.config.get("SECRET_KEY"):
        raise ConfigError(
            "SECRET_KEY is not set. Run scripts/run once (it writes instance/config.py), or put "
            "SECRET_KEY = '<random>' in instance/config.py, or set IEUM_SECRET_KEY.")
    if app.config["IEUM_ENV"] == "production" and app.config["SECRET_KEY"].startswith("test-"):
        raise ConfigError("the test SECRET_KEY must not be used in production")
    try:
        app.extensions["ieum_keyring"] = load_keyring(app.config)
    except KeyRingError as exc:
        raise ConfigError(f"cannot load the key ring: {exc}") from None
