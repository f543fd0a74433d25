"""GET /api/lookup through the test client."""

from __future__ import annotations

import pytest


def test_lookup_returns_the_zone_with_its_attributes(client, make_zone) -> None:
    make_zone(
        "POLYGON((-74.1 40.0, -74.0 40.0, -74.0 40.1, -74.1 40.1, -74.1 40.0))",
        fld_zone="AE",
        zone_subty="FLOODWAY",
        static_bfe=8.0,
        v_datum="NAVD88",
        len_unit="Feet",
        dfirm_id="34025C",
    )
    response = client.get("/api/lookup?lon=-74.05&lat=40.05")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "high_risk"
    assert body["in_sfha"] is True
    [zone] = body["zones"]
    assert zone["zone"] == "AE"
    assert zone["subtype"] == "FLOODWAY" and zone["floodway"] is True
    assert zone["sfha"] is True
    assert zone["bfe"] == 8.0 and zone["vertical_datum"] == "NAVD88"
    assert zone["dfirm_id"] == "34025C"
    assert zone["dataset"]["name"] == body["datasets"][0]["name"]


def test_lookup_without_bfe_gives_null(client, make_zone) -> None:
    make_zone(fld_zone="A", static_bfe=None)
    zone = client.get("/api/lookup?lon=0.5&lat=0.5").get_json()["zones"][0]
    assert zone["bfe"] is None and zone["vertical_datum"] is None


def test_lookup_where_nothing_is_mapped(client, make_zone) -> None:
    make_zone()
    body = client.get("/api/lookup?lon=30&lat=30").get_json()
    assert body["status"] == "unmapped"
    assert body["zones"] == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lat=40", "lon"),
        ("lon=-74", "lat"),
        ("lon=abc&lat=40", "lon"),
        ("lon=-74&lat=95", "lat"),
        ("lon=200&lat=40", "lon"),
        ("lon=-74&lat=inf", "lat"),
    ],
)
def test_bad_coordinates_get_a_400_naming_the_parameter(client, query: str, parameter: str) -> None:
    response = client.get(f"/api/lookup?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert f"'{parameter}'" in body["message"]


def test_unknown_api_path_is_a_json_404(client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_nul_characters_in_parameters_are_refused(client) -> None:
    response = client.get("/api/lookup?lon=1&lat=1&dataset=a%00b")
    assert response.status_code == 400
    assert "NUL" in response.get_json()["message"]
