"""Security headers: every page has a strict script policy, every response has nosniff."""

from __future__ import annotations

import re

import pytest

from geoapp.web.guards.security_headers import content_security_policy, tile_source
from tests.conftest import TEST_PASSWORD

SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"
ITEMS = "/api/collections/flood_zones/items"
PUBLIC_PAGES = [
    "/",
    "/?lon=-74.05&lat=40.05&zoom=14",
    "/report?lon=-74.05&lat=40.05",
    "/datasets",
    "/login",
    "/api/?f=html",
    "/api/conformance?f=html",
    "/api/collections?f=html",
    "/api/collections/flood_zones?f=html",
    "/api/collections/flood_zones/queryables?f=html",
    f"{ITEMS}?f=html&limit=5",
    "/api/docs",
]
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def directives(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"no Content-Security-Policy on {response.request.path}"
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def check_page(response) -> None:
    """The headers of an HTML page, and that its inline scripts all carry the nonce."""
    assert response.mimetype == "text/html"
    policy = directives(response)
    scripts = policy["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "'self'" in scripts
    nonces = [source for source in scripts if source.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-"):-1]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    headers = response.headers
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert "camera=()" in headers.get("Permissions-Policy", "")
    page = response.get_data(as_text=True)
    assert not INLINE_HANDLER.search(page), INLINE_HANDLER.search(page).group(0)
    for attributes in SCRIPT_TAG.findall(page):
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue  # a file from 'self', or a data block that is never executed
        assert f'nonce="{nonce}"' in attributes, f"inline script without the nonce: {attributes}"


@pytest.fixture()
def zones(make_dataset, make_zone):
    dataset = make_dataset(name="Header test FIRM")
    return make_zone(SQUARE, dataset=dataset, fld_zone="AE")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_carry_the_policy(client, zones, path) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    check_page(response)


def test_item_and_dataset_pages_carry_the_policy(client, zones) -> None:
    check_page(client.get(f"{ITEMS}/{zones.id}?f=html"))
    detail = client.get(f"/datasets/{zones.dataset_id}")
    check_page(detail)
    assert "folium-map" in detail.get_data(as_text=True)  # the extent map, Folium's script
    assert 'data-confirm="' not in detail.get_data(as_text=True)  # no delete for visitors


def test_analyst_pages_carry_the_policy(client, zones, make_user) -> None:
    user = make_user("analyst")
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    check_page(client.get("/upload"))
    detail = client.get(f"/datasets/{zones.dataset_id}")
    check_page(detail)
    assert 'data-confirm="Delete this dataset' in detail.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/no/such/page", "/report?lon=500&lat=0", "/datasets/999999"])
def test_error_pages_carry_the_policy(client, path) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code in (400, 404)
    check_page(response)


def test_every_request_gets_its_own_nonce(client, zones) -> None:
    first = directives(client.get("/"))["script-src"]
    second = directives(client.get("/"))["script-src"]
    assert first != second


@pytest.mark.parametrize("path", [
    "/api/lookup?lon=-74.05&lat=40.05",
    "/api/lookup?lon=500&lat=0",
    f"{ITEMS}?limit=2",
    "/api/collections/flood_zones/tiles/WebMercatorQuad/0/0/0",
    "/api/openapi.json",
    "/healthz",
    "/vendor/leaflet/dist/leaflet.js",
    "/static/js/map-page.js",
    "/report?lon=-74.05&lat=40.05&format=pdf",
])
def test_every_response_has_nosniff(client, zones, path) -> None:
    response = client.get(path)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    response.close()


def test_pdf_report_still_renders(client, zones) -> None:
    response = client.get("/report?lon=-74.05&lat=40.05&format=pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_writes_and_their_errors_have_nosniff(client) -> None:
    response = client.post(ITEMS, json={})
    assert response.status_code == 401
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_configured_basemap_origin_may_serve_images(app, client, zones, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_BASEMAP_URL",
                        "https://{s}.tiles.example.net:8443/osm/{z}/{x}/{y}.png")
    images = directives(client.get("/"))["img-src"]
    assert images == ["'self'", "data:", "https://*.tiles.example.net:8443"]
    monkeypatch.setitem(app.config, "GEOAPP_BASEMAP_URL", "")
    assert directives(client.get("/"))["img-src"] == ["'self'", "data:"]


@pytest.mark.parametrize(("template", "source"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
    ("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
    ("https://tiles-{s}.example.org/{z}/{x}/{y}.png", "https:"),  # CSP cannot say tiles-*
    ("/basemap/{z}/{x}/{y}.png", None),  # the app's own tiles: 'self'
    ("javascript:alert(1)//{z}", None),
])
def test_tile_source(template, source) -> None:
    assert tile_source(template) == source


def test_policy_cannot_be_widened_by_a_basemap_url() -> None:
    policy = content_security_policy("n", "https://evil.example; script-src *;/{z}/{x}/{y}.png")
    assert "script-src *" not in policy
    assert policy.count("script-src") == 1
