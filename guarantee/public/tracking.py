"""The tracking link is a capability URL. Its first visit swaps the token for a short-lived,
signed, HttpOnly cookie and redirects to the same page without the token, so the token
does not stay in the address bar, the history, a bookmark someone else sees, or a log.

The cookie holds the ids of tracking tokens (never a token), so revoking a token ends the
sessions it opened. It lapses an hour after the last page seen, and 12 hours after the link
was opened however busy the session. Over HTTPS (or when the service's address is https) it
is a ``__Host-`` cookie (Secure, Path=/, no Domain).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from itsdangerous import BadData, URLSafeSerializer
from werkzeug.wrappers import Response

LIFETIME_SECONDS = 60 * 60  # an hour after the last page seen
ABSOLUTE_SECONDS = 12 * 60 * 60  # after this, open the link again
MAX_CLAIMS = 5  # claims one browser can have open at once
COOKIE_MAX_AGE: int | None = None  # the cookie itself: a browser-session cookie (the cookies page says so)
_SALT = "guarantee tracking session v3"  # a new format, a new salt: old cookies never decode


def served_securely() -> bool:
    """Over HTTPS, or behind a proxy that ends TLS for a service whose address is https."""
    return request.is_secure or str(current_app.config["GUARANTEE_BASE_URL"]).startswith("https://")


def cookie_name() -> str:
    return "__Host-tracking" if served_securely() else "tracking"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


Opened = dict[str, tuple[int, int]]  # reference -> (tracking token id, when the link was opened)


def _now() -> int:
    """Seconds since the epoch on the service's clock (the one the tests move)."""
    return int(current_app.extensions["guarantee.clock"].now().timestamp())


def opened_claims() -> Opened:
    """The claims this browser opened with their links, still inside both time limits."""
    raw = request.cookies.get(cookie_name())
    if not raw:
        return {}
    try:
        value: Any = _serializer().loads(raw)
    except BadData:  # forged, from another format of the cookie, or not one at all: not opened
        return {}
    now = _now()
    if not isinstance(value, dict) or not isinstance(value.get("seen"), int) or not isinstance(value.get("open"), dict):
        return {}
    if not 0 <= now - value["seen"] <= LIFETIME_SECONDS:
        return {}
    oldest = now - ABSOLUTE_SECONDS
    opened: Opened = {}
    for reference, entry in value["open"].items():
        well_formed = isinstance(entry, list) and len(entry) == 2 and all(isinstance(n, int) for n in entry)
        if well_formed and entry[1] >= oldest:
            opened[str(reference)] = (entry[0], entry[1])
    return opened


def token_id_for(reference: str) -> int | None:
    entry = opened_claims().get(reference)
    return entry[0] if entry else None


def opened_now(token_id: int) -> tuple[int, int]:
    return token_id, _now()


def remember(response: Response, claims: Opened) -> Response:
    """(Re)issue the cookie: it lasts an hour from now and ends with the browser session."""
    kept = {reference: list(entry) for reference, entry in list(claims.items())[-MAX_CLAIMS:]}
    response.set_cookie(
        cookie_name(),
        _serializer().dumps({"seen": _now(), "open": kept}),
        max_age=COOKIE_MAX_AGE,
        secure=served_securely(),
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
