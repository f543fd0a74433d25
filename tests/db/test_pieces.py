"""Database triggers keep the subdivided lookup table in step with flood_zones, and zones with
their datasets."""

from __future__ import annotations

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely import affinity, wkt
from shapely.geometry import MultiPolygon
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from geoapp.db.models import FloodZone, FloodZonePiece
from geoapp.ingest.pieces import PIECE_MAX_VERTICES
from tests.upload_files import detailed_zone


def pieces_of(session, zone_id: int):
    rows = session.scalars(select(FloodZonePiece.geom).where(FloodZonePiece.zone_id == zone_id))
    return [to_shape(geom) for geom in rows]


def union_area(shapes) -> float:
    from shapely.ops import unary_union

    return unary_union(shapes).area if shapes else 0.0


def test_insert_creates_pieces_covering_the_zone(session, make_zone) -> None:
    zone = make_zone("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))")
    pieces = pieces_of(session, zone.id)
    assert pieces
    assert abs(union_area(pieces) - 4.0) < 1e-9


def test_geometry_update_recuts_pieces(session, make_zone) -> None:
    zone = make_zone("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))")
    moved = MultiPolygon([wkt.loads("POLYGON((10 10, 11 10, 11 11, 10 11, 10 10))")])
    session.execute(
        update(FloodZone).where(FloodZone.id == zone.id).values(geom=from_shape(moved, srid=4326))
    )
    pieces = pieces_of(session, zone.id)
    assert abs(union_area(pieces) - 1.0) < 1e-9
    assert all(piece.within(moved.buffer(1e-9)) for piece in pieces)


def test_orm_geometry_update_recuts_pieces(session, make_zone) -> None:
    zone = make_zone("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))")
    zone.geom = from_shape(MultiPolygon([wkt.loads("POLYGON((0 0, 1 0, 1 1, 0 0))")]), srid=4326)
    session.flush()
    assert abs(union_area(pieces_of(session, zone.id)) - 0.5) < 1e-9


def test_attribute_update_keeps_pieces(session, make_zone) -> None:
    zone = make_zone()
    before = session.scalars(
        select(FloodZonePiece.id).where(FloodZonePiece.zone_id == zone.id)
    ).all()
    session.execute(update(FloodZone).where(FloodZone.id == zone.id).values(fld_zone="VE"))
    after = session.scalars(
        select(FloodZonePiece.id).where(FloodZonePiece.zone_id == zone.id)
    ).all()
    # Equal empty lists would pass without proving anything: the zone must have pieces.
    assert before
    assert before == after


def test_delete_removes_pieces(session, make_zone) -> None:
    zone = make_zone()
    zone_id = zone.id
    session.execute(delete(FloodZone).where(FloodZone.id == zone_id))
    count = session.scalar(
        select(func.count()).select_from(FloodZonePiece).where(FloodZonePiece.zone_id == zone_id)
    )
    assert count == 0


def test_deleting_a_dataset_deletes_its_zones_and_pieces(session, make_dataset, make_zone) -> None:
    dataset = make_dataset()
    zone_ids = [make_zone(dataset=dataset).id, make_zone(dataset=dataset).id]
    session.delete(dataset)
    session.flush()
    assert (
        session.scalar(
            select(func.count()).select_from(FloodZone).where(FloodZone.id.in_(zone_ids))
        )
        == 0
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(FloodZonePiece)
            .where(FloodZonePiece.zone_id.in_(zone_ids))
        )
        == 0
    )


def test_status_change_retags_pieces_without_recutting(session, make_zone) -> None:
    zone = make_zone(fld_zone="X", sfha_tf=False)
    before = session.scalars(
        select(FloodZonePiece.id).where(FloodZonePiece.zone_id == zone.id)
    ).all()
    session.execute(update(FloodZone).where(FloodZone.id == zone.id).values(fld_zone="AE"))
    rows = session.execute(
        select(FloodZonePiece.id, FloodZonePiece.risk_status).where(
            FloodZonePiece.zone_id == zone.id
        )
    ).all()
    assert [row.id for row in rows] == before
    assert {row.risk_status for row in rows} == {"high_risk"}


def test_deleting_zones_keeps_the_pieces_of_the_others(session, make_zone) -> None:
    kept, gone = make_zone(), make_zone("POLYGON((5 5, 6 5, 6 6, 5 6, 5 5))")
    kept_pieces = len(pieces_of(session, kept.id))
    session.execute(delete(FloodZone).where(FloodZone.id == gone.id))
    assert pieces_of(session, gone.id) == []
    assert len(pieces_of(session, kept.id)) == kept_pieces > 0


def test_truncating_zones_empties_the_pieces(session, make_zone) -> None:
    make_zone()
    session.execute(text("TRUNCATE flood_zones"))
    assert session.scalar(select(func.count()).select_from(FloodZonePiece)) == 0


def detailed_wkt(x0: float = 0.0) -> str:
    """WKT of a zone of about 1,200 vertices (a 1,000-vertex shell and a hole)."""
    return affinity.translate(affinity.scale(detailed_zone(1_000, holes=1), 0.01, 0.01),
                              x0, 0).wkt


def test_large_zones_are_cut_into_small_pieces(session, make_zone) -> None:
    zone = make_zone(detailed_wkt())
    count, largest, area = session.execute(
        select(func.count(), func.max(func.ST_NPoints(FloodZonePiece.geom)),
               func.sum(func.ST_Area(FloodZonePiece.geom)))
        .where(FloodZonePiece.zone_id == zone.id)).one()
    assert count > 1_000 // PIECE_MAX_VERTICES and largest <= PIECE_MAX_VERTICES
    assert abs(area - to_shape(zone.geom).area) < 1e-12


def test_importer_flag_leaves_large_zones_to_the_importer(session, make_zone) -> None:
    session.execute(text("SELECT set_config('geoapp.importer_cuts_pieces', 'on', true)"))
    large, small = make_zone(detailed_wkt()), make_zone("POLYGON((5 5, 6 5, 6 6, 5 6, 5 5))")
    assert pieces_of(session, large.id) == []
    assert len(pieces_of(session, small.id)) == 1
    session.execute(text("SELECT set_config('geoapp.importer_cuts_pieces', 'off', true)"))
    assert len(pieces_of(session, make_zone(detailed_wkt(10)).id)) > 1


def test_a_zone_of_a_missing_dataset_is_refused(session, make_dataset, make_zone) -> None:
    dataset = make_dataset()
    zone = make_zone(dataset=dataset)
    missing = dataset.id + 10_000
    with pytest.raises(IntegrityError, match=f"dataset {missing}"), session.begin_nested():
        session.execute(text(
            "INSERT INTO flood_zones (dataset_id, fld_zone, geom) VALUES "
            "(:ok, 'AE', ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))', 4326)), "
            "(:missing, 'AE', ST_GeomFromText('MULTIPOLYGON(((0 0,1 0,1 1,0 0)))', 4326))"),
            {"ok": dataset.id, "missing": missing})
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(update(FloodZone).where(FloodZone.id == zone.id)
                        .values(dataset_id=missing))
    assert session.scalar(select(func.count()).select_from(FloodZone)
                          .where(FloodZone.dataset_id == dataset.id)) == 1


def test_truncating_datasets_empties_zones_and_pieces(session, make_zone) -> None:
    make_zone()
    session.execute(text("TRUNCATE datasets CASCADE"))
    assert session.scalar(select(func.count()).select_from(FloodZone)) == 0
    assert session.scalar(select(func.count()).select_from(FloodZonePiece)) == 0
