"""Configuration: defaults, overridden by GUARANTEE_* variables and DATABASE_URL."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from typing import Any

import orjson

from workflows import CLOCKS

DEFAULT_WORKING_DAYS: dict[str, int] = {name: c.default_working_days for name, c in CLOCKS.items()}


class Config:
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: SQLite under instance/
    # hide_parameters: a logged database error must not carry the values (personal data).
    # JSON columns (audit payloads) are read with orjson: `audit verify` reads millions of them.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {
        "pool_pre_ping": True,
        "hide_parameters": True,
        "json_deserializer": orjson.loads,
    }
    # Working days allowed by each clock, e.g. GUARANTEE_WORKING_DAYS='{"decision": 15}'.
    GUARANTEE_WORKING_DAYS: dict[str, int] = DEFAULT_WORKING_DAYS
    # The Ed25519 private key that signs audit checkpoints (PEM); made on first use.
    GUARANTEE_AUDIT_SIGNING_KEY: str | None = None
    # The service's public address: every link on a page and in an e-mail starts with it. `make run`
    # sets it to the address it serves on; in production it must be https (check_production).
    GUARANTEE_BASE_URL = "http://127.0.0.1:8000"
    # "production" makes the service refuse to start without an https GUARANTEE_BASE_URL.
    GUARANTEE_ENVIRONMENT = "development"
    # How many days the link in each e-mail to a group opens its claim (to the end of that UK day).
    GUARANTEE_TRACKING_LINK_DAYS = 30
    # Working days an admin has to follow up a group's answer that the remedy is not in place.
    GUARANTEE_REMEDY_FOLLOW_UP_DAYS = 20
    GUARANTEE_LOG_JSON = True
    GUARANTEE_SWEEP_BATCH = 100
    # How many reverse proxies stand in front (0: none; trust no X-Forwarded-* header).
    GUARANTEE_PROXY_HOPS = 0
    # Evidence files, outside the web root; default: instance/evidence.
    GUARANTEE_EVIDENCE_DIR: str | None = None
    # E-mail. With no SMTP host, messages are written as files under GUARANTEE_MAIL_DIR
    # (default instance/mail) and logged, so that a newcomer sees them with no mail server.
    GUARANTEE_MAIL_DIR: str | None = None
    GUARANTEE_MAIL_FROM = "no-reply@guarantee.invalid"
    GUARANTEE_MAIL_FROM_NAME = "Co-production Guarantee"
    GUARANTEE_SMTP_HOST: str | None = None
    GUARANTEE_SMTP_PORT = 587
    GUARANTEE_SMTP_SECURITY = "starttls"  # none, starttls or tls
    GUARANTEE_SMTP_USERNAME: str | None = None
    GUARANTEE_SMTP_PASSWORD: str | None = None
    GUARANTEE_SMTP_CA_FILE: str | None = None  # a private relay's CA (PEM); public CAs need nothing
    GUARANTEE_MAIL_MAX_ATTEMPTS = 12  # over about 20 hours; then failed, and shown in the console
    # Signed webhooks (issue 24; guarantee.webhooks). Endpoints must be public https addresses
    # unless these allow http, or private and loopback addresses (tests, intranet receivers).
    GUARANTEE_WEBHOOKS_ALLOW_HTTP = False
    GUARANTEE_WEBHOOKS_ALLOW_PRIVATE = False
    GUARANTEE_WEBHOOKS_MAX_ATTEMPTS = 8  # over about 2 hours; then the message has failed
    # The appeals team's shared mailbox. An appeal on a claim that no officer holds is sent there;
    # with none, to every active appeal panel member who has not turned appeals off.
    GUARANTEE_APPEALS_TEAM_EMAIL: str | None = None
    # Published statistics (DESIGN 7): the ONS 10-5 rule by default; the first day the cumulative
    # series counts; the epsilon of each table in a release with noise (differential privacy).
    GUARANTEE_STATISTICS_THRESHOLD = 10
    GUARANTEE_STATISTICS_ROUNDING_BASE = 5
    GUARANTEE_STATISTICS_DOMINANCE_BELOW = 25
    GUARANTEE_STATISTICS_SERIES_START = "2026-01-01"
    GUARANTEE_STATISTICS_EPSILON = 0.5
    # The decision register (issue 20): a statement is shown only where at least this many decided
    # claims share what it shows of the rule, region, sector, category and quarter.
    GUARANTEE_REGISTER_MIN_CLAIMS = 5
    # How long a worker may reuse what it worked out of the register while nothing has changed.
    GUARANTEE_REGISTER_CACHE_SECONDS = 30
    # Retention (UK GDPR Article 5(1)(e)): months after a claim ends (closed, withdrawn, lapsed or
    # resolved) that its group's contact details and its evidence files are kept; then erased by
    # `flask guarantee retention`. The privacy notice states the same values.
    GUARANTEE_RETENTION_CONTACT_MONTHS = 24
    GUARANTEE_RETENTION_EVIDENCE_MONTHS = 24
    # The council that runs the service (issue 21): named on every page's footer and on the legal
    # pages (/accessibility, /privacy, /cookies, /contact). Each default below is a placeholder that
    # a council must replace before going live (PLACEHOLDERS): the pages mark it and /readyz lists it.
    GUARANTEE_COUNCIL_NAME = "Example Council"
    GUARANTEE_COUNCIL_EMAIL = "guarantee@council.example"
    GUARANTEE_COUNCIL_PHONE = "01632 960000"  # Ofcom's range for drama: no one's number
    # The postal address, one line after another (separated by ";" or new lines in the environment).
    GUARANTEE_COUNCIL_ADDRESS: tuple[str, ...] = (
        "Example Council",
        "Town Hall",
        "Example Street",
        "Exampletown",
        "EX1 1AA",
    )
    GUARANTEE_COUNCIL_OPENING_HOURS = "Monday to Friday, 9am to 5pm, except bank holidays"
    # Working days the council takes to answer a request for help, another format, or a complaint.
    GUARANTEE_COUNCIL_REPLY_DAYS = 10
    # The council's own complaints procedure (a web page), if it has one; else complaints go by e-mail.
    GUARANTEE_COUNCIL_COMPLAINTS_URL: str | None = None
    # UK GDPR: the data protection officer, and the council's number in the ICO's register of fee payers.
    GUARANTEE_COUNCIL_DPO_NAME = "Example Council's data protection officer"
    GUARANTEE_COUNCIL_DPO_EMAIL = "dpo@council.example"
    GUARANTEE_COUNCIL_ICO_REGISTRATION = "Z0000000"
    # Accessibility statement: how far the service meets WCAG 2.2 AA (fully, partially or not), as the
    # council judges it, and the day of its last review by hand (none until the council has made one).
    GUARANTEE_ACCESSIBILITY_COMPLIANCE = "partially"
    GUARANTEE_ACCESSIBILITY_REVIEWED_ON: date | None = None
    # The JSON API.
    MAX_CONTENT_LENGTH = 1024 * 1024
    GUARANTEE_API_TOKEN_MINUTES = 30
    # Admins must use two-step verification (a code from an authenticator app) to sign in.
    GUARANTEE_ADMIN_TWO_STEP = False
    # The key that seals officers' two-step secrets (32 bytes: 64 hex digits or base64), or a file
    # holding it; with neither, instance/two-step-key, made the first time. Kept out of the database.
    GUARANTEE_TWO_STEP_KEY: str | None = None
    GUARANTEE_TWO_STEP_KEY_FILE: str | None = None
    GUARANTEE_TOKEN_RATE_LIMIT = "10 per minute"  # noqa: S105 (a rate, not a secret)
    GUARANTEE_SUBMISSION_RATE_LIMIT = "30 per hour"
    # Pages of the claim form sent (each saves the answers so far), per address.
    GUARANTEE_FORM_PAGE_RATE_LIMIT = "300 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    # Pages: CSRF tokens last as long as the browser session (a long form must not expire),
    # and the session cookie is HttpOnly and SameSite.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_NAME = "session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    RATELIMIT_HEADERS_ENABLED = True
    # --- Single sign-on (OpenID Connect, issue 24; guarantee/single_sign_on/) ---
    # The council's identity provider: its issuer (discovery at <issuer>/.well-known/openid-configuration),
    # and this service's client there. With no issuer, officers sign in with a password only.
    GUARANTEE_OIDC_ISSUER: str | None = None
    GUARANTEE_OIDC_CLIENT_ID: str | None = None
    GUARANTEE_OIDC_CLIENT_SECRET: str | None = None
    GUARANTEE_OIDC_CLIENT_SECRET_FILE: str | None = None
    # The button's words on the sign-in page; None: "Sign in with your council account" (translated).
    GUARANTEE_OIDC_NAME: str | None = None
    # The ID token's acr values that count as multi-factor authentication (as amr "mfa" always does).
    GUARANTEE_OIDC_MFA_ACR: tuple[str, ...] = ()
    # Tests only: the token endpoint to use instead of the discovery document's (a proxy between).
    GUARANTEE_OIDC_TOKEN_ENDPOINT: str | None = None
    # False (GUARANTEE_PASSWORD_SIGN_IN=off): officers sign in only through the identity provider.
    GUARANTEE_PASSWORD_SIGN_IN = True
    # --- end of single sign-on ---


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (tests only)
    GUARANTEE_LOG_JSON = False
    RATELIMIT_ENABLED = False  # tests that need limits switch them on
    GUARANTEE_TWO_STEP_KEY = "7e57" * 16  # tests only: never the developer's instance/two-step-key
    GUARANTEE_REGISTER_CACHE_SECONDS = 0  # tests write rows by hand, leaving no event behind


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Settings given in the environment, parsed."""
    settings: dict[str, Any] = {}
    if environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = environ["DATABASE_URL"]
    if environ.get("GUARANTEE_SECRET_KEY"):
        settings["SECRET_KEY"] = environ["GUARANTEE_SECRET_KEY"]
    if environ.get("GUARANTEE_WORKING_DAYS"):
        days = json.loads(environ["GUARANTEE_WORKING_DAYS"])
        unknown = set(days) - set(DEFAULT_WORKING_DAYS)
        if unknown or not all(isinstance(v, int) and v > 0 for v in days.values()):
            raise ValueError(
                "GUARANTEE_WORKING_DAYS must map clock names "
                f"({', '.join(DEFAULT_WORKING_DAYS)}) to positive whole numbers"
            )
        settings["GUARANTEE_WORKING_DAYS"] = {**DEFAULT_WORKING_DAYS, **days}
    for name in (
        "GUARANTEE_MAIL_DIR",
        "GUARANTEE_MAIL_FROM",
        "GUARANTEE_MAIL_FROM_NAME",
        "GUARANTEE_SMTP_HOST",
        "GUARANTEE_SMTP_SECURITY",
        "GUARANTEE_SMTP_USERNAME",
        "GUARANTEE_SMTP_PASSWORD",
        "GUARANTEE_SMTP_CA_FILE",
        "GUARANTEE_AUDIT_SIGNING_KEY",
        "GUARANTEE_BASE_URL",
        "GUARANTEE_ENVIRONMENT",
        "GUARANTEE_EVIDENCE_DIR",
        "GUARANTEE_TOKEN_RATE_LIMIT",
        "GUARANTEE_SUBMISSION_RATE_LIMIT",
        "GUARANTEE_FORM_PAGE_RATE_LIMIT",
        "GUARANTEE_STATISTICS_SERIES_START",
        "GUARANTEE_TWO_STEP_KEY",
        "GUARANTEE_TWO_STEP_KEY_FILE",
    ):
        if environ.get(name):
            settings[name] = environ[name]
    if environ.get("GUARANTEE_APPEALS_TEAM_EMAIL"):
        address = environ["GUARANTEE_APPEALS_TEAM_EMAIL"].strip()
        if not re.fullmatch(r"[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+", address):
            raise ValueError("GUARANTEE_APPEALS_TEAM_EMAIL must be one e-mail address, such as appeals@council.example")
        settings["GUARANTEE_APPEALS_TEAM_EMAIL"] = address
    if environ.get("GUARANTEE_RATELIMIT_STORAGE_URI"):
        settings["RATELIMIT_STORAGE_URI"] = environ["GUARANTEE_RATELIMIT_STORAGE_URI"]
    if environ.get("GUARANTEE_PROXY_HOPS"):
        settings["GUARANTEE_PROXY_HOPS"] = int(environ["GUARANTEE_PROXY_HOPS"])
    for number in (
        "GUARANTEE_SMTP_PORT",
        "GUARANTEE_MAIL_MAX_ATTEMPTS",
        "GUARANTEE_STATISTICS_THRESHOLD",
        "GUARANTEE_STATISTICS_ROUNDING_BASE",
        "GUARANTEE_STATISTICS_DOMINANCE_BELOW",
        "GUARANTEE_REGISTER_MIN_CLAIMS",
        "GUARANTEE_REGISTER_CACHE_SECONDS",
    ):
        if environ.get(number):
            settings[number] = int(environ[number])
    if settings.get("GUARANTEE_REGISTER_MIN_CLAIMS", 1) < 1:
        raise ValueError("GUARANTEE_REGISTER_MIN_CLAIMS must be a whole number of claims of at least 1, such as 5")
    if environ.get("GUARANTEE_TRACKING_LINK_DAYS"):
        days = environ["GUARANTEE_TRACKING_LINK_DAYS"].strip()
        if not days.isdigit() or not 1 <= int(days) <= 366:
            raise ValueError("GUARANTEE_TRACKING_LINK_DAYS must be a whole number of days from 1 to 366, such as 30")
        settings["GUARANTEE_TRACKING_LINK_DAYS"] = int(days)
    if environ.get("GUARANTEE_REMEDY_FOLLOW_UP_DAYS"):
        days = environ["GUARANTEE_REMEDY_FOLLOW_UP_DAYS"].strip()
        if not days.isdigit() or not 1 <= int(days) <= 250:
            raise ValueError(
                "GUARANTEE_REMEDY_FOLLOW_UP_DAYS must be a whole number of working days from 1 to 250, such as 20"
            )
        settings["GUARANTEE_REMEDY_FOLLOW_UP_DAYS"] = int(days)
    for months in ("GUARANTEE_RETENTION_CONTACT_MONTHS", "GUARANTEE_RETENTION_EVIDENCE_MONTHS"):
        if environ.get(months):
            value = environ[months].strip()
            if not value.isdigit() or not 1 <= int(value) <= 240:
                raise ValueError(f"{months} must be a whole number of months from 1 to 240, such as 24")
            settings[months] = int(value)
    if environ.get("GUARANTEE_STATISTICS_EPSILON"):
        settings["GUARANTEE_STATISTICS_EPSILON"] = float(environ["GUARANTEE_STATISTICS_EPSILON"])
    if environ.get("GUARANTEE_API_TOKEN_MINUTES"):
        settings["GUARANTEE_API_TOKEN_MINUTES"] = int(environ["GUARANTEE_API_TOKEN_MINUTES"])
    if environ.get("GUARANTEE_ADMIN_TWO_STEP"):
        settings["GUARANTEE_ADMIN_TWO_STEP"] = environ["GUARANTEE_ADMIN_TWO_STEP"].lower() in ("1", "true", "yes")
    if environ.get("GUARANTEE_LOG_JSON"):
        settings["GUARANTEE_LOG_JSON"] = environ["GUARANTEE_LOG_JSON"].lower() in ("1", "true", "yes")
    return settings | _council_settings(environ) | _single_sign_on_settings(environ) | _webhook_settings(environ)


# The settings whose defaults are placeholders: a live service must set each (the legal pages mark
# those they show still at their default, and /readyz lists them all in production).
PLACEHOLDERS: dict[str, object] = {
    "GUARANTEE_COUNCIL_NAME": Config.GUARANTEE_COUNCIL_NAME,
    "GUARANTEE_COUNCIL_EMAIL": Config.GUARANTEE_COUNCIL_EMAIL,
    "GUARANTEE_COUNCIL_PHONE": Config.GUARANTEE_COUNCIL_PHONE,
    "GUARANTEE_COUNCIL_ADDRESS": Config.GUARANTEE_COUNCIL_ADDRESS,
    "GUARANTEE_COUNCIL_DPO_NAME": Config.GUARANTEE_COUNCIL_DPO_NAME,
    "GUARANTEE_COUNCIL_DPO_EMAIL": Config.GUARANTEE_COUNCIL_DPO_EMAIL,
    "GUARANTEE_COUNCIL_ICO_REGISTRATION": Config.GUARANTEE_COUNCIL_ICO_REGISTRATION,
    "GUARANTEE_ACCESSIBILITY_REVIEWED_ON": Config.GUARANTEE_ACCESSIBILITY_REVIEWED_ON,
    # Not on a page, but no e-mail from an .invalid address would arrive.
    "GUARANTEE_MAIL_FROM": Config.GUARANTEE_MAIL_FROM,
}


def settings_to_set(config: dict[str, Any] | Any) -> list[str]:
    """The names of the council's settings still at their placeholder defaults."""
    return [name for name, default in PLACEHOLDERS.items() if config.get(name, default) == default]


EMAIL = re.compile(r"[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+")
COMPLIANCE = ("fully", "partially", "not")


def _one_line(name: str, value: str, example: str, longest: int = 200) -> str:
    text = value.strip()
    if not text or len(text) > longest or CONTROL_CHARACTER.search(text):
        raise ValueError(f"{name} must be one line of text, at most {longest} characters, such as {example}")
    return text


CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _council_settings(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """The council's name, contacts and legal details, each checked (a page shows them all)."""
    settings: dict[str, Any] = {}
    texts = {
        "GUARANTEE_COUNCIL_NAME": "Exampleshire County Council",
        "GUARANTEE_COUNCIL_OPENING_HOURS": "Monday to Friday, 9am to 5pm",
        "GUARANTEE_COUNCIL_DPO_NAME": "Jo Smith, data protection officer",
    }
    for name, example in texts.items():
        if environ.get(name):
            settings[name] = _one_line(name, environ[name], repr(example))
    for name in ("GUARANTEE_COUNCIL_EMAIL", "GUARANTEE_COUNCIL_DPO_EMAIL"):
        if environ.get(name):
            address = environ[name].strip()
            if not EMAIL.fullmatch(address) or len(address) > 254:
                raise ValueError(f"{name} must be one e-mail address, such as guarantee@council.example")
            settings[name] = address
    if environ.get("GUARANTEE_COUNCIL_PHONE"):
        phone = environ["GUARANTEE_COUNCIL_PHONE"].strip()
        if not re.fullmatch(r"\+?[0-9][0-9 ()-]{5,23}", phone):
            raise ValueError(
                "GUARANTEE_COUNCIL_PHONE must be a telephone number of digits, spaces and brackets, such as 0161 496 0000"
            )
        settings["GUARANTEE_COUNCIL_PHONE"] = phone
    if environ.get("GUARANTEE_COUNCIL_ADDRESS"):
        raw = environ["GUARANTEE_COUNCIL_ADDRESS"].replace("\r\n", "\n").replace("\n", ";")
        lines = tuple(line.strip() for line in raw.split(";") if line.strip())
        if not 2 <= len(lines) <= 8 or any(len(line) > 100 or CONTROL_CHARACTER.search(line) for line in lines):
            raise ValueError(
                "GUARANTEE_COUNCIL_ADDRESS must be a postal address of 2 to 8 lines separated by semicolons, "
                "such as 'Town Hall; High Street; Exampletown; EX1 1AA'"
            )
        settings["GUARANTEE_COUNCIL_ADDRESS"] = lines
    if environ.get("GUARANTEE_COUNCIL_REPLY_DAYS"):
        days = environ["GUARANTEE_COUNCIL_REPLY_DAYS"].strip()
        if not days.isdigit() or not 1 <= int(days) <= 60:
            raise ValueError(
                "GUARANTEE_COUNCIL_REPLY_DAYS must be a whole number of working days from 1 to 60, such as 10"
            )
        settings["GUARANTEE_COUNCIL_REPLY_DAYS"] = int(days)
    if environ.get("GUARANTEE_COUNCIL_COMPLAINTS_URL"):
        url = environ["GUARANTEE_COUNCIL_COMPLAINTS_URL"].strip()
        if not re.fullmatch(r"https://[^\s/?#<>\"]+(/[^\s<>\"]*)?", url):
            raise ValueError(
                "GUARANTEE_COUNCIL_COMPLAINTS_URL must be the https:// address of the council's complaints page, "
                "such as https://www.council.example/complaints"
            )
        settings["GUARANTEE_COUNCIL_COMPLAINTS_URL"] = url
    if environ.get("GUARANTEE_COUNCIL_ICO_REGISTRATION"):
        number = environ["GUARANTEE_COUNCIL_ICO_REGISTRATION"].strip().upper()
        if not re.fullmatch(r"Z[A-Z0-9]{7}", number):
            raise ValueError(
                "GUARANTEE_COUNCIL_ICO_REGISTRATION must be the council's 8-character number in the ICO's "
                "register of fee payers, starting with Z, such as Z1234567"
            )
        settings["GUARANTEE_COUNCIL_ICO_REGISTRATION"] = number
    if environ.get("GUARANTEE_ACCESSIBILITY_COMPLIANCE"):
        level = environ["GUARANTEE_ACCESSIBILITY_COMPLIANCE"].strip().lower()
        if level not in COMPLIANCE:
            raise ValueError("GUARANTEE_ACCESSIBILITY_COMPLIANCE must be fully, partially or not")
        settings["GUARANTEE_ACCESSIBILITY_COMPLIANCE"] = level
    if environ.get("GUARANTEE_ACCESSIBILITY_REVIEWED_ON"):
        given = environ["GUARANTEE_ACCESSIBILITY_REVIEWED_ON"].strip()
        try:
            settings["GUARANTEE_ACCESSIBILITY_REVIEWED_ON"] = date.fromisoformat(given)
        except ValueError:
            raise ValueError(
                "GUARANTEE_ACCESSIBILITY_REVIEWED_ON must be the date of the council's last accessibility review "
                "by hand, written year-month-day, such as 2026-11-30"
            ) from None
    return settings


def _single_sign_on_settings(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Single sign-on through the council's identity provider (guarantee/single_sign_on/)."""
    settings: dict[str, Any] = {}
    if environ.get("GUARANTEE_OIDC_ISSUER"):
        issuer = environ["GUARANTEE_OIDC_ISSUER"].strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", issuer):
            raise ValueError(
                "GUARANTEE_OIDC_ISSUER must be the identity provider's issuer address, such as "
                "https://login.microsoftonline.com/<tenant id>/v2.0"
            )
        settings["GUARANTEE_OIDC_ISSUER"] = issuer
    for name in ("GUARANTEE_OIDC_CLIENT_ID", "GUARANTEE_OIDC_CLIENT_SECRET", "GUARANTEE_OIDC_CLIENT_SECRET_FILE"):
        if environ.get(name):
            settings[name] = environ[name].strip()
    if environ.get("GUARANTEE_OIDC_NAME"):
        settings["GUARANTEE_OIDC_NAME"] = _one_line(
            "GUARANTEE_OIDC_NAME", environ["GUARANTEE_OIDC_NAME"], "'Sign in with your council account'", 80
        )
    if environ.get("GUARANTEE_OIDC_MFA_ACR"):
        settings["GUARANTEE_OIDC_MFA_ACR"] = tuple(environ["GUARANTEE_OIDC_MFA_ACR"].replace(",", " ").split())
    if environ.get("GUARANTEE_PASSWORD_SIGN_IN"):
        value = environ["GUARANTEE_PASSWORD_SIGN_IN"].strip().lower()
        if value not in ("on", "off"):
            raise ValueError("GUARANTEE_PASSWORD_SIGN_IN must be on or off")
        settings["GUARANTEE_PASSWORD_SIGN_IN"] = value == "on"
    return settings


def check_single_sign_on(config: dict[str, Any] | Any) -> None:
    """Refuse to start with single sign-on half set up, or with no way for officers to sign in."""
    issuer = config.get("GUARANTEE_OIDC_ISSUER")
    if not config.get("GUARANTEE_PASSWORD_SIGN_IN", True) and not issuer:
        raise ConfigurationError(
            "GUARANTEE_PASSWORD_SIGN_IN=off needs single sign-on: set GUARANTEE_OIDC_ISSUER, "
            "GUARANTEE_OIDC_CLIENT_ID and GUARANTEE_OIDC_CLIENT_SECRET, or no officer could sign in"
        )
    if not issuer:
        return
    secret = config.get("GUARANTEE_OIDC_CLIENT_SECRET") or config.get("GUARANTEE_OIDC_CLIENT_SECRET_FILE")
    if not config.get("GUARANTEE_OIDC_CLIENT_ID") or not secret:
        raise ConfigurationError(
            "GUARANTEE_OIDC_ISSUER is set: set GUARANTEE_OIDC_CLIENT_ID and GUARANTEE_OIDC_CLIENT_SECRET "
            "(or GUARANTEE_OIDC_CLIENT_SECRET_FILE) too, as registered at the identity provider"
        )
    if config.get("GUARANTEE_ENVIRONMENT") == "production" and not str(issuer).startswith("https://"):
        raise ConfigurationError(f"GUARANTEE_OIDC_ISSUER must be an https:// address in production; it is {issuer!r}")


ENVIRONMENTS = ("development", "production")


class ConfigurationError(RuntimeError):
    """A setting the service cannot start with; the message names it and says what to set."""


def check_production(config: dict[str, Any] | Any) -> None:
    """Refuse to start with settings that would break the service for its users: an unknown
    GUARANTEE_ENVIRONMENT, or, in production, links to an address that is not https."""
    environment = str(config.get("GUARANTEE_ENVIRONMENT") or "development")
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(f"GUARANTEE_ENVIRONMENT must be development or production, not {environment!r}")
    check_single_sign_on(config)
    if environment != "production":
        return
    base = str(config.get("GUARANTEE_BASE_URL") or "")
    if not re.fullmatch(r"https://[^\s/?#]+(/[^\s?#]*)?", base):
        raise ConfigurationError(
            "GUARANTEE_BASE_URL must be the service's public https:// address in production "
            f"(GUARANTEE_ENVIRONMENT=production), such as https://guarantee.council.example; it is {base!r}. "
            "Every link in the pages and e-mails starts with it."
        )


# --- signed webhooks (issue 24) ---------------------------------------------------------------

_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _webhook_settings(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """GUARANTEE_WEBHOOKS_ALLOW_HTTP and _ALLOW_PRIVATE (yes or no), _MAX_ATTEMPTS (1 to 20)."""
    settings: dict[str, Any] = {}
    for name in ("GUARANTEE_WEBHOOKS_ALLOW_HTTP", "GUARANTEE_WEBHOOKS_ALLOW_PRIVATE"):
        if environ.get(name):
            value = environ[name].strip().lower()
            if value not in _YES + _NO:
                raise ValueError(f"{name} must be true or false")
            settings[name] = value in _YES
    if environ.get("GUARANTEE_WEBHOOKS_MAX_ATTEMPTS"):
        tries = environ["GUARANTEE_WEBHOOKS_MAX_ATTEMPTS"].strip()
        if not tries.isdigit() or not 1 <= int(tries) <= 20:
            raise ValueError("GUARANTEE_WEBHOOKS_MAX_ATTEMPTS must be a whole number of tries from 1 to 20, such as 8")
        settings["GUARANTEE_WEBHOOKS_MAX_ATTEMPTS"] = int(tries)
    return settings
