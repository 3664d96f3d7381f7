"""Every response carries the security headers; pages need no inline script."""

from __future__ import annotations

import re

import pytest

from guarantee import create_app
from tests.conftest import _app_config

PATHS = [
    "/healthz",
    "/api/v1/workflow",
    "/api/docs/",
    "/openapi.json",
    "/api/v1/nope",
    "/nope",
    "/accessibility",
    "/cookies",
]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(app, path):
    response = app.test_client().get(path)
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}'", policy)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_each_response_gets_a_fresh_nonce(app):
    client = app.test_client()
    first = client.get("/healthz").headers["Content-Security-Policy"]
    second = client.get("/healthz").headers["Content-Security-Policy"]
    assert first != second


def test_hsts_is_sent_only_over_https(app):
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    assert (
        client.get("/healthz", base_url="https://guarantee.example")
        .headers["Strict-Transport-Security"]
        .startswith("max-age=")
    )


def test_behind_a_proxy_https_is_believed_only_when_configured(fresh_url, tmp_path):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    trusting = create_app(_app_config(fresh_url, GUARANTEE_PROXY_HOPS=1, GUARANTEE_EVIDENCE_DIR=str(tmp_path)))
    naive = create_app(_app_config(fresh_url, GUARANTEE_EVIDENCE_DIR=str(tmp_path)))
    assert "Strict-Transport-Security" in trusting.test_client().get("/healthz", headers=forwarded).headers
    assert "Strict-Transport-Security" not in naive.test_client().get("/healthz", headers=forwarded).headers


def test_the_api_docs_page_has_no_inline_script_or_style(app):
    html = app.test_client().get("/api/docs/").get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    for tag in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S):
        assert tag.strip() == "", "inline script would need the CSP nonce"
