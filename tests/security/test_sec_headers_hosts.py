"""Absolute links come from the configured public URL or trusted proxies, never from Host."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from geoapp import create_app
from geoapp.extensions import db
from geoapp.web.guards.public_url import allowed_hosts, parse_public_url

EVIL = "evil.example"
ITEMS = "/api/collections/flood_zones/items"
SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"
TILES = "/api/collections/flood_zones/tiles"
LINKED = ["/api/", "/api/collections", "/api/collections/flood_zones", ITEMS, TILES,
          f"{TILES}/WebMercatorQuad", "/api/openapi.json",
          "/api/collections/flood_zones/queryables"]


@pytest.fixture()
def make_app(app: Flask, database_url: str, session) -> Iterator[Callable[..., Flask]]:
    """Factory: another app on the test database with extra settings (rolled back too)."""
    made: list[Flask] = []

    def factory(**settings) -> Flask:
        extra = create_app({"TESTING": True, "DATABASE_URL": database_url,
                            "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                            "GEOAPP_TILE_CACHE_MB": 0, **settings})
        made.append(extra)
        return extra

    yield factory
    for extra in made:
        with extra.app_context():
            db.engine.dispose()


def hrefs(document) -> list[str]:
    """Every URL in a JSON document's links, tiles and servers."""
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("href", "url", "$id") and isinstance(value, str):
                found.append(value)
            elif key == "tiles" and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
            else:
                found.extend(hrefs(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(hrefs(item))
    return found


def test_untrusted_host_is_refused_without_links(client, make_zone) -> None:
    make_zone(SQUARE)
    for path in LINKED:
        response = client.get(path, headers={"Host": EVIL})
        assert response.status_code == 400, path
        assert EVIL not in response.get_data(as_text=True)
        assert response.get_json()["error"] == "untrusted_host"
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
    page = client.get("/", headers={"Host": f"{EVIL}:5000", "Accept": "text/html"})
    assert page.status_code == 400 and EVIL not in page.get_data(as_text=True)


def test_local_hosts_are_served(client, make_zone) -> None:
    make_zone(SQUARE)
    for host in ("localhost", "127.0.0.1:5000", "[::1]:8000"):
        response = client.get("/api/", headers={"Host": host})
        assert response.status_code == 200, host
        assert all(href.startswith(f"http://{host}/api") for href in hrefs(response.get_json()))


def test_health_checks_answer_any_host(client) -> None:
    assert client.get("/healthz", headers={"Host": "10.1.2.3:5000"}).status_code == 200


def test_forwarded_headers_are_ignored_without_trusted_proxies(client, make_zone) -> None:
    make_zone(SQUARE)
    response = client.get(ITEMS, headers={"X-Forwarded-Host": EVIL,
                                          "X-Forwarded-Proto": "https",
                                          "X-Forwarded-Prefix": "/evil"})
    links = hrefs(response.get_json())
    assert links and all(href.startswith("http://localhost/api/") for href in links)


def test_public_url_decides_every_link(make_app, make_zone, make_user, make_token) -> None:
    dataset_id = make_zone(SQUARE).dataset_id
    token = make_token(make_user("analyst")).secret
    public = "https://flood.example.org/maps"
    client = make_app(GEOAPP_PUBLIC_URL=public).test_client()
    for path in LINKED:
        # Whatever the Host header says, and whether the proxy strips the prefix or not.
        for url in (path, "/maps" + path):
            response = client.get(url, headers={"Host": EVIL, "X-Forwarded-Host": EVIL})
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert EVIL not in body
            links = hrefs(json.loads(body))
            assert links and all(href.startswith(public + "/api") for href in links), links
    feature = {"type": "Feature", "properties": {"dataset_id": dataset_id,
                                                 "fld_zone": "AE"},
               "geometry": {"type": "Polygon",
                            "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]]]}}
    created = client.post(ITEMS, json=feature, headers={
        "Host": EVIL, "Authorization": f"Bearer {token}"})
    assert created.status_code == 201
    location = created.headers.get("Location", "")
    assert location.startswith(f"{public}/api/collections/flood_zones/items/")
    page = client.get("/", headers={"Host": EVIL}).get_data(as_text=True)
    assert EVIL not in page and 'src="/maps/static/js/map-page.js"' in page


def test_trusted_proxy_headers_are_used(make_app, make_zone) -> None:
    make_zone(SQUARE)
    client = make_app(GEOAPP_TRUSTED_PROXIES=1,
                      GEOAPP_ALLOWED_HOSTS="flood.example.org").test_client()
    response = client.get(ITEMS, headers={
        "Host": "127.0.0.1:5000", "X-Forwarded-Host": "flood.example.org",
        "X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/maps"})
    links = hrefs(response.get_json())
    assert links and all(href.startswith("https://flood.example.org/maps/api/")
                         for href in links), links
    # The proxy's Host is checked like any other: a forged one is refused.
    forged = client.get(ITEMS, headers={"Host": "127.0.0.1", "X-Forwarded-Host": EVIL})
    assert forged.status_code == 400 and EVIL not in forged.get_data(as_text=True)


def test_allowed_hosts_setting() -> None:
    assert allowed_hosts("", None) == ["localhost", "127.0.0.1", "[::1]"]
    assert allowed_hosts("flood.example.org, .example.net", None) == [
        "flood.example.org", ".example.net"]
    public = parse_public_url("https://flood.example.org:8443/x/")
    assert public == ("https", "flood.example.org:8443", "/x")
    assert allowed_hosts("", public) is None  # the Host header is not used for links then
    assert allowed_hosts("10.0.0.5", public) == ["10.0.0.5", "flood.example.org"]
    assert allowed_hosts("*", None) is None
    with pytest.raises(RuntimeError, match="GEOAPP_PUBLIC_URL"):
        parse_public_url("flood.example.org")
