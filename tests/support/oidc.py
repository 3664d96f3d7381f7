"""A real OpenID Provider for the single sign-on tests: the npm package oidc-provider, run by
tests/support/oidc_provider.mjs under Node.js on a free port, once per test session. Clients are
registered at it as the tests need them (dynamic client registration); officers "sign in" on its
own page by saying who they are. A proxy between the service and the provider's token endpoint
lets a test change the ID token on its way (``TokenProxy.change``).

Without node or node_modules/oidc-provider the tests are skipped, unless
GUARANTEE_REQUIRE_OIDC_PROVIDER=1 (as in CI), when they fail instead."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from tests.support.browser import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "tests" / "support" / "oidc_provider.mjs"
NODE = shutil.which("node")


def _provider_missing() -> str | None:
    if NODE is None:
        return "Node.js is not installed (the single sign-on tests run a real OpenID Provider with it)"
    if not (ROOT / "node_modules" / "oidc-provider").exists():
        return "the npm package oidc-provider is not installed (make test runs npm ci)"
    return None


if _provider_missing() and os.environ.get("GUARANTEE_REQUIRE_OIDC_PROVIDER") == "1":
    pytest.fail(f"GUARANTEE_REQUIRE_OIDC_PROVIDER=1 but {_provider_missing()}", pytrace=False)
# Each single sign-on test module starts with ``pytestmark = skip_without_provider``.
skip_without_provider = pytest.mark.skipif(_provider_missing() is not None, reason=_provider_missing() or "")


@dataclass(frozen=True)
class Client:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[bytes]

    def register(self, redirect_uri: str) -> Client:
        """A client of the provider, registered as RFC 7591 says, sent back to ``redirect_uri``."""
        answer = requests.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=10,
        )
        answer.raise_for_status()
        body = answer.json()
        return Client(body["client_id"], body["client_secret"], redirect_uri)

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider, for the whole test session (one Node.js process)."""
    missing = _provider_missing()
    if missing:
        pytest.skip(missing)
    assert NODE is not None
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [NODE, str(SCRIPT), "--port", str(port)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    issuer = f"http://127.0.0.1:{port}"
    for _ in range(200):  # until it answers (or has stopped)
        if process.poll() is not None:
            raise RuntimeError(f"The test OpenID Provider stopped: {log.read_text()}")
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.05)
    else:
        process.terminate()
        raise RuntimeError(f"The test OpenID Provider did not answer: {log.read_text()}")
    yield Provider(issuer, process)
    process.terminate()
    process.wait(timeout=10)


# --- between the service and the token endpoint ----------------------------------------------


@dataclass
class TokenProxy:
    """Forwards the service's token requests to the provider; ``change``, if set, rewrites the
    ID token in the next answer (then is cleared)."""

    url: str
    server: ThreadingHTTPServer
    change: Callable[[str], str] | None = None
    forwarded: list[int] = field(default_factory=list)


@pytest.fixture(scope="session")
def token_proxy(oidc_provider: Provider) -> Iterator[TokenProxy]:
    proxy: TokenProxy

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {
                k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type", "accept")
            }
            answer = requests.post(oidc_provider.token_endpoint, data=body, headers=headers, timeout=10)
            content = answer.content
            change, proxy.change = proxy.change, None
            if change is not None and answer.ok:
                token = answer.json()
                token["id_token"] = change(token["id_token"])
                content = json.dumps(token).encode()
            proxy.forwarded.append(answer.status_code)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    proxy = TokenProxy(f"http://127.0.0.1:{server.server_address[1]}/token", server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield proxy
    server.shutdown()
    server.server_close()


# --- signing in at the provider, as a browser would ------------------------------------------


def sign_in_at_provider(authorization_url: str, email: str, *, verified: bool = True, mfa: bool = False) -> str:
    """Follow ``authorization_url`` to the provider's sign-in page, say who one is there, and
    return the address the provider sends the browser back to (with ``code`` and ``state``)."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text
    action = urljoin(page.url, urlsplit(page.url).path)
    form = {"email": email, **({"verified": "yes"} if verified else {}), **({"mfa": "yes"} if mfa else {})}
    answer = browser.post(action, data=form, allow_redirects=False, timeout=10)
    for _ in range(10):
        location = answer.headers.get("Location", "")
        assert answer.status_code in (302, 303), answer.text
        target = urljoin(answer.url, location)
        if not target.startswith(urlsplit(authorization_url)._replace(path="", query="").geturl()):
            return target  # back to the client
        answer = browser.get(target, allow_redirects=False, timeout=10)
    raise AssertionError("The provider never sent the browser back")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def id_token_for(provider: Provider, client: Client, email: str, nonce: str) -> str:
    """A genuine ID token the provider signs for ``client`` (not the service): the whole code flow,
    with PKCE, for ``email``, carrying ``nonce``."""
    verifier, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
            "state": secrets.token_urlsafe(16),
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    back = sign_in_at_provider(f"{provider.issuer}/auth?{query}", email)
    code = parse_qs(urlsplit(back).query)["code"][0]
    token = requests.post(
        provider.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": client.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(client.client_id, client.client_secret),
        timeout=10,
    )
    token.raise_for_status()
    id_token: str = token.json()["id_token"]
    return id_token


def with_claim(id_token: str, **claims: Any) -> str:
    """The ID token with its payload changed and its signature left as it was (so it no longer
    matches)."""
    header, payload, signature = id_token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    changed = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{changed}.{signature}"
