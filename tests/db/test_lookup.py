"""Point lookups against PostGIS (query and domain layer)."""

from __future__ import annotations

import datetime as dt

from shapely.geometry import Polygon
from sqlalchemy import func, select

from geoapp.db.models import FloodZonePiece
from geoapp.risk.lookup import lookup_point

SQUARE = "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))"
SQUARE_WITH_HOLE = "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 3 1, 3 3, 1 3, 1 1))"


def zones_at(session, lon: float, lat: float) -> list[str]:
    return sorted(hit.fld_zone for hit in lookup_point(session, lon, lat).zones)


def test_point_inside_a_zone(session, make_zone) -> None:
    make_zone(SQUARE, fld_zone="AE", static_bfe=9.0, v_datum="NAVD88", len_unit="Feet")
    report = lookup_point(session, 0.5, 0.5)
    assert report.status == "high_risk"
    assert report.in_sfha
    [hit] = report.zones
    assert (hit.fld_zone, hit.static_bfe, hit.v_datum) == ("AE", 9.0, "NAVD88")


def test_point_outside_every_zone_is_unmapped_not_x(session, make_zone) -> None:
    make_zone(SQUARE, fld_zone="X", zone_subty="AREA OF MINIMAL FLOOD HAZARD", sfha_tf=False)
    report = lookup_point(session, 1.5, 0.5)
    assert report.status == "unmapped"
    assert report.zones == []


def test_point_on_the_boundary_counts_as_inside(session, make_zone) -> None:
    make_zone(SQUARE)
    assert zones_at(session, 1.0, 0.5) == ["AE"]
    assert zones_at(session, 1.0, 1.0) == ["AE"]  # a vertex


def test_point_on_a_shared_boundary_reports_both_zones(session, make_zone, make_dataset) -> None:
    dataset = make_dataset()
    make_zone(SQUARE, dataset=dataset, fld_zone="AE")
    make_zone(
        "POLYGON((1 0, 2 0, 2 1, 1 1, 1 0))",
        dataset=dataset,
        fld_zone="X",
        zone_subty="0.2 PCT ANNUAL CHANCE FLOOD HAZARD",
        sfha_tf=False,
    )
    report = lookup_point(session, 1.0, 0.25)
    assert sorted(hit.fld_zone for hit in report.zones) == ["AE", "X"]
    assert report.status == "high_risk"


def test_point_in_a_hole_is_not_in_the_outer_zone(session, make_dataset, make_zone) -> None:
    dataset = make_dataset()
    make_zone(SQUARE_WITH_HOLE, dataset=dataset, fld_zone="X", sfha_tf=False)
    make_zone("POLYGON((1 1, 3 1, 3 3, 1 3, 1 1))", dataset=dataset, fld_zone="AE")
    assert zones_at(session, 2.0, 2.0) == ["AE"]
    assert zones_at(session, 0.5, 0.5) == ["X"]


def test_overlapping_datasets_report_every_zone(session, make_dataset, make_zone) -> None:
    old = make_dataset(name="1998 FIRM", effective_date=dt.date(1998, 1, 1))
    new = make_dataset(name="2024 FIRM", effective_date=dt.date(2024, 1, 1))
    make_zone(
        SQUARE, dataset=old, fld_zone="X", zone_subty="AREA OF MINIMAL FLOOD HAZARD", sfha_tf=False
    )
    make_zone(SQUARE, dataset=new, fld_zone="AE")
    report = lookup_point(session, 0.5, 0.5)
    assert [hit.dataset.name for hit in report.zones] == ["2024 FIRM", "1998 FIRM"]
    assert report.status == "high_risk"
    assert [info.name for info in report.datasets] == ["2024 FIRM", "1998 FIRM"]


def test_retired_and_failed_datasets_do_not_answer(session, make_dataset, make_zone) -> None:
    make_zone(SQUARE, dataset=make_dataset(status="retired"))
    make_zone(SQUARE, dataset=make_dataset(status="failed"))
    assert lookup_point(session, 0.5, 0.5).status == "unmapped"


def test_area_not_included_is_unmapped(session, make_zone) -> None:
    make_zone(SQUARE, fld_zone="AREA NOT INCLUDED", sfha_tf=None)
    report = lookup_point(session, 0.5, 0.5)
    assert report.status == "unmapped" and report.zones == []


def test_multipolygon_parts_are_all_searched(session, make_zone) -> None:
    make_zone("MULTIPOLYGON(((0 0, 1 0, 1 1, 0 1, 0 0)), ((5 5, 6 5, 6 6, 5 6, 5 5)))")
    assert zones_at(session, 5.5, 5.5) == ["AE"]
    assert zones_at(session, 3.0, 3.0) == []


def test_lookup_on_a_huge_zone_uses_small_pieces(session, make_zone) -> None:
    # A 4,000-vertex circle with a 1,000-vertex hole, like a real X zone.
    outer = Polygon.from_bounds(0, 0, 1, 1).centroid.buffer(1.0, quad_segs=1000)
    hole = outer.centroid.buffer(0.3, quad_segs=250)
    ring = Polygon(outer.exterior.coords, [hole.exterior.coords])
    zone = make_zone(ring, fld_zone="X", sfha_tf=False)
    pieces = session.execute(
        select(func.count(), func.max(func.ST_NPoints(FloodZonePiece.geom))).where(
            FloodZonePiece.zone_id == zone.id
        )
    ).one()
    assert pieces[0] > 10
    assert pieces[1] <= 128 + 8  # the subdivision limit, plus the closing points of clips
    assert zones_at(session, 0.5 + 0.9, 0.5) == ["X"]
    assert zones_at(session, 0.5, 0.5) == []  # in the hole


def test_batch_split_across_connections_matches_one_query(app, monkeypatch, tmp_path) -> None:
    """The parallel path needs committed data that other connections see: made and removed here."""
    from sqlalchemy.orm import Session

    from geoapp.extensions import db
    from geoapp.ingest import pipeline, runs
    from geoapp.ingest.request import ImportRequest
    from geoapp.risk import lookup
    from tests.upload_files import write_layer

    monkeypatch.setattr(lookup, "MIN_PARALLEL_CHUNK", 7)
    grid = [Polygon([(x, 50), (x + 1, 50), (x + 1, 51), (x, 51)]) for x in range(0, 10, 2)]
    source = write_layer(tmp_path / "grid.geojson", grid,
                         {"FLD_ZONE": ["AE"] * 5, "FLD_AR_ID": [str(i) for i in range(5)]},
                         driver="GeoJSON")
    points = [(x / 10 + 0.05, 50.5) for x in range(100)]
    options = ImportRequest(name="parallel batch")
    with app.app_context(), Session(db.engine) as session:
        dataset = runs.create_pending(session, options, source.name, None)
        pipeline.import_layer(session, dataset, source, options)
        session.commit()
        try:
            one = lookup.lookup_points(session, points, workers=1)
            split = lookup.lookup_points(session, points, workers=4)
        finally:
            session.delete(dataset)
            session.commit()
    assert [r.zones for r in split] == [r.zones for r in one]
    assert sum(bool(r.zones) for r in one) == 50
    assert [r.zones[0].fld_ar_id for r in one if r.zones][:10] == ["0"] * 10
