"""POST /api/lookup/batch: GeoJSON and CSV in, JSON/GeoJSON/CSV out, one query for all points."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event

from geoapp.extensions import db
from geoapp.risk.lookup import lookup_points

AE = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"
X = "POLYGON((1 0, 2 0, 2 1, 1 1, 1 0))"


@pytest.fixture()
def auth(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}


@pytest.fixture()
def zones(make_dataset, make_zone) -> None:
    dataset = make_dataset(name="Batch FIRM")
    make_zone(AE, dataset=dataset, fld_zone="AE", static_bfe=12.0, v_datum="NAVD88")
    make_zone(
        X, dataset=dataset, fld_zone="X", sfha_tf=False, zone_subty="AREA OF MINIMAL FLOOD HAZARD"
    )


def point(ident, lon, lat, **props):
    return {
        "type": "Feature",
        "id": ident,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def collection(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def test_geojson_batch_keeps_order_ids_and_reports_bad_rows(client, auth, zones) -> None:
    body = collection(
        point("a", 0.5, 0.5),
        point("b", 1.5, 0.5),
        point("c", 5, 5),
        point("d", -74, 95),
        {"type": "Feature", "id": "e", "geometry": None},
    )
    response = client.post("/api/lookup/batch", json=body, headers=auth)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == ["a", "b", "c", "d", "e"]
    assert [r["status"] for r in results] == ["high_risk", "minimal_risk", "unmapped", None, None]
    assert results[0]["zone"] == "AE" and results[0]["bfe"] == 12.0
    assert results[0]["dataset"] == "Batch FIRM"
    assert "'lat' must be between" in results[3]["error"]
    assert "Point" in results[4]["error"]


def test_geojson_out_keeps_input_properties(client, auth, zones) -> None:
    body = collection(point(7, 0.5, 0.5, loan="L-7", value=250000))
    response = client.post(
        "/api/lookup/batch", json=body, headers={**auth, "Accept": "application/geo+json"}
    )
    assert response.mimetype == "application/geo+json"
    [feature] = response.get_json()["features"]
    assert feature["id"] == 7
    assert feature["geometry"]["coordinates"] == [0.5, 0.5]
    assert feature["properties"]["loan"] == "L-7"
    assert feature["properties"]["status"] == "high_risk"


@pytest.mark.parametrize(
    "header", ["id,longitude,latitude,owner", "ID;X;Y;owner", "ref\tlng\tlat\towner"]
)
def test_csv_columns_are_detected(client, auth, zones, header: str) -> None:
    sep = ";" if ";" in header else ("\t" if "\t" in header else ",")
    rows = [
        header,
        sep.join(["p1", "0.5", "0.5", "Zoë"]),
        sep.join(["p2", "1.5", "0.2", "Bo"]),
        sep.join(["p3", "abc", "0.2", "Cy"]),
    ]
    response = client.post(
        "/api/lookup/batch",
        data="\n".join(rows).encode(),
        headers={**auth, "Content-Type": "text/csv", "Accept": "text/csv"},
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["id"] for r in table] == ["p1", "p2", "p3"]
    assert [r["status"] for r in table] == ["high_risk", "minimal_risk", ""]
    assert table[0]["owner"] == "Zoë"
    assert "not a number" in table[2]["error"]


def test_csv_file_upload(client, auth, zones) -> None:
    data = {"file": (io.BytesIO(b"id,lon,lat\n1,0.5,0.5\n"), "portfolio.csv")}
    response = client.post(
        "/api/lookup/batch", data=data, headers=auth, content_type="multipart/form-data"
    )
    assert response.get_json()["results"][0]["status"] == "high_risk"


def test_full_detail_includes_the_whole_report(client, auth, zones) -> None:
    response = client.post(
        "/api/lookup/batch?detail=full", json=collection(point(1, 0.5, 0.5)), headers=auth
    )
    [row] = response.get_json()["results"]
    assert row["report"]["zones"][0]["vertical_datum"] == "NAVD88"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": b"not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"json": {"type": "Feature"}}, 400, "invalid_input"),
        ({"json": [1, 2]}, 400, "invalid_input"),
        ({"data": b"name,city\nA,B\n", "content_type": "text/csv"}, 400, "missing_columns"),
        ({"data": b"", "content_type": "text/csv"}, 400, "empty_input"),
        ({"data": b"<xml/>", "content_type": "application/xml"}, 415, "unsupported_media_type"),
    ],
)
def test_bad_batches_get_clear_errors(client, auth, kwargs, status, code) -> None:
    response = client.post("/api/lookup/batch", headers=auth, **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"] == code


def test_batch_over_the_limit_is_413_naming_it(app, client, auth, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_BATCH_MAX_POINTS", 3)
    body = collection(*(point(i, 0.5, 0.5) for i in range(4)))
    response = client.post("/api/lookup/batch", json=body, headers=auth)
    assert response.status_code == 413
    assert "at most 3 points" in response.get_json()["message"]
    csv_body = "id,lon,lat\n" + "".join(f"{i},0.5,0.5\n" for i in range(4))
    response = client.post(
        "/api/lookup/batch", data=csv_body, headers=auth, content_type="text/csv"
    )
    assert response.status_code == 413


def test_batch_needs_an_account(client) -> None:
    response = client.post("/api/lookup/batch", json=collection(point(1, 0.5, 0.5)))
    assert response.status_code == 401


def test_many_points_take_one_query(session, zones) -> None:
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    points = [(0.01 * i, 0.5) for i in range(200)]
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        reports = lookup_points(session, points)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len([s for s in statements if "flood_zone_pieces" in s]) == 1
    assert [r.status for r in reports[:3]] == ["high_risk"] * 3
    assert reports[100].status in {"high_risk", "minimal_risk"}  # lon 1.0: on the shared edge
    assert reports[150].status == "minimal_risk"
    assert len(reports[100].zones) == 2
