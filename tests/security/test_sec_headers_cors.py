"""CORS: other sites may read the public API anonymously, and never write or use cookies."""

from __future__ import annotations

import pytest

ORIGIN = "https://other.example"
ITEMS = "/api/collections/flood_zones/items"
TILE = "/api/collections/flood_zones/tiles/WebMercatorQuad/0/0/0"
SQUARE = "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))"
PUBLIC_READS = [
    "/api/lookup?lon=-74.05&lat=40.05",
    "/api/lookup?lon=500&lat=0",  # errors too, so a client can read why
    f"{ITEMS}?limit=2",
    TILE,
    "/api/collections/flood_zones/tiles/WebMercatorQuad",
    "/api/collections/flood_zones/tiles",
    "/api/collections/flood_zones/queryables",
    "/api/collections/flood_zones",
    "/api/collections",
    "/api/conformance",
    "/api/openapi.json",
    "/api/",
]
# (method the page would use, URL): writes, and reads that are not shared.
NOT_SHARED = [
    ("POST", ITEMS),
    ("PUT", f"{ITEMS}/1"),
    ("PATCH", f"{ITEMS}/1"),
    ("DELETE", f"{ITEMS}/1"),
    ("POST", "/api/lookup/batch"),
    ("POST", "/api/lookup/area"),
    ("POST", "/api/datasets"),
    ("POST", "/api/tokens"),
    ("DELETE", "/api/tokens/1"),
    ("POST", "/login"),
    ("POST", "/datasets/1/delete"),
]
NOT_SHARED_READS = ["/api/geocode?q=x", "/api/datasets", "/", "/report?lon=0&lat=0",
                    "/healthz"]


@pytest.fixture()
def zone(make_zone):
    return make_zone(SQUARE, fld_zone="AE")


def no_cors(response) -> None:
    headers = response.headers
    assert "Access-Control-Allow-Origin" not in headers, response.request.path
    assert "Access-Control-Allow-Methods" not in headers
    assert "Access-Control-Allow-Credentials" not in headers


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_public_reads_are_shared_with_any_origin(client, zone, path) -> None:
    response = client.get(path, headers={"Origin": ORIGIN})
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    assert "ETag" in response.headers.get("Access-Control-Expose-Headers", "")
    assert "Content-Crs" in response.headers.get("Access-Control-Expose-Headers", "")
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_of_a_conditional_read_is_granted(client) -> None:
    response = client.options(ITEMS, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match, x-custom"})
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == "*"
    assert response.headers.get("Access-Control-Allow-Methods") == "GET, HEAD"
    assert response.headers.get("Access-Control-Allow-Headers") == "if-none-match"  # not x-custom
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize(("method", "path"), NOT_SHARED)
def test_preflight_of_a_write_gets_no_grant(client, method, path) -> None:
    response = client.options(path, headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type, authorization"})
    no_cors(response)


@pytest.mark.parametrize(("method", "path"), NOT_SHARED)
def test_writes_themselves_get_no_cors_headers(client, method, path) -> None:
    response = client.open(path, method=method, json={}, headers={"Origin": ORIGIN})
    assert not 200 <= response.status_code < 300  # anonymous: refused (and never shared)
    no_cors(response)


def test_authorised_write_from_another_origin_gets_no_cors_headers(
        client, make_dataset, make_user, make_token) -> None:
    dataset = make_dataset(name="CORS FIRM")
    token = make_token(make_user("analyst")).secret
    feature = {"type": "Feature", "properties": {"dataset_id": dataset.id, "fld_zone": "AE"},
               "geometry": {"type": "Polygon",
                            "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0]]]}}
    created = client.post(ITEMS, json=feature, headers={
        "Origin": ORIGIN, "Authorization": f"Bearer {token}"})
    assert created.status_code == 201
    no_cors(created)
    batch = client.post("/api/lookup/batch", headers={
        "Origin": ORIGIN, "Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        data="lon,lat\n-74.05,40.05\n")
    assert batch.status_code == 200
    no_cors(batch)


@pytest.mark.parametrize("path", NOT_SHARED_READS)
def test_other_reads_are_not_shared(client, path) -> None:
    response = client.get(path, headers={"Origin": ORIGIN, "Accept": "application/json"})
    no_cors(response)
    preflight = client.options(path, headers={"Origin": ORIGIN,
                                              "Access-Control-Request-Method": "GET"})
    no_cors(preflight)


def test_configured_origins_only(app, client, zone, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_CORS_ORIGINS", "https://maps.example, " + ORIGIN)
    allowed = client.get(TILE, headers={"Origin": ORIGIN})
    assert allowed.headers.get("Access-Control-Allow-Origin") == ORIGIN
    assert "Origin" in allowed.headers.get("Vary", "")
    other = client.get(TILE, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert "Origin" in other.headers.get("Vary", "")  # a shared cache must not mix the two
    monkeypatch.setitem(app.config, "GEOAPP_CORS_ORIGINS", "")
    no_cors(client.get(TILE, headers={"Origin": ORIGIN}))
    no_cors(client.get("/api/lookup?lon=-74.05&lat=40.05", headers={"Origin": ORIGIN}))
