"""Security headers on every response, set by one after_request hook.

Pages get a Content-Security-Policy whose scripts are the app's own files plus the inline
blocks Folium generates, which carry this request's nonce; every response gets nosniff and a
referrer policy. The policy is written here rather than with flask-talisman: Talisman also
forces HTTPS and rewrites session cookie flags, which `make run` over plain HTTP and the
sessions settings must decide elsewhere, and the policy we need is a dozen lines.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from geoapp.web.basemap import basemap_of

# Leaflet and Folium set styles in markup (style attributes, Folium's <style> blocks), which
# cannot carry a nonce; styles cannot run code, so inline styles stay allowed.
STYLE_SOURCES = "'self' 'unsafe-inline'"
# Bootstrap's icons (close buttons, check boxes) and the blank favicon are data: URLs.
IMAGE_SOURCES = ("'self'", "data:")
PERMISSIONS_POLICY = (
    # The map's "locate me" and full-screen buttons; nothing else is used.
    "geolocation=(self), fullscreen=(self), camera=(), microphone=(), payment=(), usb=()"
)
REFERRER_POLICY = "strict-origin-when-cross-origin"
NONCE_KEY = "geoapp.csp_nonce"
_SCRIPT_TAG = re.compile(r"<script\b(?![^>]*\snonce=)", re.IGNORECASE)
_HOST_LABEL = re.compile(r"^[A-Za-z0-9-]+$")


def csp_nonce() -> str:
    """This request's script nonce, made on first use (templates call it as csp_nonce())."""
    # Kept in the WSGI environ, not in `g`: an app context (hence `g`) can outlive a request,
    # e.g. around a CLI command or a test, and a nonce must never be reused.
    nonce = request.environ.get(NONCE_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_KEY] = secrets.token_urlsafe(18)
    return nonce


def add_nonce(markup: str, nonce: str) -> str:
    """Give every <script> tag of generated markup (Folium's header) the nonce."""
    return _SCRIPT_TAG.sub(f'<script nonce="{nonce}"', markup)


@lru_cache(maxsize=16)
def tile_source(url_template: str) -> str | None:
    """The CSP source that lets a basemap URL template's tiles load; None for our own.

    `{s}` subdomain placeholders become a `*.` wildcard; a placeholder anywhere else in the
    host leaves only the scheme as the source (CSP cannot express it more narrowly).
    """
    parts = urlsplit(url_template)
    if not parts.netloc:
        return None  # a path on this server: 'self' covers it
    if parts.scheme not in ("http", "https"):
        return None
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    if labels[0].startswith("{") and labels[0].endswith("}") and len(labels) > 2:
        labels[0] = "*"
    if not all(label == "*" or _HOST_LABEL.match(label) for label in labels) or (
        port and not port.isdigit()
    ):
        return f"{parts.scheme}:"
    return f"{parts.scheme}://{'.'.join(labels)}" + (f":{port}" if port else "")


def content_security_policy(nonce: str, basemap_url: str, *, blob_images: bool = False) -> str:
    """The policy of an HTML page: images also from the basemap's tile server when it is on
    another origin, and from blob: URLs when its tiles are decoded in the page (PMTiles)."""
    images = list(IMAGE_SOURCES)
    basemap = tile_source(basemap_url) if basemap_url else None
    if basemap:
        images.append(basemap)
    if blob_images:
        images.append("blob:")
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": STYLE_SOURCES,
        "img-src": " ".join(images),
        "font-src": "'self'",
        # Lookups, tiles and address search all go to the app itself (the geocoder is proxied).
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        # No page of ours is framed (Folium maps are embedded in the page, not in an iframe).
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def register_security_headers(app: Flask) -> None:
    """Set the security headers on every response of the app."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers.setdefault("Referrer-Policy", REFERRER_POLICY)
        if response.mimetype == "text/html":
            # Only what is configured and usable: no basemap, no other origin.
            basemap = basemap_of(current_app)
            headers["Content-Security-Policy"] = content_security_policy(
                csp_nonce(), basemap.tile_url, blob_images=basemap.images_from_blobs)
            headers["X-Frame-Options"] = "DENY"  # for browsers without frame-ancestors
            headers["Permissions-Policy"] = PERMISSIONS_POLICY
        return response
