"""Alembic environment: migrations run against the app's own engine and metadata."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from guarantee.models.base import UTCDateTime

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Migrations stand alone: our UTC column type is written as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=db.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=db.engine.dialect.name == "sqlite",
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A test or a command may hand us its own connection.
    connection = config.attributes.get("connection")
    if connection is None:
        with db.engine.connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    options = {
        "compare_type": True,
        "render_as_batch": connection.dialect.name == "sqlite",
        "render_item": render_item,
        **current_app.extensions["migrate"].configure_args,
    }
    context.configure(connection=connection, target_metadata=target_metadata, **options)
    # SQLite changes a table by building a new one and dropping the old, which its foreign keys
    # refuse while other tables' rows refer to it: they are off while migrating (the pragma has no
    # effect inside a transaction), then on again and checked.
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    if sqlite and (broken := connection.connection.driver_connection.execute("PRAGMA foreign_key_check").fetchall()):
        raise RuntimeError(f"After migrating, rows refer to rows that are gone: {sorted({row[0] for row in broken})}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
