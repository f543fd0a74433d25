"""The address the app believes it is served at, from configuration, never from a client.

Absolute links (OGC `links`, `Location`, TileJSON) are built by `url_for(..., _external=True)`
from the WSGI environment, i.e. from the Host header. Two WSGI middlewares make that safe:

* `ProxyFix`, only with GEOAPP_TRUSTED_PROXIES > 0: believe that many proxies' X-Forwarded-*.
* `PublicAddress`: with GEOAPP_PUBLIC_URL, every request is rewritten to that scheme, host and
  path prefix, so the Host header no longer matters; otherwise the Host must be one of
  GEOAPP_ALLOWED_HOSTS (default: localhost names), or the request is refused before Flask.

The refusal is answered here, not by the app's error handlers: with an untrusted host Flask
cannot build any URL, so the error page itself could not render.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Health probes (load balancers, orchestrators) use whatever address they like; the answer
# holds no links.
UNCHECKED_PATHS = frozenset({"/healthz"})

_HOST_HEADER = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def parse_public_url(raw: str) -> tuple[str, str, str] | None:
    """GEOAPP_PUBLIC_URL as (scheme, host[:port], path prefix); None when unset."""
    if not raw.strip():
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise RuntimeError(
            f"GEOAPP_PUBLIC_URL must look like https://flood.example.org[/prefix], got {raw!r}"
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def allowed_hosts(raw: str, public: tuple[str, str, str] | None) -> list[str] | None:
    """The accepted Host names; None when any is accepted."""
    names = [name.strip() for name in raw.replace(" ", ",").split(",") if name.strip()]
    if "*" in names:
        return None
    if not names:
        if public is not None:
            return None  # links come from the public URL; the Host header is not used
        names = list(LOCAL_HOSTS)
    if public is not None:
        names.append(urlsplit(f"//{public[1]}").hostname or "")
    return names


def host_allowed(host: str, names: list[str]) -> bool:
    """Whether a Host header (host[:port]) names one of `names` (".x.org": its subdomains)."""
    # Werkzeug's host_is_trusted cannot compare bracketed IPv6 names, so match here.
    parsed = _HOST_HEADER.fullmatch(host)
    if parsed is None:
        return False
    name = parsed.group(1).lower()
    for allowed in names:
        allowed = allowed.lower()
        if name == allowed or (allowed.startswith(".") and name.endswith(allowed)):
            return True
    return False


class PublicAddress:
    """WSGI middleware: refuse unknown hosts, and rewrite requests to the public URL."""

    def __init__(self, app: WSGIApp, public: tuple[str, str, str] | None,
                 hosts: list[str] | None) -> None:
        self.app = app
        self.public = public
        self.hosts = hosts

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
        path = environ.get("PATH_INFO", "")
        if self.hosts is not None and path not in UNCHECKED_PATHS and not host_allowed(
            host, self.hosts
        ):
            return refuse_host(start_response)
        if self.public is not None:
            scheme, netloc, prefix = self.public
            environ["wsgi.url_scheme"] = scheme
            environ["HTTP_HOST"] = netloc
            # A proxy may pass the prefix on or strip it; either way the app sees it as root.
            if prefix and (path == prefix or path.startswith(prefix + "/")):
                environ["PATH_INFO"] = path[len(prefix):]
            environ["SCRIPT_NAME"] = prefix
        return self.app(environ, start_response)


def refuse_host(start_response: Callable[..., Any]) -> Iterable[bytes]:
    """400 for a Host header this deployment does not answer to (it is not echoed)."""
    body = json.dumps({
        "error": "untrusted_host",
        "message": "this server does not answer to that host name (see GEOAPP_ALLOWED_HOSTS)",
    }).encode()
    start_response("400 Bad Request", [
        ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
    ])
    return [body]


def install_public_address(app: Flask) -> None:
    """Wrap the app's WSGI callable in the proxy and public-address middlewares."""
    public = parse_public_url(app.config["GEOAPP_PUBLIC_URL"])
    hosts = allowed_hosts(app.config["GEOAPP_ALLOWED_HOSTS"], public)
    wsgi: Any = PublicAddress(app.wsgi_app, public, hosts)
    proxies = app.config["GEOAPP_TRUSTED_PROXIES"]
    if proxies > 0:
        wsgi = ProxyFix(wsgi, x_for=proxies, x_proto=proxies, x_host=proxies,
                        x_port=proxies, x_prefix=proxies)
    app.wsgi_app = wsgi
