"""The tracking link is a capability URL. Its first visit swaps the token for a short-lived,
signed, HttpOnly cookie and redirects to the same page without the token, so the token
does not stay in the address bar, the history, a bookmark someone else sees, or a log.

The cookie holds the ids of tracking tokens (never a token), so revoking a token ends the
sessions it opened. Served over HTTPS it is a ``__Host-`` cookie (Secure, Path=/, no Domain).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

LIFETIME_SECONDS = 60 * 60  # an hour after the last page seen
MAX_CLAIMS = 5  # claims one browser can have open at once
_SALT = "guarantee tracking session"


def cookie_name() -> str:
    return "__Host-tracking" if request.is_secure else "tracking"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def opened_claims() -> dict[str, int]:
    """reference -> tracking token id, for the claims this browser opened recently."""
    raw = request.cookies.get(cookie_name())
    if not raw:
        return {}
    try:
        value: Any = _serializer().loads(raw, max_age=LIFETIME_SECONDS)
    except BadSignature:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}


def remember(response: Response, claims: dict[str, int]) -> Response:
    """(Re)issue the cookie: it lasts an hour from now and ends with the browser session."""
    kept = dict(list(claims.items())[-MAX_CLAIMS:])
    response.set_cookie(
        cookie_name(),
        _serializer().dumps(kept),
        secure=request.is_secure,
        httponly=True,
        samesite="Lax",
        path="/",
    )
    return response


def no_store(response: Response) -> Response:
    """Tracking pages are private: never cached, never sent on as a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
