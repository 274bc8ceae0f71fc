"""Configuration: defaults here, secrets from instance/config.py or IEUM_* environment variables."""
import os
from datetime import timedelta

import click


class ConfigError(click.ClickException, RuntimeError):
    """The app cannot start as configured; the message says how to fix it.  A ClickException, so
    a ``flask`` command prints it as one line ("Error: …", exit 1) instead of a traceback."""


class Config:
    IEUM_ENV = "development"
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # default: sqlite in instance/, set in create_app
    #: database errors in logs and tracebacks never carry bound values (logins, names, notes)
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"hide_parameters": True}
    #: path of the key ring; IEUM_KEYS (JSON text) wins over it
    IEUM_KEYS_FILE = None
    IEUM_KEYS = None

    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    LANGUAGES = ("ko", "en")

    #: a session unused this long ends with a message (app/auth/session.py)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    #: however busy, a session ends this long after sign-in
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    #: how many days one yearly 개인정보 training counts (app/auth/handling.py, 시행령 제15조)
    HANDLING_TRAINING_VALID_DAYS = 365
    #: the signed cookie outlives the idle limit so the idle check, not the browser, ends the
    #: session, and can say why and audit it
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    #: number of trusted reverse proxies in front of the app (X-Forwarded-For / -Proto)
    PROXY_COUNT = 0
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds the token

    #: werkzeug's scrypt (n=2**15, r=8, p=1)
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    LOGIN_RATE_LIMIT = "20 per minute"
    #: roles that must sign in with a second factor (TOTP); everyone else may choose to
    TOTP_REQUIRED_ROLES = ("school_lead", "district_coordinator", "auditor", "admin")
    #: the name authenticator apps show next to the account
    TOTP_ISSUER = "이음"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = False

    PAGE_SIZE = 20
    #: validity of a guardian record check, months
    CHECK_VALIDITY_MONTHS = 12
    GUARDIAN_TRAINING_HOURS = 30
    REFERRAL_RESPONSE_BUSINESS_DAYS = 5
    AUDIT_RETENTION_YEARS = 2
    #: statistics outside the school team: a count below this is shown as "N 미만" (reports/suppression.py)
    REPORT_SMALL_CELL = 5
    #: district and city statistics are aggregates over the whole office or city (0.5–4 s at Seoul
    #: scale): each worker keeps a page's figures this long; the page says when they were counted
    REPORT_CACHE_SECONDS = 600
    #: append-only JSONL of signed chain heads (flask audit anchor); default instance/audit-anchors.jsonl
    AUDIT_ANCHOR_FILE = None
    #: SQL statement count and server time in response headers (app/profiling.py; scripts/bench)
    IEUM_REQUEST_STATS = False
    #: how long a SQLite writer waits for the lock before the request answers 503
    SQLITE_BUSY_TIMEOUT_MS = 10_000
    #: how long a worker's thread may keep the GIL while others wait for it (wsgi.py; Python's
    #: default is 5 ms): a thread back from a SQL statement waits this long at most
    THREAD_SWITCH_INTERVAL_MS = 1.0
    #: SQLite's page cache per connection, in KiB (db_setup.configure_engine)
    SQLITE_CACHE_KIB = 16_384
    #: seconds a client is told to wait (Retry-After) when the database stayed locked (SQLite)
    LOCKED_RETRY_AFTER = 2
    #: e-mail alerts (app/mail.py); without MAIL_HOST and MAIL_SENDER nothing is queued and the
    #: admin's outbox page says so
    MAIL_HOST = None
    MAIL_PORT = 587
    MAIL_TLS = "starttls"  # starttls | ssl | none
    MAIL_USER = None
    MAIL_PASSWORD = None
    MAIL_SENDER = None
    #: the address users open Ieum at: links in e-mail start with it
    IEUM_BASE_URL = "http://127.0.0.1:5000"


class TestConfig(Config):
    IEUM_ENV = "testing"
    TESTING = True
    REPORT_CACHE_SECONDS = 0  # every test sees the figures of its own data
    SECRET_KEY = "test-secret-key-not-for-production"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    #: still scrypt, at a cost that keeps hundreds of test logins fast
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    #: tests of other features sign leads and coordinators in with a password alone; the 2FA
    #: tests (tests/auth/test_totp*.py) turn Config.TOTP_REQUIRED_ROLES back on
    TOTP_REQUIRED_ROLES: tuple = ()


ENV_OVERRIDES = {
    "IEUM_ENV": "IEUM_ENV",
    "IEUM_SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "IEUM_KEYS": "IEUM_KEYS",
    "IEUM_KEYS_FILE": "IEUM_KEYS_FILE",
    "IEUM_RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
    "IEUM_PROXY_COUNT": "PROXY_COUNT",
    "IEUM_AUDIT_ANCHOR_FILE": "AUDIT_ANCHOR_FILE",
    "IEUM_REQUEST_STATS": "IEUM_REQUEST_STATS",
    "IEUM_MAIL_HOST": "MAIL_HOST",
    "IEUM_MAIL_PORT": "MAIL_PORT",
    "IEUM_MAIL_TLS": "MAIL_TLS",
    "IEUM_MAIL_USER": "MAIL_USER",
    "IEUM_MAIL_PASSWORD": "MAIL_PASSWORD",
    "IEUM_MAIL_SENDER": "MAIL_SENDER",
    "IEUM_BASE_URL": "IEUM_BASE_URL",
}


def apply_environment(config) -> None:
    """Copy IEUM_* and DATABASE_URL environment variables into the Flask config."""
    for env_name, key in ENV_OVERRIDES.items():
        if os.environ.get(env_name):
            config[key] = os.environ[env_name]
    config["PROXY_COUNT"] = int(config.get("PROXY_COUNT") or 0)
    if config["IEUM_ENV"] == "development":
        config["SESSION_COOKIE_SECURE"] = False
    url = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if url.startswith("postgres://"):  # Heroku-style URLs
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url[len("postgresql://"):]
