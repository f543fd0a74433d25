"""Cutting large zones into lookup pieces (geoapp.ingest.pieces), without a database."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box

from geoapp.ingest.pieces import PIECE_MAX_VERTICES, cut, halve, needs_cutting
from tests.upload_files import detailed_zone, wavy_ring


def test_pieces_tile_the_zone_exactly_and_stay_small() -> None:
    zone = detailed_zone()
    owners, pieces = cut(np.array([zone]))
    assert len(pieces) > len(zone.exterior.coords) // PIECE_MAX_VERTICES
    assert set(owners.tolist()) == {0}
    assert shapely.get_num_coordinates(pieces).max() <= PIECE_MAX_VERTICES
    assert shapely.is_valid(pieces).all()
    assert set(shapely.get_type_id(pieces).tolist()) == {shapely.GeometryType.POLYGON}
    assert math.isclose(shapely.area(pieces).sum(), zone.area, rel_tol=1e-9)
    assert shapely.symmetric_difference(shapely.union_all(pieces), zone).area < 1e-9 * zone.area


def test_pieces_leave_the_holes_out() -> None:
    zone = detailed_zone()
    owners, pieces = cut(np.array([zone]))
    in_a_hole = shapely.Point(3, 0)
    assert not zone.covers(in_a_hole)
    assert not shapely.covers(pieces, in_a_hole).any()
    inside = shapely.Point(0, 0)
    assert shapely.covers(pieces, inside).sum() == 1


def test_each_piece_names_the_zone_it_came_from() -> None:
    first = detailed_zone(3_000, holes=0)
    second = affinity.translate(detailed_zone(1_000, holes=2), 100, 0)
    owners, pieces = cut(np.array([first, second]))
    for owner, zone in ((0, first), (1, second)):
        mine = pieces[owners == owner]
        assert math.isclose(shapely.area(mine).sum(), zone.area, rel_tol=1e-9)
        assert shapely.covers(zone.buffer(1e-9), mine).all()


def test_small_parts_of_a_multipolygon_are_kept_whole() -> None:
    zone = MultiPolygon([box(0, 0, 1, 1), box(5, 5, 6, 6), detailed_zone(600, holes=0)])
    owners, pieces = cut(np.array([zone]))
    assert sum(shapely.equals(pieces, box(0, 0, 1, 1))) == 1
    assert sum(shapely.equals(pieces, box(5, 5, 6, 6))) == 1
    assert math.isclose(shapely.area(pieces).sum(), zone.area, rel_tol=1e-9)


def test_only_zones_above_the_limit_need_cutting() -> None:
    limit_ring = wavy_ring(0, 0, 1, PIECE_MAX_VERTICES - 1)  # closed: exactly the limit
    over_ring = wavy_ring(0, 0, 1, PIECE_MAX_VERTICES)
    flags = needs_cutting(np.array([Polygon(limit_ring), Polygon(over_ring), box(0, 0, 1, 1)]))
    assert flags.tolist() == [False, True, False]


def test_the_cut_stops_at_max_depth_keeping_what_is_left_whole(monkeypatch) -> None:
    # Vertices closer than a float can part would otherwise be cut forever; here the bound
    # is lowered so that an ordinary zone reaches it.
    zone = detailed_zone(5_000, holes=0)
    monkeypatch.setattr("geoapp.ingest.pieces.MAX_DEPTH", 3)
    halvings = []
    monkeypatch.setattr("geoapp.ingest.pieces.halve",
                        lambda *args: halvings.append(1) or halve(*args))
    owners, pieces = cut(np.array([zone]))
    assert len(halvings) == 3
    assert shapely.get_num_coordinates(pieces).max() > PIECE_MAX_VERTICES  # kept whole
    assert set(owners.tolist()) == {0}
    assert math.isclose(shapely.area(pieces).sum(), zone.area, rel_tol=1e-9)


def test_cuts_balance_vertices_not_box_halves() -> None:
    # A zone whose detail is all on one side: cuts follow the vertices, so pieces are full.
    detailed_side = [(x, 0.01 * math.sin(40 * x)) for x in np.linspace(0, 1, 2_000)]
    zone = Polygon([*detailed_side, (1, 1), (0, 1)])
    owners, pieces = cut(np.array([zone]))
    # Halving the box instead gives 56 pieces here (41 vertices each on average); by the
    # vertices, 40 (55 each): under three times the fewest possible.
    fewest = math.ceil(shapely.get_num_coordinates(zone) / PIECE_MAX_VERTICES)
    assert len(pieces) < 3 * fewest
    assert math.isclose(shapely.area(pieces).sum(), zone.area, rel_tol=1e-9)
