"""Security headers on every response, files of evidence served safely, and trusting a reverse
proxy only when told to."""

from __future__ import annotations

import io
import secrets
from pathlib import Path

from flask import Flask, Response, current_app, g, request, send_file
from werkzeug.middleware.proxy_fix import ProxyFix


def csp_nonce() -> str:
    """This response's nonce, for the rare inline script or style a page must carry."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.csp_nonce
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
    if request.is_secure or str(current_app.config["GUARANTEE_BASE_URL"]).startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def evidence_download(path: Path, content_type: str, filename: str) -> Response:
    """A file of evidence as a download: never shown inline, never sniffed, never kept by a cache,
    and inert if a browser opened it anyway (a sandbox with nothing allowed, framed by no one).
    At most 10 MB, read whole, so no file handle outlives the request."""
    response = send_file(
        io.BytesIO(path.read_bytes()), mimetype=content_type, as_attachment=True, download_name=filename, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; frame-ancestors 'none'"
    return response


def init_app(app: Flask) -> None:
    hops = int(app.config.get("GUARANTEE_PROXY_HOPS", 0))
    if hops:
        # Behind that many proxies, believe X-Forwarded-For/-Proto/-Host (client address, HTTPS).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
