"""guarantee: a Co-production Guarantee service."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from guarantee import (
    api,
    cli,
    console,
    health,
    i18n,
    input_guard,
    legal,
    models,  # noqa: F401  (registers every table on the metadata)
    pages,
    public,
    register,
    rules,
    security,
    single_sign_on,
    transactions,
    two_step_key,
)
from guarantee.clock import SystemClock
from guarantee.config import Config, check_production, from_environment, settings_to_set
from guarantee.database import configure_engine
from guarantee.extensions import db, limiter, migrate
from guarantee.logs import configure_logging
from guarantee.statistics import pages as statistics_pages

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(config: dict[str, Any] | type | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    app.config.update(from_environment(os.environ))
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)

    check_production(app.config)  # before anything is made or opened

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'guarantee.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    if not app.config.get("GUARANTEE_MAIL_DIR"):
        app.config["GUARANTEE_MAIL_DIR"] = str(instance / "mail")
    if not app.config.get("GUARANTEE_EVIDENCE_DIR"):
        app.config["GUARANTEE_EVIDENCE_DIR"] = str(instance / "evidence")
    if not app.config.get("GUARANTEE_AUDIT_SIGNING_KEY"):
        app.config["GUARANTEE_AUDIT_SIGNING_KEY"] = str(instance / "audit-signing-key.pem")

    configure_logging(app.config["GUARANTEE_LOG_JSON"])
    if app.config["GUARANTEE_ENVIRONMENT"] == "production" and (unset := settings_to_set(app.config)):
        # The service can serve, but its legal pages would name an example council: say so once.
        logging.getLogger(__name__).warning(
            "These settings still have their example values and must be set before going live: %s "
            "(the legal pages at /accessibility, /privacy and /contact show them; /readyz lists them)",
            ", ".join(unset),
        )
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, refuse_writes_while_reading=app.config["GUARANTEE_ENVIRONMENT"] != "production")
    transactions.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    two_step_key.init_app(app)  # refuses to start if the key cannot open the secrets in the database
    app.extensions["guarantee.clock"] = app.config.get("GUARANTEE_CLOCK") or SystemClock()

    if app.config["GUARANTEE_BASE_URL"].startswith("https://"):
        # Served over HTTPS: the session (and CSRF) cookie never travels in clear.
        app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-session")
    security.init_app(app)
    i18n.init_app(app)
    limiter.init_app(app)
    pages.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(statistics_pages.bp)
    app.register_blueprint(register.bp)
    legal.init_app(app)
    console.init_app(app)
    single_sign_on.init_app(app)  # the council's identity provider, if set up (issue 24)
    api.init_app(app)
    cli.init_app(app)
    input_guard.init_app(app)  # last: it runs after every blueprint's own hooks
    return app


def _instance_secret(path: Path) -> str:
    """A random secret kept in the instance folder, so a fresh clone needs no setup."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()
