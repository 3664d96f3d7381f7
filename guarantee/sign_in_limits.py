"""The limits on signing in, shared by every way in: the console's sign-in page and the API's
POST /api/v1/tokens count against the same numbers, so that neither is a way round the other.

- 5 failed attempts per client address *and* email in 15 minutes: enough for an officer who
  mistypes, too few to guess a password; counted per address as well as email, so that nobody can
  lock a real officer out from somewhere else.
- 50 failed attempts per client address in an hour, whatever the emails: one address cannot try
  a password against every officer.

Only failures count (a response of 400 or more): an officer who signs in many times a day is
never refused. Counts live in the limiter's storage (Redis in production), shared by every worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_limiter.util import get_remote_address

from guarantee.extensions import limiter

PER_ADDRESS_AND_EMAIL = "5 per 15 minutes"
PER_ADDRESS = "50 per hour"
MAX_EMAIL_KEY = 254  # the longest address there can be; a longer one is not an officer's


def _email() -> str:
    """The email the attempt is for, from the console's form or the API's JSON body."""
    if request.is_json:
        body = request.get_json(silent=True)
        email: Any = body.get("email") if isinstance(body, dict) else None
    else:
        email = request.form.get("email")
    return str(email or "").strip().lower()[:MAX_EMAIL_KEY]


def _address_and_email() -> str:
    return f"{get_remote_address()}|{_email()}"


def _failed(response: Response) -> bool:
    return response.status_code >= 400


def limited(view: Callable[..., Any]) -> Callable[..., Any]:
    """Count the view's failed POSTs against the shared sign-in limits."""
    view = limiter.shared_limit(
        PER_ADDRESS_AND_EMAIL,
        scope="sign-in:address-and-email",
        key_func=_address_and_email,
        methods=["POST"],
        deduct_when=_failed,
    )(view)
    return limiter.shared_limit(
        PER_ADDRESS, scope="sign-in:address", key_func=get_remote_address, methods=["POST"], deduct_when=_failed
    )(view)
