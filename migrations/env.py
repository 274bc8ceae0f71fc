"""Alembic environment for Flask-Migrate (Flask-SQLAlchemy 3): the app's engine and metadata."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    # keep the application's own loggers alive (tests and the CLI log through them)
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url",
                       target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline():
    """Emit SQL without a database connection (flask db upgrade --sql)."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_db.metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run against the app's engine, with batch mode for SQLite and type comparison."""
    def skip_empty_revisions(_context, _revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_revisions)
    with target_db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection if sqlite else None
        if sqlite:
            # batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced the drop of a
            # referenced table fails on a database that has data.  The pragma works only outside a
            # transaction, so it goes straight to the driver before SQLAlchemy begins one; the references
            # are checked again below before anything is committed.
            raw.execute("PRAGMA foreign_keys=OFF")
            # the engine issues BEGIN itself (db_setup), so SQLite's DDL is transactional: one
            # transaction for the whole run, and a refused step (0018's downgrade) undoes the steps
            # before it instead of leaving the database between revisions
            conf_args.setdefault("transactional_ddl", True)
        failed = False
        try:
            context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
            with context.begin_transaction():
                context.run_migrations()
                # the planner needs statistics (without them SQLite picked full scans at scale)
                analyze(connection)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"a migration left {len(broken)} broken foreign keys: {broken[:3]}")
        except BaseException:
            failed = True
            raise
        finally:
            if sqlite:
                # end any transaction the migration left open (undone if it failed), then enforce again
                connection.rollback() if failed else connection.commit()
                raw.execute("PRAGMA foreign_keys=ON")


def analyze(connection) -> None:
    """Refresh the query planner's statistics (bounded per index on SQLite, so it stays quick)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
    connection.exec_driver_sql("ANALYZE")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
