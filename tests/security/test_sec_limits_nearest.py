"""The nearest-zone search is bounded in metres at any latitude and keeps using the index."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from geoapp.db.queries import lookup as queries
from geoapp.risk.lookup import lookup_point

# High-risk zones far from the poles: the candidates a degree-based window drags in.
FAR_ZONES = 2000


def add_square_zones(session: Session, dataset_id: int, centres: list[tuple[float, float]],
                     half_side: float) -> None:
    """Small AE squares (of `half_side` degrees) around some (lon, lat) centres."""
    session.execute(
        sa.text(
            "INSERT INTO flood_zones (dataset_id, fld_zone, sfha_tf, geom) "
            "SELECT :dataset, 'AE', true, ST_Multi(ST_Expand(ST_SetSRID(ST_MakePoint(x, y), "
            "4326), :half)) FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) AS c(x, y)"
        ),
        {"dataset": dataset_id, "half": half_side, "xs": [x for x, _ in centres],
         "ys": [y for _, y in centres]},
    )
    session.commit()


@pytest.fixture()
def world(session: Session, make_dataset: Any) -> int:
    """Thousands of small zones far from the poles, a ring of zones near each pole, and
    zones on both sides of the antimeridian; returns the dataset id."""
    dataset = make_dataset()
    add_square_zones(session, dataset.id,
                     [(-100 + (i % 50) * 0.2, 30 + (i // 50) * 0.2) for i in range(FAR_ZONES)],
                     0.01)
    for sign in (1, -1):
        add_square_zones(session, dataset.id,
                         [(-180 + i * 7.2, sign * (89.5 + (i % 5) * 0.08)) for i in range(50)],
                         0.005)
    add_square_zones(session, dataset.id,
                     [(-179.95, 52.0), (179.5, 52.0), (10.3, 60.2), (0.2, 0.1)], 0.01)
    session.execute(sa.text("ANALYZE flood_zone_pieces"))
    return dataset.id


def brute_force_nearest(session: Session, lon: float, lat: float) -> tuple[int, float]:
    """The nearest high-risk zone by a geodesic distance to every zone (no index)."""
    row = session.execute(
        sa.text(
            "SELECT id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), "
            "4326)::geography) AS d FROM flood_zones WHERE risk_status = 'high_risk' "
            "ORDER BY d LIMIT 1"
        ),
        {"lon": lon, "lat": lat},
    ).one()
    return row.id, row.d


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(0.0, 89.9), (90.0, -89.95), (0.0, 89.3), (10.0, 60.0), (0.0, 0.0), (179.9, 52.0),
     (-179.6, 52.0)],
)
def test_nearest_zone_is_the_geodesic_nearest_at_any_latitude(session, world, lon, lat):
    expected_id, expected_m = brute_force_nearest(session, lon, lat)
    assert expected_m < 50_000, "the fixture puts a zone within the radius of every point"
    nearest = lookup_point(session, lon, lat, nearest_radius_m=50_000).nearest_high_risk
    assert nearest is not None
    assert nearest.zone.zone_id == expected_id
    assert nearest.distance_m == pytest.approx(expected_m, rel=1e-9)


def test_nothing_beyond_the_radius_is_reported(session, world):
    expected_id, expected_m = brute_force_nearest(session, 0.0, 89.9)
    report = lookup_point(session, 0.0, 89.9, nearest_radius_m=expected_m * 0.99)
    assert report.nearest_high_risk is None
    assert lookup_point(session, 0.0, 89.9, nearest_radius_m=expected_m * 1.01
                        ).nearest_high_risk.zone.zone_id == expected_id


def pieces_examined(session: Session, lon: float, lat: float, radius_m: float) -> int:
    """Pieces the nearest-zone statements read from the index (rows kept plus rows
    filtered out), from EXPLAIN ANALYZE, summed over the search boxes."""
    total = 0
    for box in queries.search_boxes(lon, lat, radius_m):
        statement = queries.nearest_high_risk(queries.ACTIVE)
        compiled = statement.compile(dialect=postgresql.dialect())
        params = {**compiled.params,
                  **queries.nearest_high_risk_params(lon, lat, radius_m, box)}
        plan = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + str(compiled), params
        ).scalar()
        nodes = [plan[0]["Plan"]]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", []))
            if node.get("Relation Name") == "flood_zone_pieces":
                # An index scan, or a bitmap heap scan fed by a bitmap index scan: which one
                # the planner picks depends on the table's statistics.
                if node["Node Type"] == "Bitmap Heap Scan":
                    assert [child["Node Type"] for child in node["Plans"]] == [
                        "Bitmap Index Scan"], node
                else:
                    assert "Index" in node["Node Type"], node["Node Type"]
                total += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                          + node.get("Rows Removed by Index Recheck", 0))
    return total


def test_pole_search_reads_only_pieces_near_the_pole(session, world):
    # The window is a bound in metres: at most the polar pieces (50 zones within 50 km of
    # 89.9°N, read once by each of the two probes when the planner picks bitmap scans), never
    # the thousands far away that a window in degrees dragged in.
    polar = session.execute(sa.text(
        "SELECT count(*) FROM flood_zone_pieces WHERE ST_YMax(geom) > 89.4")).scalar()
    assert polar < FAR_ZONES / 10
    assert pieces_examined(session, 0.0, 89.9, 50_000) <= 2 * polar
    assert pieces_examined(session, 10.0, 60.0, 50_000) < 10


def test_pole_lookup_over_http_finds_the_true_nearest_zone(client, session, world):
    # Its cost is bounded by the pieces it reads (above); timings belong in bench/.
    expected_id, _ = brute_force_nearest(session, 0.0, 89.9)
    response = client.get("/api/lookup?lon=0&lat=89.9&nearest_radius=50000")
    assert response.status_code == 200
    assert response.get_json()["nearest_high_risk"]["zone_id"] == expected_id


def test_search_boxes_hold_the_points_within_the_radius():
    # Points exactly `radius` away (PostGIS-free check with pyproj's geodesic).
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    radius = 50_000.0
    for lon, lat in [(0.0, 0.0), (10.0, 60.0), (0.0, 89.0), (0.0, 89.9), (179.9, 10.0),
                     (-179.99, -70.0), (45.0, -89.7)]:
        boxes = queries.search_boxes(lon, lat, radius)
        for azimuth in range(0, 360, 5):
            x, y, _ = geod.fwd(lon, lat, azimuth, radius)
            assert any(b.xmin <= x <= b.xmax and b.ymin <= y <= b.ymax for b in boxes), (
                lon, lat, azimuth, x, y)
