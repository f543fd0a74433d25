"""The BFE estimated between two lines (geoapp.risk.determination.bracketed_estimate), by hand.

The point is at (LON, LAT); a line is described as the determination query describes it: its
elevation, its distance and the point of it nearest to the query point. Which side a line is
on comes from that nearest point, so lines east of the point are on one side, west the other.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geoapp.nfhl.status import RiskStatus
from geoapp.risk.determination import ON_LINE_M, bracketed_estimate
from geoapp.risk.lookup import DatasetInfo, ZoneHit

LON, LAT = -74.09, 40.10
METRES_PER_DEGREE = 111_320.0


def zone(v_datum: str | None = "NAVD88", len_unit: str | None = "Feet") -> ZoneHit:
    """An AE zone without a static BFE, the kind whose BFE is estimated."""
    return ZoneHit(
        zone_id=1, fld_zone="AE", zone_subty=None, status=RiskStatus.HIGH_RISK,
        static_bfe=None, v_datum=v_datum, len_unit=len_unit, depth=None, velocity=None,
        vel_unit=None, dfirm_id="34025C", fld_ar_id="34025C_9",
        dataset=DatasetInfo(1, "sample", "sample.zip", dt.date(2018, 1, 3), None))


def line(elevation: float | None, distance_m: float, side: str = "east", label: str = "L",
         v_datum: str | None = "NAVD88", len_unit: str | None = "Feet") -> dict[str, Any]:
    """A line `distance_m` from the point, its nearest point due east, west, north or south."""
    degrees = distance_m / METRES_PER_DEGREE
    east_west = degrees / math.cos(math.radians(LAT))
    lon, lat = {"east": (LON + east_west, LAT), "west": (LON - east_west, LAT),
                "north": (LON, LAT + degrees), "south": (LON, LAT - degrees)}[side]
    return {"elevation": elevation, "distance_m": distance_m, "closest_lon": lon,
            "closest_lat": lat, "len_unit": len_unit, "v_datum": v_datum, "label": label}


def estimate(lines: list[dict[str, Any]], kind: str = "bfe_line", hit: ZoneHit | None = None):
    return bracketed_estimate(LON, LAT, kind, lines, hit or zone())


def test_on_a_line_its_elevation_applies() -> None:
    result = estimate([line(12.0, 0.03, "east", "34025C_4"), line(14.0, 1000.0, "west")])
    assert result is not None
    assert result.value == 12.0
    assert result.estimated is True  # still labelled an estimate: read off a line
    assert result.method == "on_bfe_line"
    assert [(s.label, s.elevation, s.distance_m) for s in result.sources] == [
        ("34025C_4", 12.0, 0.03)]
    assert (result.unit, result.datum, result.reason) == ("Feet", "NAVD88", None)


def test_on_a_line_even_with_no_line_across() -> None:
    result = estimate([line(9.5, ON_LINE_M, "east")])
    assert result is not None and result.value == 9.5 and result.method == "on_bfe_line"


def test_halfway_is_the_mean() -> None:
    result = estimate([line(11.0, 500.0, "east", "A"), line(12.0, 500.0, "west", "B")])
    assert result is not None
    assert result.value == 11.5
    assert result.estimated is True
    assert result.method == "interpolated_between_bfe_lines"
    assert [s.label for s in result.sources] == ["A", "B"]


@pytest.mark.parametrize(("near", "far", "expected"), [
    (10.0, 14.0, 11.0),  # a quarter of the way up from the nearer line: 10 + (14 - 10) / 4
    (14.0, 10.0, 13.0),  # and down
    (9.0, 9.0, 9.0),
])
def test_a_quarter_of_the_way(near: float, far: float, expected: float) -> None:
    result = estimate([line(far, 75.0, "south"), line(near, 25.0, "north")])
    assert result is not None
    assert result.value == pytest.approx(near + (far - near) / 4) == expected
    assert [s.distance_m for s in result.sources] == [25.0, 75.0]  # nearest first


def test_nearer_lines_on_the_same_side_are_passed_over() -> None:
    # East: 10 m (10 ft) and 20 m (11 ft); west: 30 m (13 ft). Bracketed by the 10 m and 30 m.
    lines = [line(11.0, 20.0, "east", "E2"), line(13.0, 30.0, "west", "W"),
             line(10.0, 10.0, "east", "E1")]
    result = estimate(lines)
    assert result is not None
    assert result.value == pytest.approx(10.0 + 3.0 * 10 / 40)  # 10.75
    assert [s.label for s in result.sources] == ["E1", "W"]


def test_lines_without_elevation_do_not_count() -> None:
    lines = [line(None, 5.0, "east"), line(10.0, 50.0, "east"), line(None, 5.0, "west"),
             line(12.0, 150.0, "west")]
    result = estimate(lines)
    assert result is not None and result.value == 10.5


@pytest.mark.parametrize("lines", [
    [],
    [line(10.0, 100.0, "east")],
    [line(10.0, 100.0, "east"), line(12.0, 300.0, "east"), line(14.0, 50.0, "north")],  # one side
    [line(None, 100.0, "east"), line(None, 100.0, "west")],
])
def test_nothing_brackets_the_point(lines) -> None:
    assert estimate(lines) is None


@pytest.mark.parametrize(("first", "other"), [
    ({"v_datum": "NAVD88"}, {"v_datum": "NGVD29"}),
    ({"len_unit": "Feet"}, {"len_unit": "Meters"}),
])
def test_different_datums_or_units_give_no_value_but_a_reason(first, other) -> None:
    result = estimate([line(10.0, 100.0, "east", **first), line(12.0, 100.0, "west", **other)])
    assert result is not None
    assert result.value is None
    assert result.estimated is False
    assert result.reason and "datum" in result.reason
    assert result.sources == []


def test_datum_and_unit_default_to_the_zone() -> None:
    lines = [line(10.0, 100.0, "east", v_datum=None, len_unit=None),
             line(12.0, 100.0, "west", v_datum=None, len_unit=None)]
    result = estimate(lines, hit=zone(v_datum="NGVD29", len_unit="Feet"))
    assert result is not None and result.value == 11.0
    assert (result.datum, result.unit) == ("NGVD29", "Feet")
    # A line naming the zone's datum agrees with one that names none.
    lines[1]["v_datum"] = "NGVD29"
    assert estimate(lines, hit=zone(v_datum="NGVD29")).value == 11.0


def test_cross_sections_are_named_as_such() -> None:
    result = estimate([line(9.8, 200.0, "east", "B"), line(11.5, 200.0, "west", "C")],
                      kind="cross_section")
    assert result is not None and result.value == 10.65
    assert result.method == "interpolated_between_cross_sections"
    assert {s.kind for s in result.sources} == {"cross_section"}
    on_line = estimate([line(9.8, 0.2, "east", "B")], kind="cross_section")
    assert on_line.method == "on_cross_section"


ELEVATIONS = st.integers(min_value=-2000, max_value=20000).map(lambda tenths: tenths / 10)
DISTANCES = st.floats(min_value=0.6, max_value=5000.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(e1=ELEVATIONS, e2=ELEVATIONS, d1=DISTANCES, d2=DISTANCES,
       sides=st.sampled_from([("east", "west"), ("north", "south"), ("west", "east")]))
def test_an_estimate_never_leaves_its_two_lines(e1, e2, d1, d2, sides) -> None:
    result = estimate([line(e1, d1, sides[0]), line(e2, d2, sides[1])])
    assert result is not None and result.value is not None
    assert min(e1, e2) <= result.value <= max(e1, e2)
    # Linear in distance: each line weighs by the distance to the other one.
    assert result.value == pytest.approx((e1 * d2 + e2 * d1) / (d1 + d2), abs=0.005)
    # The nearer line decides more.
    if d1 < d2:
        assert abs(result.value - e1) <= abs(result.value - e2) + 0.01


def test_an_estimate_between_equal_lines_is_their_elevation() -> None:
    result = estimate([line(10.004, 100.0, "east"), line(10.004, 300.0, "west")])
    assert result is not None
    assert 10.004 <= result.value <= 10.004
