"""The full point report: nearest high-risk zone, dataset scope, as_of (query/domain layer)."""

from __future__ import annotations

import datetime as dt

import pytest
from pyproj import Geod
from shapely import wkt
from shapely.geometry import Polygon

from geoapp.db.queries.scope import Scope
from geoapp.errors import InvalidParameter
from geoapp.risk.lookup import lookup_point

GEOD = Geod(ellps="WGS84")


def square(x0: float, y0: float, size: float) -> Polygon:
    return Polygon([(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size)])


def geodesic_distance_to_boundary(lon: float, lat: float, polygon: Polygon) -> float:
    """Independent reference: the smallest WGS84 geodesic distance to a densified boundary."""
    ring = polygon.exterior.segmentize(1e-6)
    lons, lats = zip(*ring.coords, strict=True)
    _, _, distances = GEOD.inv([lon] * len(lons), [lat] * len(lats), lons, lats)
    return min(distances)


def test_nearest_high_risk_zone_when_outside(session, make_zone, make_dataset) -> None:
    dataset = make_dataset()
    make_zone(square(0, 0, 0.01), dataset=dataset, fld_zone="AE")
    make_zone(
        square(0.01, 0, 0.02),
        dataset=dataset,
        fld_zone="X",
        sfha_tf=False,
        zone_subty="AREA OF MINIMAL FLOOD HAZARD",
    )
    report = lookup_point(session, 0.02, 0.005)
    assert report.status == "minimal_risk"
    nearest = report.nearest_high_risk
    assert nearest is not None and nearest.zone.fld_zone == "AE"
    assert nearest.lon == pytest.approx(0.01) and nearest.lat == pytest.approx(0.005)
    _, _, expected = GEOD.inv(0.02, 0.005, 0.01, 0.005)
    assert nearest.distance_m == pytest.approx(expected, rel=0.001)


@pytest.mark.parametrize(("lon", "lat"), [(10.0, 60.0), (-74.05, 40.1), (150.0, -33.0)])
def test_nearest_distance_is_geodesic_within_one_percent(session, make_zone, lon, lat) -> None:
    zone_shape = square(lon + 0.01, lat + 0.004, 0.01)
    make_zone(zone_shape, fld_zone="VE")
    nearest = lookup_point(session, lon, lat).nearest_high_risk
    expected = geodesic_distance_to_boundary(lon, lat, zone_shape)
    assert nearest is not None
    assert abs(nearest.distance_m - expected) / expected < 0.01


def test_nearest_is_geodesic_not_nearest_in_degrees(session, make_zone) -> None:
    # At 60°N a degree of longitude is half a degree of latitude: the zone 0.015° east is
    # ~840 m away, the one 0.010° north ~1,110 m, though it is nearer in degrees.
    make_zone(square(10.015, 59.99, 0.01), fld_zone="AE", fld_ar_id="east")
    make_zone(square(9.99, 60.01, 0.02), fld_zone="VE", fld_ar_id="north")
    nearest = lookup_point(session, 10.0, 60.0).nearest_high_risk
    assert nearest is not None and nearest.zone.fld_ar_id == "east"
    _, _, expected = GEOD.inv(10.0, 60.0, 10.015, 60.0)
    assert nearest.distance_m == pytest.approx(expected, rel=0.001)


def test_nearest_skips_zones_of_datasets_out_of_scope(session, make_zone, make_dataset) -> None:
    retired = make_dataset(status="retired")
    make_zone(square(0.011, 0, 0.01), dataset=retired, fld_zone="AE")
    make_zone(square(0.03, 0, 0.01), fld_zone="A")
    nearest = lookup_point(session, 0.0, 0.005).nearest_high_risk
    assert nearest is not None and nearest.zone.fld_zone == "A"


def test_no_nearest_inside_the_sfha_or_beyond_the_radius(session, make_zone) -> None:
    make_zone(square(0, 0, 0.01), fld_zone="AE")
    assert lookup_point(session, 0.005, 0.005).nearest_high_risk is None
    far = lookup_point(session, 0.2, 0.2, nearest_radius_m=1000)  # ~21 km away
    assert far.status == "unmapped" and far.nearest_high_risk is None
    wide = lookup_point(session, 0.2, 0.2, nearest_radius_m=30000)
    assert wide.nearest_high_risk is not None


def test_only_high_risk_zones_count_as_nearest(session, make_zone) -> None:
    make_zone(
        square(0, 0, 0.01),
        fld_zone="X",
        sfha_tf=False,
        zone_subty="0.2 PCT ANNUAL CHANCE FLOOD HAZARD",
    )
    make_zone(square(0.05, 0, 0.01), fld_zone="A")
    nearest = lookup_point(session, 0.02, 0.005).nearest_high_risk
    assert nearest is not None and nearest.zone.fld_zone == "A"


def versions(make_dataset, make_zone):
    old = make_dataset(
        name="County FIRM",
        effective_date=dt.date(2000, 1, 1),
        status="retired",
        superseded_on=dt.date(2020, 6, 1),
    )
    new = make_dataset(name="County FIRM", effective_date=dt.date(2020, 6, 1))
    make_zone(square(0, 0, 1), dataset=old, fld_zone="X", sfha_tf=False)
    make_zone(square(0, 0, 1), dataset=new, fld_zone="AE")
    return old, new


def test_as_of_answers_from_the_map_in_force_then(session, make_dataset, make_zone) -> None:
    versions(make_dataset, make_zone)
    assert [h.fld_zone for h in lookup_point(session, 0.5, 0.5).zones] == ["AE"]
    then = lookup_point(session, 0.5, 0.5, Scope(as_of=dt.date(2010, 1, 1)))
    assert [h.fld_zone for h in then.zones] == ["X"]
    switch_day = lookup_point(session, 0.5, 0.5, Scope(as_of=dt.date(2020, 6, 1)))
    assert [h.fld_zone for h in switch_day.zones] == ["AE"]
    before_any = lookup_point(session, 0.5, 0.5, Scope(as_of=dt.date(1990, 1, 1)))
    assert before_any.status == "unmapped"


def test_dataset_restricts_by_id_or_name(session, make_dataset, make_zone) -> None:
    first = make_dataset(name="Study A")
    second = make_dataset(name="Study B")
    make_zone(square(0, 0, 1), dataset=first, fld_zone="AE")
    make_zone(square(0, 0, 1), dataset=second, fld_zone="X", sfha_tf=False)
    assert [
        h.fld_zone for h in lookup_point(session, 0.5, 0.5, Scope(dataset=second.id)).zones
    ] == ["X"]
    assert [
        h.fld_zone for h in lookup_point(session, 0.5, 0.5, Scope(dataset="Study A")).zones
    ] == ["AE"]
    with pytest.raises(InvalidParameter, match="no dataset"):
        lookup_point(session, 0.5, 0.5, Scope(dataset="Study Z"))


def test_report_lists_provenance_of_every_answering_dataset(session, make_dataset, make_zone):
    here = make_dataset(name="Here", effective_date=dt.date(2021, 3, 4), source_filename="a.zip")
    there = make_dataset(name="There")
    make_zone(
        wkt.loads("POLYGON((0 0, 0.01 0, 0.01 0.01, 0 0.01, 0 0))"),
        dataset=here,
        fld_zone="X",
        sfha_tf=False,
    )
    make_zone(square(0.02, 0, 0.01), dataset=there, fld_zone="AE")
    report = lookup_point(session, 0.005, 0.005)
    assert [d.name for d in report.datasets] == ["Here", "There"]
    assert report.datasets[0].effective_date == dt.date(2021, 3, 4)
