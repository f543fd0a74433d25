"""POST /api/lookup/area: parcel exposure by zone and risk status, geodesic areas."""

from __future__ import annotations

import pytest
from pyproj import Geod
from shapely.geometry import Polygon, mapping

GEOD = Geod(ellps="WGS84")
AE = Polygon([(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)])
X = Polygon([(0.01, 0), (0.02, 0), (0.02, 0.01), (0.01, 0.01)])
PARCEL = Polygon([(0.005, 0.002), (0.015, 0.002), (0.015, 0.006), (0.005, 0.006)])


@pytest.fixture()
def zones(make_dataset, make_zone):
    dataset = make_dataset(name="Area FIRM")
    make_zone(AE, dataset=dataset, fld_zone="AE")
    make_zone(
        X,
        dataset=dataset,
        fld_zone="X",
        sfha_tf=False,
        zone_subty="0.2 PCT ANNUAL CHANCE FLOOD HAZARD",
    )
    return dataset


def test_half_in_the_floodplain(client, zones) -> None:
    response = client.post("/api/lookup/area", json=mapping(PARCEL))
    assert response.status_code == 200
    body = response.get_json()
    expected_area = abs(GEOD.geometry_area_perimeter(PARCEL)[0])
    assert body["area_m2"] == pytest.approx(expected_area, rel=0.001)
    assert body["max_status"] == "high_risk"
    assert body["sfha_share"] == pytest.approx(0.5, abs=0.001)
    by_status = {item["status"]: item for item in body["by_status"]}
    assert by_status["moderate_risk"]["share"] == pytest.approx(0.5, abs=0.001)
    assert {z["zone"] for z in body["by_zone"]} == {"AE", "X"}
    assert body["unmapped_share"] == pytest.approx(0.0, abs=0.001)
    assert body["datasets"][0]["name"] == "Area FIRM"


def test_overlapping_maps_do_not_count_twice(client, zones, make_dataset, make_zone) -> None:
    make_zone(AE, dataset=make_dataset(name="Older FIRM"), fld_zone="A")
    body = client.post("/api/lookup/area", json=mapping(PARCEL)).get_json()
    assert body["sfha_share"] == pytest.approx(0.5, abs=0.001)
    assert len(body["by_zone"]) == 3


def test_parcel_partly_unmapped(client, zones) -> None:
    parcel = Polygon([(0.015, 0.002), (0.025, 0.002), (0.025, 0.006), (0.015, 0.006)])
    body = client.post(
        "/api/lookup/area", json={"type": "Feature", "properties": {}, "geometry": mapping(parcel)}
    ).get_json()
    assert body["max_status"] == "moderate_risk"
    assert body["unmapped_share"] == pytest.approx(0.5, abs=0.001)


BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0.01], [0.01, 0], [0, 0.01], [0, 0]]]}


def test_self_intersecting_parcel_is_refused_unless_repaired(client, zones) -> None:
    response = client.post("/api/lookup/area", json=BOWTIE)
    assert response.status_code == 400
    assert "Self-intersection" in response.get_json()["message"]
    repaired = client.post("/api/lookup/area?repair=true", json=BOWTIE)
    assert repaired.status_code == 200
    body = repaired.get_json()
    assert body["repaired"] is True and body["max_status"] == "high_risk"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"type": "Point", "coordinates": [0, 0]}, "got 'Point'"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [0, 1], [0, 0]]]}, "CRS84"),
        ({"type": "Polygon", "coordinates": []}, "empty"),
        ({"type": "Polygon", "coordinates": "nope"}, "malformed"),
        ({"hello": "world"}, "GeoJSON Polygon"),
    ],
)
def test_bad_parcels(client, body, fragment) -> None:
    response = client.post("/api/lookup/area", json=body)
    assert response.status_code == 400
    assert fragment in response.get_json()["message"]


def test_non_json_body(client) -> None:
    response = client.post("/api/lookup/area", data=b"{", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_json"
