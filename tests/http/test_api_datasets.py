"""Dataset import and export routes (small uploads are imported within the request)."""

from __future__ import annotations

import io
import zipfile

import pyogrio.raw
import pytest
import shapely
from sqlalchemy import func, select

from geoapp.db.models import Dataset, FloodZone
from tests.upload_files import SAMPLE_ZIP, nfhl_squares, shapefile_parts, write_layer, zip_files

SAMPLE_GEOJSON = SAMPLE_ZIP.with_name("manasquan_nfhl.geojson")


@pytest.fixture()
def analyst(make_user, make_token) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}"}


def upload(client, headers, path=SAMPLE_ZIP, **fields):
    data = {"name": "Uploaded FIRM", **fields,
            "file": (io.BytesIO(path.read_bytes()), path.name)}
    return client.post("/api/datasets", data=data, headers=headers,
                       content_type="multipart/form-data")


def test_upload_imports_and_reports(client, analyst) -> None:
    response = upload(client, analyst, effective_date="2024-06-20")
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "ready" and body["feature_count"] == 16
    assert body["report"]["source_crs"] == "EPSG:3424"
    status = client.get(response.headers["Location"])
    assert status.status_code == 200 and status.get_json()["id"] == body["id"]
    listed = client.get("/api/datasets").get_json()["datasets"]
    assert body["id"] in [d["id"] for d in listed]


def test_upload_needs_an_analyst(client, make_user, make_token) -> None:
    assert upload(client, {}).status_code == 401
    viewer = {"Authorization": f"Bearer {make_token(make_user('viewer')).secret}"}
    assert upload(client, viewer).status_code == 403


def test_bad_uploads_get_json_errors_and_change_nothing(client, analyst, session,
                                                        tmp_path) -> None:
    before = session.scalar(select(func.count()).select_from(Dataset))
    png = tmp_path / "map.zip"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    response = upload(client, analyst, path=png)
    assert response.status_code == 400 and response.get_json()["error"] == "wrong_content"
    assert upload(client, analyst, name="").get_json()["error"] == "missing_name"
    no_file = client.post("/api/datasets", data={"name": "x"}, headers=analyst,
                          content_type="multipart/form-data")
    assert no_file.get_json()["error"] == "missing_file"
    assert session.scalar(select(func.count()).select_from(Dataset)) == before


def test_refused_import_is_an_error_and_leaves_no_dataset(client, analyst, session,
                                                          tmp_path) -> None:
    # Small uploads are imported within the request: a refusal is the response itself.
    before = session.scalar(select(func.count()).select_from(Dataset))
    archive = tmp_path / "slip.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../x.shp", b"x")
    response = upload(client, analyst, path=archive)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "unsafe_archive" and "unsafe path" in body["message"]
    assert session.scalar(select(func.count()).select_from(Dataset)) == before
    assert session.scalar(select(func.count()).select_from(FloodZone)) == 0


def test_upload_over_the_limit_is_413(client, analyst, app, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_UPLOAD_MAX_MB", 0)
    response = upload(client, analyst)
    assert response.status_code == 413
    assert response.get_json()["error"]


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "fgb"])
def test_import_export_import_gives_the_same_features(client, analyst, tmp_path, fmt) -> None:
    first = upload(client, analyst, path=SAMPLE_GEOJSON, name="round trip").get_json()
    exported = client.get(f"/api/datasets/{first['id']}/export?format={fmt}")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["Content-Disposition"]
    name = exported.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    path = tmp_path / name
    path.write_bytes(exported.data)
    again = upload(client, analyst, path=path, name=f"round trip {fmt}").get_json()
    assert again["status"] == "ready", again["error"]
    original = features_of(client, first["id"], tmp_path)
    reread = features_of(client, again["id"], tmp_path)
    assert set(original) == set(reread)
    for key, (geometry, props) in original.items():
        assert props["NOTE"] == reread[key][1]["NOTE"]
        # A .dbf cannot tell an empty text from a null one.
        assert (props["ZONE_SUBTY"] or None) == (reread[key][1]["ZONE_SUBTY"] or None)
        assert props["STATIC_BFE"] == reread[key][1]["STATIC_BFE"]
        assert shapely.hausdorff_distance(geometry, reread[key][0]) < 1e-7


def features_of(client, dataset_id, directory):
    """FLD_AR_ID -> (geometry, source attributes) of a dataset, through a GeoPackage export."""
    path = directory / f"check-{dataset_id}.gpkg"
    path.write_bytes(client.get(f"/api/datasets/{dataset_id}/export?format=gpkg").data)
    meta, _, wkb, columns = pyogrio.raw.read(str(path))
    names = list(meta["fields"])
    out = {}
    for i, geometry in enumerate(shapely.from_wkb(wkb)):
        props = {n: columns[j][i] for j, n in enumerate(names)}
        out[props["FLD_AR_ID"]] = (geometry, props)
    return out


@pytest.mark.parametrize("fmt", ["shp", "gpkg", "geojson"])
def test_non_ascii_field_names_and_values_survive_the_round_trip(client, analyst, session,
                                                                 tmp_path, fmt) -> None:
    # A cp1252 shapefile (with its .cpg) whose field name and values are not ASCII.
    geometries, fields = nfhl_squares(2)
    shp = write_layer(tmp_path / "crue.shp", geometries,
                      {**fields, "RÉMARQUE": ["Crue près du pont – café", "Zone à risque"]},
                      encoding="cp1252")
    source = zip_files(tmp_path / "crue.zip", shapefile_parts(shp))
    first = upload(client, analyst, path=source, name="accents").get_json()
    assert first["status"] == "ready", first["error"]
    exported = client.get(f"/api/datasets/{first['id']}/export?format={fmt}")
    name = exported.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    (tmp_path / "out").mkdir()
    path = tmp_path / "out" / name
    path.write_bytes(exported.data)
    again = upload(client, analyst, path=path, name=f"accents {fmt}").get_json()
    assert again["status"] == "ready", again["error"]
    for dataset_id in (first["id"], again["id"]):
        notes = session.scalars(select(FloodZone.attributes["RÉMARQUE"].astext)
                                .where(FloodZone.dataset_id == dataset_id)).all()
        assert sorted(notes) == ["Crue près du pont – café", "Zone à risque"]


@pytest.mark.parametrize("fmt", ["csv", "kml"])
def test_other_exports_are_readable(client, analyst, tmp_path, fmt) -> None:
    first = upload(client, analyst, path=SAMPLE_GEOJSON, name="export").get_json()
    exported = client.get(f"/api/datasets/{first['id']}/export?format={fmt}")
    assert exported.status_code == 200
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(exported.data)
    _, _, wkb, _ = pyogrio.raw.read(str(path))
    assert len(wkb) == 16


def test_export_errors(client) -> None:
    assert client.get("/api/datasets/999999/export").status_code == 404
    bad = client.get("/api/datasets/999999/export?format=dwg")
    assert bad.status_code == 400 and "format" in bad.get_json()["message"]
