"""Single sign-on for officers through the council's identity provider (OpenID Connect, issue 24).

The authorization code flow with PKCE (S256), through Authlib: ``state`` and ``nonce`` are kept in
the signed session cookie and checked; the ID token's signature is checked against the provider's
published keys (jwks_uri), and its ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` are required
and checked by the service's clock (guarantee.single_sign_on.tokens). Who may sign in, and as whom,
is decided in guarantee.single_sign_on.officers; the pages are in guarantee.single_sign_on.pages.
Roles stay in the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app
from flask_babel import gettext as _

from guarantee.config import ConfigurationError

# Only for its templates: the pages are the console's (guarantee.single_sign_on.pages).
templates = Blueprint("single_sign_on", __name__, template_folder="templates")
PROVIDER = "council"
CALLBACK_PATH = "/officer/sign-in/oidc/callback"


def _client_secret(config: Any) -> str:
    if config.get("GUARANTEE_OIDC_CLIENT_SECRET"):
        return str(config["GUARANTEE_OIDC_CLIENT_SECRET"])
    path = Path(config["GUARANTEE_OIDC_CLIENT_SECRET_FILE"])
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigurationError(
            f"GUARANTEE_OIDC_CLIENT_SECRET_FILE {str(path)!r} cannot be read: {error.strerror}"
        ) from None
    if not secret:
        raise ConfigurationError(
            f"GUARANTEE_OIDC_CLIENT_SECRET_FILE {str(path)!r} is empty: put the client secret in it"
        )
    return secret


def init_app(app: Flask) -> None:
    """Register the council's provider with Authlib, if GUARANTEE_OIDC_ISSUER is set (checked at
    start-up, with its client, by guarantee.config.check_single_sign_on)."""
    oauth = OAuth(app)
    app.register_blueprint(templates)
    app.extensions["guarantee.single_sign_on"] = None
    app.context_processor(lambda: {"single_sign_on_button": _button_words})
    issuer = app.config.get("GUARANTEE_OIDC_ISSUER")
    if not issuer:
        return
    app.extensions["guarantee.single_sign_on"] = oauth.register(
        PROVIDER,
        client_id=app.config["GUARANTEE_OIDC_CLIENT_ID"],
        client_secret=_client_secret(app.config),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        access_token_url=app.config.get("GUARANTEE_OIDC_TOKEN_ENDPOINT"),
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "default_timeout": 10},
    )


def _button_words() -> str | None:
    """The sign-in page's button, or None when single sign-on is not set up."""
    return button_words() if client() is not None else None


def button_words() -> str:
    """The sign-in button's words: the council's (GUARANTEE_OIDC_NAME) or ours, translated."""
    return str(current_app.config.get("GUARANTEE_OIDC_NAME") or _("Sign in with your council account"))


def client() -> Any:
    """The council's provider (Authlib's client), or None when single sign-on is not set up."""
    return current_app.extensions.get("guarantee.single_sign_on")


def redirect_uri() -> str:
    """The address the provider sends officers back to: register exactly this at the provider."""
    return str(current_app.config["GUARANTEE_BASE_URL"]).rstrip("/") + CALLBACK_PATH
