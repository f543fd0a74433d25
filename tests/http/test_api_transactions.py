"""OGC API - Features Part 4: writes through the test client, all or nothing."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from geoapp.db.models import FloodZone, FloodZonePiece

ITEMS = "/api/collections/flood_zones/items"
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0.01], [0.01, 0], [0, 0.01], [0, 0]]]}


@pytest.fixture()
def analyst(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}"}


@pytest.fixture()
def dataset(make_dataset):
    return make_dataset(name="Editable FIRM")


def feature(dataset_id: int, geometry=SQUARE, **props) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"dataset_id": dataset_id, "fld_zone": "AE", **props},
    }


def zone_count(session) -> int:
    return session.scalar(select(func.count()).select_from(FloodZone))


def test_create_one_feature(client, session, analyst, dataset) -> None:
    response = client.post(
        ITEMS, json=feature(dataset.id, static_bfe=9.5, REMARK="new levee"), headers=analyst
    )
    assert response.status_code == 201
    location = response.headers["Location"]
    created = client.get(location.replace("http://localhost", "")).get_json()
    assert created["properties"]["fld_zone"] == "AE"
    assert created["properties"]["static_bfe"] == 9.5
    assert created["properties"]["attributes"]["REMARK"] == "new levee"
    assert created["geometry"]["type"] == "MultiPolygon"  # a Polygon is stored as MultiPolygon
    pieces = session.scalar(
        select(func.count())
        .select_from(FloodZonePiece)
        .where(FloodZonePiece.zone_id == created["id"])
    )
    assert pieces >= 1
    lookup = client.get("/api/lookup?lon=0.005&lat=0.005").get_json()
    assert lookup["zones"][0]["zone_id"] == created["id"]


def test_feature_collection_is_all_or_nothing(client, session, analyst, dataset) -> None:
    before = zone_count(session)
    body = {
        "type": "FeatureCollection",
        "features": [feature(dataset.id), feature(dataset.id, fld_zone="ZZ")],
    }
    response = client.post(ITEMS, json=body, headers=analyst)
    assert response.status_code == 400
    assert "feature 1" in response.get_json()["message"]
    assert zone_count(session) == before
    ok = client.post(
        ITEMS,
        json={"type": "FeatureCollection", "features": [feature(dataset.id), feature(dataset.id)]},
        headers=analyst,
    )
    assert ok.status_code == 201 and len(ok.get_json()["ids"]) == 2
    assert zone_count(session) == before + 2


@pytest.mark.parametrize(
    ("geometry", "fragment"),
    [
        ({"type": "Point", "coordinates": [0, 0]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [500, 0], [1, 1], [0, 0]]]}, "out of range"),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}, "[lon, lat]"),
        (BOWTIE, "Self-intersection"),
    ],
)
def test_bad_geometries_are_refused(client, session, analyst, dataset, geometry, fragment):
    before = zone_count(session)
    response = client.post(ITEMS, json=feature(dataset.id, geometry=geometry), headers=analyst)
    assert response.status_code == 400
    assert fragment in response.get_json()["message"]
    assert zone_count(session) == before


def test_nan_coordinates_are_refused(client, analyst, dataset) -> None:
    # json.dumps writes NaN as the bare token NaN, as careless clients do.
    body = json.dumps(feature(dataset.id, geometry={
        "type": "Polygon", "coordinates": [[[0, 0], [float("nan"), 0], [1, 1], [0, 0]]]}))
    response = client.post(ITEMS, data=body, content_type="application/geo+json", headers=analyst)
    assert response.status_code == 400
    assert "finite" in response.get_json()["message"]


def test_repair_fixes_a_bowtie(client, session, analyst, dataset) -> None:
    response = client.post(
        f"{ITEMS}?repair=true", json=feature(dataset.id, geometry=BOWTIE), headers=analyst
    )
    assert response.status_code == 201
    # What was stored is valid (PostGIS's own verdict) and keeps both triangles of the bow tie.
    location = response.headers["Location"]
    created = client.get(location.replace("http://localhost", "")).get_json()
    valid, parts, area = session.execute(
        select(func.ST_IsValid(FloodZone.geom), func.ST_NumGeometries(FloodZone.geom),
               func.ST_Area(FloodZone.geom)).where(FloodZone.id == created["id"])
    ).one()
    assert valid is True
    assert parts == 2 and area == pytest.approx(0.01 * 0.01 / 2)
    stored = shape(created["geometry"])
    assert stored.is_valid and stored.area == pytest.approx(0.01 * 0.01 / 2)


@pytest.mark.parametrize(
    ("props", "fragment"),
    [
        ({"fld_zone": None}, "fld_zone is required"),
        ({"fld_zone": "Q"}, "not an NFHL zone"),
        ({"dataset_id": "one"}, "dataset_id"),
        ({"dataset_id": 999999}, "no dataset"),
    ],
)
def test_bad_properties_are_refused(client, analyst, dataset, props, fragment) -> None:
    body = feature(dataset.id)
    body["properties"].update(props)
    response = client.post(ITEMS, json=body, headers=analyst)
    assert response.status_code == 400 and fragment in response.get_json()["message"]


def test_put_patch_delete(client, session, analyst, dataset) -> None:
    created = client.post(ITEMS, json=feature(dataset.id, static_bfe=7.0), headers=analyst)
    url = f"{ITEMS}/{created.get_json()['ids'][0]}"
    moved = {
        "type": "Polygon",
        "coordinates": [[[1, 1], [1.01, 1], [1.01, 1.01], [1, 1.01], [1, 1]]],
    }
    replaced = client.put(
        url,
        json=feature(dataset.id, geometry=moved, fld_zone="VE", static_bfe=12.0),
        headers=analyst,
    )
    assert replaced.status_code == 200
    assert replaced.get_json()["properties"]["fld_zone"] == "VE"
    assert client.get("/api/lookup?lon=1.005&lat=1.005").get_json()["zones"][0]["zone"] == "VE"
    assert client.get("/api/lookup?lon=0.005&lat=0.005").get_json()["status"] == "unmapped"
    patched = client.patch(
        url, json={"properties": {"static_bfe": 13.0, "NOTE": "surveyed"}}, headers=analyst
    )
    props = patched.get_json()["properties"]
    assert props["static_bfe"] == 13.0 and props["fld_zone"] == "VE"
    assert props["attributes"]["NOTE"] == "surveyed"
    removed = client.patch(url, json={"properties": {"NOTE": None}}, headers=analyst)
    assert "NOTE" not in removed.get_json()["properties"]["attributes"]
    assert client.delete(url, headers=analyst).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=analyst).status_code == 404


def test_writes_need_an_analyst(client, make_user, make_token, dataset) -> None:
    viewer = {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}
    assert client.post(ITEMS, json=feature(dataset.id), headers=viewer).status_code == 403
    assert client.post(ITEMS, json=feature(dataset.id)).status_code == 401


def test_wrong_content_and_collections(client, analyst, dataset) -> None:
    assert (
        client.post(ITEMS, data="x", content_type="text/plain", headers=analyst).status_code == 415
    )
    assert (
        client.post(ITEMS, data="{", content_type="application/json", headers=analyst).get_json()[
            "error"
        ]
        == "invalid_json"
    )
    assert (
        client.post(
            "/api/collections/datasets/items", json=feature(dataset.id), headers=analyst
        ).status_code
        == 405
    )
    assert (
        client.post(
            "/api/collections/nope/items", json=feature(dataset.id), headers=analyst
        ).status_code
        == 404
    )
    assert client.patch(f"{ITEMS}/1", json={"nothing": 1}, headers=analyst).status_code in (
        400,
        404,
    )


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_repairing_write_is_answered_with_the_stored_item(client, analyst, dataset,
                                                            method) -> None:
    # The write's own ?repair=true must not be read as a parameter of the item it answers with.
    created = client.post(ITEMS, json=feature(dataset.id), headers=analyst)
    url = f"{ITEMS}/{created.get_json()['ids'][0]}?repair=true"
    body = (feature(dataset.id, geometry=BOWTIE) if method == "put"
            else {"geometry": BOWTIE})
    response = getattr(client, method)(url, json=body, headers=analyst)
    assert response.status_code == 200, response.get_json()
    answered = shape(response.get_json()["geometry"])
    assert answered.is_valid and answered.area > 0


@pytest.mark.parametrize("kind", [["Polygon"], {"a": 1}, None, 3])
def test_a_geometry_type_that_is_no_name_is_refused(client, analyst, dataset, kind) -> None:
    geometry = {"type": kind, "coordinates": SQUARE["coordinates"]}
    response = client.post(ITEMS, json=feature(dataset.id, geometry=geometry), headers=analyst)
    assert response.status_code == 400
    assert "Polygon or MultiPolygon" in response.get_json()["message"]
    parcel = client.post("/api/lookup/area", json=geometry)
    assert parcel.status_code == 400 and "Polygon or MultiPolygon" in parcel.get_json()["message"]
