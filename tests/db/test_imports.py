"""The import pipeline against PostGIS, with real-world and hostile files built in code."""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import struct
import zipfile

import numpy as np
import pyogrio.raw
import pytest
import shapely
import shapely.affinity
from shapely.geometry import Point, Polygon, box
from sqlalchemy import func, select

from geoapp.cli import SAMPLE_FILE
from geoapp.db.models import Dataset, FloodZone, FloodZonePiece
from geoapp.db.queries.scope import Scope
from geoapp.errors import InvalidInput, PayloadTooLarge
from geoapp.ingest import files, jobs, runs
from geoapp.ingest.pieces import PIECE_MAX_VERTICES
from geoapp.ingest.pipeline import plan, read
from geoapp.ingest.request import ImportRequest
from geoapp.ingest.sources import read_layer
from geoapp.risk.lookup import lookup_point
from tests.upload_files import (
    SAMPLE_ZIP,
    detailed_zone,
    nfhl_squares,
    shapefile_parts,
    write_layer,
    zip_files,
)

LIMITS = files.UnpackLimits(max_uncompressed_bytes=50 << 20, max_ratio=100)


def zone_count(session) -> int:
    return session.scalar(select(func.count()).select_from(FloodZone))


def do_import(session, path, tmp_path, **options):
    """Import a file into a new dataset (committed: a savepoint here); (dataset, report)."""
    opts = ImportRequest.parse({"name": options.pop("name", "trial"), **options})
    dataset = runs.create_pending(session, opts, path.name, None)
    return dataset, runs.run_import(session, dataset, path, opts, LIMITS)


def refused(session, path, tmp_path, code, **options) -> str:
    """Assert an import is refused with `code` and writes no zone; return the message."""
    before = zone_count(session)
    with session.begin_nested():
        with pytest.raises((InvalidInput, PayloadTooLarge)) as caught:
            do_import(session, path, tmp_path, **options)
        assert caught.value.code == code, caught.value.message
        session.rollback()
    assert zone_count(session) == before
    return caught.value.message


def test_state_plane_shapefile_with_esri_prj_and_cp1252(session, tmp_path) -> None:
    dataset, report = do_import(session, SAMPLE_ZIP, tmp_path, effective_date="2024-06-20")
    assert report.source_crs == "EPSG:3424"
    assert report.encoding == "CP1252"  # from the .cpg
    assert report.imported == report.features_read == 16
    assert dataset.status == "ready" and dataset.feature_count == 16
    notes = {z.attributes["NOTE"] for z in session.scalars(
        select(FloodZone).where(FloodZone.dataset_id == dataset.id))}
    assert "Ponding near Glimmer Glass – sheet flow, café row" in notes
    # Reprojected onto the GeoJSON of the same drawing.
    reference = {p["FLD_AR_ID"]: g for g, p in read_layer(SAMPLE_FILE).features()}
    for zone in session.scalars(select(FloodZone).where(FloodZone.dataset_id == dataset.id)):
        stored = shapely.from_wkb(bytes(zone.geom.data))
        assert shapely.hausdorff_distance(stored, reference[zone.fld_ar_id]) < 2e-7


def test_report_has_the_counts_crs_bbox_and_zone_breakdown(session, tmp_path) -> None:
    _, report = do_import(session, SAMPLE_ZIP, tmp_path)
    data = report.as_json()
    assert data["zones"]["AE"] == 7 and sum(data["zones"].values()) == 16
    assert data["bbox"][0] == pytest.approx(-74.14, abs=0.01)
    assert json.loads(json.dumps(data)) == data


def test_shapefile_in_a_subfolder_of_the_zip(session, tmp_path) -> None:
    shp = write_layer(tmp_path / "zones.shp", *nfhl_squares())
    archive = zip_files(tmp_path / "nested.zip", shapefile_parts(shp), folder="export/NFHL/")
    _, report = do_import(session, archive, tmp_path)
    assert report.imported == 3


def test_missing_prj_asks_for_source_crs(session, tmp_path) -> None:
    shp = write_layer(tmp_path / "noprj.shp", *nfhl_squares())
    parts = [p for p in shapefile_parts(shp) if p.suffix != ".prj"]
    archive = zip_files(tmp_path / "noprj.zip", parts)
    assert "source_crs" in refused(session, archive, tmp_path, "missing_crs")
    _, report = do_import(session, archive, tmp_path, source_crs="EPSG:4326")
    assert report.imported == 3


def test_missing_shx_is_refused(session, tmp_path) -> None:
    shp = write_layer(tmp_path / "noshx.shp", *nfhl_squares())
    archive = zip_files(tmp_path / "noshx.zip",
                        [p for p in shapefile_parts(shp) if p.suffix != ".shx"])
    assert ".shx" in refused(session, archive, tmp_path, "incomplete_shapefile")


def test_point_layer_is_refused_with_its_count(session, tmp_path) -> None:
    path = write_layer(tmp_path / "points.geojson", [Point(0, 0), Point(1, 1)],
                       {"FLD_ZONE": ["AE", "X"]}, driver="GeoJSON", geometry_type="Point")
    assert "2 Point features" in refused(session, path, tmp_path, "not_polygons")


def bowtie_file(tmp_path):
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    geometries, fields = nfhl_squares(2)
    return write_layer(tmp_path / "bowtie.geojson", [*geometries, bowtie],
                       {k: [*v, v[0]] for k, v in fields.items()}, driver="GeoJSON")


def test_bowtie_is_repaired_and_counted(session, tmp_path) -> None:
    _, report = do_import(session, bowtie_file(tmp_path), tmp_path)
    assert (report.imported, report.repaired) == (3, 1)
    assert session.scalar(select(func.bool_and(func.ST_IsValid(FloodZone.geom)))) is True


def test_bowtie_without_repair_refuses_everything(session, tmp_path) -> None:
    message = refused(session, bowtie_file(tmp_path), tmp_path, "invalid_geometries",
                      repair=False)
    assert "feature 2" in message and "Self-intersection" in message


def test_holes_duplicate_vertices_and_z_survive(session, tmp_path) -> None:
    with_hole = Polygon([(0, 0, 5), (4, 0, 5), (4, 4, 5), (0, 4, 5), (0, 0, 5)],
                        [[(1, 1, 5), (1, 1, 5), (3, 1, 5), (3, 3, 5), (1, 3, 5), (1, 1, 5)]])
    path = write_layer(tmp_path / "hole.geojson", [with_hole], {"fld_zone": ["X"]},
                       driver="GeoJSON")
    dataset, report = do_import(session, path, tmp_path)
    assert report.imported == 1
    assert [h.fld_zone for h in lookup_point(session, 0.5, 0.5).zones] == ["X"]
    assert lookup_point(session, 2, 2).status == "unmapped"
    assert session.scalar(select(func.ST_NDims(FloodZone.geom))
                          .where(FloodZone.dataset_id == dataset.id)) == 2


def test_other_schemas_need_a_field_mapping(session, tmp_path) -> None:
    path = write_layer(tmp_path / "county.geojson", [box(0, 0, 1, 1)],
                       {"ZONE": ["AE"], "BFE_FT": [12.5]}, driver="GeoJSON")
    assert "field mapping" in refused(session, path, tmp_path, "field_mapping_required")
    refused(session, path, tmp_path, "invalid_field_mapping", field_map={"FLD_ZONE": "NOPE"})
    _, report = do_import(session, path, tmp_path,
                          field_map={"FLD_ZONE": "ZONE", "STATIC_BFE": "BFE_FT"})
    assert report.imported == 1
    zone = session.scalar(select(FloodZone).order_by(FloodZone.id.desc()))
    assert (zone.fld_zone, zone.static_bfe, zone.attributes["BFE_FT"]) == ("AE", 12.5, 12.5)


def test_geopackage_flood_layer_found_by_name(session, tmp_path) -> None:
    gpkg = tmp_path / "nfhl.gpkg"
    write_layer(gpkg, [box(0, 0, 1, 1)], {"NAME": ["county"]}, driver="GPKG",
                layer="S_POL_AR")
    write_layer(gpkg, *nfhl_squares(), driver="GPKG", layer="S_FLD_HAZ_AR")
    _, report = do_import(session, gpkg, tmp_path)
    assert (report.layer, report.imported) == ("S_FLD_HAZ_AR", 3)


def test_zipped_file_geodatabase(session, tmp_path) -> None:
    gdb = tmp_path / "NFHL_34.gdb"
    geometries, fields = nfhl_squares(4)
    write_layer(gdb, geometries, fields, driver="OpenFileGDB", layer="S_FLD_HAZ_AR",
                geometry_type="MultiPolygon")
    write_layer(gdb, [box(0, 0, 1, 1)], {"NAME": ["panel"]}, driver="OpenFileGDB",
                layer="S_FIRM_PAN", geometry_type="MultiPolygon")
    archive = tmp_path / "nfhl.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for part in gdb.iterdir():
            bundle.write(part, f"{gdb.name}/{part.name}")
    _, report = do_import(session, archive, tmp_path)
    assert (report.layer, report.imported) == ("S_FLD_HAZ_AR", 4)


def test_kmz(session, tmp_path) -> None:
    kml = write_layer(tmp_path / "doc.kml", *nfhl_squares(2), driver="KML")
    kmz = tmp_path / "zones.kmz"
    with zipfile.ZipFile(kmz, "w") as bundle:
        bundle.write(kml, "doc.kml")
    _, report = do_import(session, kmz, tmp_path)
    assert report.imported == 2


def curve_polygon_wkb() -> bytes:
    """WKB of CURVEPOLYGON(CIRCULARSTRING(0 0, 1 1, 2 0, 1 -1, 0 0)) (shapely cannot write it)."""
    points = [(0, 0), (1, 1), (2, 0), (1, -1), (0, 0)]
    ring = struct.pack("<BII", 1, 8, len(points)) + b"".join(
        struct.pack("<dd", x, y) for x, y in points)
    return struct.pack("<BII", 1, 10, 1) + ring


def test_curved_polygons_are_linearised(session, tmp_path) -> None:
    gpkg = tmp_path / "curves.gpkg"
    pyogrio.raw.write(str(gpkg), np.array([curve_polygon_wkb()], dtype=object),
                      [np.array(["AE"], dtype=object)], ["FLD_ZONE"], driver="GPKG",
                      crs="EPSG:4326", geometry_type="Unknown")
    dataset, report = do_import(session, gpkg, tmp_path)
    assert report.imported == 1
    zone = session.scalar(select(FloodZone).where(FloodZone.dataset_id == dataset.id))
    circle = shapely.from_wkb(bytes(zone.geom.data))
    assert circle.geom_type == "MultiPolygon" and shapely.get_num_coordinates(circle) > 20
    assert circle.area == pytest.approx(3.14159, rel=0.01)


def test_zip_bomb_is_refused(session, tmp_path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zones.shp", b"\0" * (20 << 20))
    assert "limit" in refused(session, bomb, tmp_path, "archive_too_large")


def test_zip_slip_entry_is_refused(session, tmp_path) -> None:
    evil = tmp_path / "slip.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../../outside.shp", b"x")
    refused(session, evil, tmp_path, "unsafe_archive")
    assert not (tmp_path.parent / "outside.shp").exists()


def test_zip_with_a_symlink_is_refused(session, tmp_path) -> None:
    evil = tmp_path / "link.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        info = zipfile.ZipInfo("zones.shp")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
    refused(session, evil, tmp_path, "unsafe_archive")


def test_png_named_zip_is_refused(session, tmp_path) -> None:
    fake = tmp_path / "map.zip"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    assert "PNG" in refused(session, fake, tmp_path, "wrong_content")


def test_empty_layer_and_empty_file(session, tmp_path) -> None:
    empty_layer = tmp_path / "empty.geojson"
    empty_layer.write_text('{"type": "FeatureCollection", "features": []}')
    refused(session, empty_layer, tmp_path, "empty_layer")
    zero = tmp_path / "zero.gpkg"
    zero.write_bytes(b"")
    refused(session, zero, tmp_path, "empty_file")


def test_reimport_creates_a_version_and_keeps_the_old_for_as_of(session, tmp_path) -> None:
    first = write_layer(tmp_path / "v1.geojson", [box(0, 0, 1, 1)], {"FLD_ZONE": ["X"]},
                        driver="GeoJSON")
    second = write_layer(tmp_path / "v2.geojson", [box(0, 0, 1, 1)], {"FLD_ZONE": ["AE"]},
                         driver="GeoJSON")
    old, _ = do_import(session, first, tmp_path, name="County", effective_date="2010-01-01")
    new, report = do_import(session, second, tmp_path, name="County",
                            effective_date="2024-01-01")
    assert report.superseded_dataset_ids == [old.id]
    session.refresh(old)
    assert (old.status, old.superseded_on) == ("retired", dt.date(2024, 1, 1))
    assert [h.fld_zone for h in lookup_point(session, 0.5, 0.5).zones] == ["AE"]
    then = lookup_point(session, 0.5, 0.5, Scope(as_of=dt.date(2015, 1, 1)))
    assert [h.fld_zone for h in then.zones] == ["X"]


def test_failed_run_is_recorded_and_upload_removed(session, tmp_path) -> None:
    upload_dir = tmp_path / "upload"
    upload_dir.mkdir()
    bad = upload_dir / "broken.zip"
    bad.write_bytes(io.BytesIO(b"PK\x03\x04 not really").getvalue())
    opts = ImportRequest.parse({"name": "broken"})
    dataset = runs.create_pending(session, opts, bad.name, None)
    session.commit()
    result = runs.run_queued_import(session, dataset.id, bad, opts, LIMITS)
    assert result.status == "failed" and "zip" in result.error
    assert not upload_dir.exists()
    assert session.get(Dataset, dataset.id).feature_count == 0


def test_a_job_whose_request_no_longer_parses_fails_its_dataset(app, session, tmp_path) -> None:
    upload_dir = tmp_path / "upload"
    upload_dir.mkdir()
    upload = upload_dir / "zones.zip"
    upload.write_bytes(b"PK\x03\x04")
    request = ImportRequest.parse({"name": "older job"})
    dataset = runs.create_pending(session, request, upload.name, None)
    session.commit()
    dataset_id = dataset.id  # the job's app context ends with the session it used
    jobs.perform_import(app, dataset_id, str(upload), {**request.to_json(), "encoding": "klingon"})
    failed = session.get(Dataset, dataset_id)
    assert failed.status == "failed" and "klingon" in failed.error
    assert not upload_dir.exists()


def test_awkward_text_survives_the_bulk_load(session, tmp_path) -> None:
    awkward = "tab\there, back\\slash, new\nline, quote \" and \\N"
    path = write_layer(tmp_path / "text.geojson", [box(0, 0, 1, 1)],
                       {"FLD_ZONE": ["AE"], "ZONE_SUBTY": [awkward], "NOTE": [awkward]},
                       driver="GeoJSON")
    dataset, _ = do_import(session, path, tmp_path)
    zone = session.scalar(select(FloodZone).where(FloodZone.dataset_id == dataset.id))
    assert zone.zone_subty == awkward.strip() and zone.attributes["NOTE"] == awkward


def test_overlong_text_is_cut_for_the_column_and_kept_whole(session, tmp_path) -> None:
    long_subtype = "Z" * 300
    path = write_layer(tmp_path / "long.geojson", [box(0, 0, 1, 1)],
                       {"FLD_ZONE": ["AE"], "ZONE_SUBTY": [long_subtype]}, driver="GeoJSON")
    dataset, _ = do_import(session, path, tmp_path)
    zone = session.scalar(select(FloodZone).where(FloodZone.dataset_id == dataset.id))
    assert len(zone.zone_subty) == 128 and zone.attributes["ZONE_SUBTY"] == long_subtype


def test_options_are_validated() -> None:
    with pytest.raises(InvalidInput, match="name"):
        ImportRequest.parse({"name": " "})
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        ImportRequest.parse({"name": "a", "effective_date": "June 2024"})
    with pytest.raises(InvalidInput, match="field_map"):
        ImportRequest.parse({"name": "a", "field_map": ["FLD_ZONE"]})
    with pytest.raises(InvalidInput, match="unknown text encoding 'klingon'"):
        ImportRequest.parse({"name": "a", "encoding": "klingon"})
    assert ImportRequest.parse({"name": "a", "encoding": " cp1252 "}).encoding == "cp1252"
    assert ImportRequest(name="a").repair is True


def test_large_zones_are_cut_into_pieces_by_the_importer(session, tmp_path) -> None:
    large = shapely.affinity.scale(detailed_zone(3_000), 0.01, 0.01, origin=(0, 0))
    small = box(1, 1, 1.01, 1.01)
    path = write_layer(tmp_path / "large.geojson", [large, small],
                       {"FLD_ZONE": ["AE", "X"], "ZONE_SUBTY": ["", "MINIMAL FLOOD HAZARD"]},
                       driver="GeoJSON")
    dataset, report = do_import(session, path, tmp_path)
    assert report.imported == 2
    rows = session.execute(
        select(FloodZone.fld_zone, FloodZone.risk_status, func.ST_Area(FloodZone.geom),
               func.count(FloodZonePiece.id), func.sum(func.ST_Area(FloodZonePiece.geom)),
               func.max(func.ST_NPoints(FloodZonePiece.geom)),
               func.bool_and(func.ST_IsValid(FloodZonePiece.geom)),
               func.array_agg(func.distinct(FloodZonePiece.risk_status)))
        .join(FloodZonePiece, FloodZonePiece.zone_id == FloodZone.id)
        .where(FloodZone.dataset_id == dataset.id)
        .group_by(FloodZone.id).order_by(FloodZone.fld_zone)).all()
    (ae, ae_status, ae_area, ae_pieces, ae_pieces_area, ae_max, ae_valid, ae_tags), x = rows
    assert ae == "AE" and ae_pieces > 3_000 // PIECE_MAX_VERTICES
    assert math.isclose(ae_pieces_area, ae_area, rel_tol=1e-9)
    assert ae_max <= PIECE_MAX_VERTICES and ae_valid
    assert ae_tags == [ae_status] == ["high_risk"]
    assert x[0] == "X" and x[3] == 1 and x[7] == ["minimal_risk"]
    # Lookups go through the pieces: inside, in a hole, outside.
    assert [z.fld_zone for z in lookup_point(session, 0.0, 0.0).zones] == ["AE"]
    assert lookup_point(session, 0.03, 0.0).status == "unmapped"


def test_after_an_import_the_trigger_cuts_large_zones_again(session, tmp_path, make_zone
                                                            ) -> None:
    path = write_layer(tmp_path / "one.geojson", [box(0, 0, 0.01, 0.01)], {"FLD_ZONE": ["AE"]},
                       driver="GeoJSON")
    do_import(session, path, tmp_path)
    zone = make_zone(shapely.affinity.translate(
        shapely.affinity.scale(detailed_zone(1_000, holes=0), 0.01, 0.01), 5, 5).wkt)
    pieces = session.execute(
        select(func.count(), func.sum(func.ST_Area(FloodZonePiece.geom)))
        .where(FloodZonePiece.zone_id == zone.id)).one()
    assert pieces[0] > 1
    assert math.isclose(pieces[1], session.scalar(select(func.ST_Area(FloodZone.geom))
                                                  .where(FloodZone.id == zone.id)), rel_tol=1e-9)


def test_chunks_follow_the_vertex_budget(tmp_path, monkeypatch) -> None:
    zones = [shapely.affinity.translate(detailed_zone(1_000, holes=0), 20 * i, 0)
             for i in range(20)]
    path = write_layer(tmp_path / "detailed.geojson", zones, {"FLD_ZONE": ["X"] * 20},
                       driver="GeoJSON")
    monkeypatch.setattr(read, "READ_BATCH", 2)

    def chunks(**options):
        options = ImportRequest(name="t", **options)
        layer_plan = plan.plan_layer(path, options)
        return [(first, len(geometries))
                for first, geometries, _, _ in read.read_chunks(layer_plan, options)]

    opened = []
    open_arrow = pyogrio.raw.open_arrow
    monkeypatch.setattr(pyogrio.raw, "open_arrow",
                        lambda *a, **k: opened.append(a) or open_arrow(*a, **k))
    # 2,500 vertices hold two 1,001-vertex zones; 8 features cap chunks of small budgets.
    assert chunks(chunk_size=8, chunk_vertices=2_500) == [(i, 2) for i in range(0, 20, 2)]
    assert chunks(chunk_size=8, chunk_vertices=10**9) == [(0, 8), (8, 8), (16, 4)]
    # Each read parsed the GeoJSON once, not once per chunk.
    assert len(opened) == 2


def test_truncated_shapefile_is_refused_not_half_imported(session, tmp_path) -> None:
    geometries, fields = nfhl_squares(6)
    shp = write_layer(tmp_path / "cut.shp", geometries, fields)
    shp.write_bytes(shp.read_bytes()[:-300])  # GDAL would read the lost records as empty
    source = zip_files(tmp_path / "cut.zip", shapefile_parts(shp))
    message = refused(session, source, tmp_path, "truncated_file")
    assert "cut.shp is cut short: 616 bytes where its header announces 916" in message
    assert refused(session, shp, tmp_path, "truncated_file") == message  # a .shp on the CLI


def test_file_unreadable_past_a_feature_is_refused(session, tmp_path) -> None:
    geometries, fields = nfhl_squares(50)
    fgb = write_layer(tmp_path / "cut.fgb", geometries, fields, driver="FlatGeobuf")
    fgb.write_bytes(fgb.read_bytes()[:fgb.stat().st_size * 2 // 3])
    message = refused(session, fgb, tmp_path, "unreadable_file")
    assert "truncated or damaged" in message


def test_truncated_dbf_is_refused(session, tmp_path) -> None:
    geometries, fields = nfhl_squares(6)
    shp = write_layer(tmp_path / "short.shp", geometries, fields)
    dbf = shp.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-200])  # GDAL would stop after the fifth record
    source = zip_files(tmp_path / "short.zip", shapefile_parts(shp))
    message = refused(session, source, tmp_path, "truncated_file")
    assert "short.dbf is cut short" in message


def test_deleted_dbf_records_are_left_out_not_refused(session, tmp_path) -> None:
    geometries, fields = nfhl_squares(6)
    shp = write_layer(tmp_path / "edited.shp", geometries, fields)
    dbf = shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    header_size, record_size = (int.from_bytes(data[8:10], "little"),
                                int.from_bytes(data[10:12], "little"))
    data[header_size + 2 * record_size] = ord("*")  # the third record deleted, as ArcMap does
    dbf.write_bytes(bytes(data))
    dataset, report = do_import(session, shp, tmp_path)
    assert report.imported == 5
    ids = session.scalars(select(FloodZone.fld_ar_id).where(FloodZone.dataset_id == dataset.id))
    assert sorted(ids) == ["T_0", "T_1", "T_3", "T_4", "T_5"]


def test_encoding_override_reads_a_dbf_without_cpg(session, tmp_path) -> None:
    geometries, fields = nfhl_squares(2)
    shp = write_layer(tmp_path / "nocpg.shp", geometries,
                      {**fields, "NOTE": ["Crue près du pont – café", "Zone à risque"]},
                      encoding="cp1252")
    shp.with_suffix(".cpg").unlink()
    dataset, report = do_import(session, shp, tmp_path, encoding="cp1252")
    notes = session.scalars(select(FloodZone.attributes["NOTE"].astext)
                            .where(FloodZone.dataset_id == dataset.id)).all()
    assert sorted(notes) == ["Crue près du pont – café", "Zone à risque"]
    assert report.encoding == "cp1252"


def test_report_names_the_encoding_gdal_read(session, tmp_path) -> None:
    geometries, fields = nfhl_squares(1)
    shp = write_layer(tmp_path / "plain.shp", geometries, fields, encoding="cp1252")
    shp.with_suffix(".cpg").unlink()
    assert do_import(session, shp, tmp_path)[1].encoding == "ISO-8859-1"  # GDAL's default
    dbf = shp.with_suffix(".dbf")
    data = bytearray(dbf.read_bytes())
    data[29] = 87  # a language driver id in the .dbf header
    dbf.write_bytes(bytes(data))
    assert do_import(session, shp, tmp_path, name="ldid")[1].encoding == "LDID/87"
    geojson = write_layer(tmp_path / "plain.geojson", geometries, fields, driver="GeoJSON")
    assert do_import(session, geojson, tmp_path, name="json")[1].encoding == "UTF-8"


def test_wrong_encoding_override_is_refused_with_the_features(session, tmp_path) -> None:
    # The sample's .dbf is cp1252 ("–" is byte 0x96), which is not valid UTF-8.
    message = refused(session, SAMPLE_ZIP, tmp_path, "undecodable_text", encoding="utf-8")
    assert "is not utf-8" in message and "features 0 to 15" in message
