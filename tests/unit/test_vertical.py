"""Vertical units and datums: the spellings files and FEMA use, and conversions through metres."""

from __future__ import annotations

import pytest
from pyproj import CRS

from geoapp.geo.vertical import VerticalUnit, convert, parse_datum, parse_unit

US_FOOT_M = 1200 / 3937


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("m", VerticalUnit.METRE),
        ("metre", VerticalUnit.METRE),
        ("Metres", VerticalUnit.METRE),
        ("METER", VerticalUnit.METRE),
        (" meters ", VerticalUnit.METRE),
        ("ft", VerticalUnit.FOOT),
        ("Feet", VerticalUnit.FOOT),  # NFHL LEN_UNIT
        ("foot", VerticalUnit.FOOT),
        ("International Foot", VerticalUnit.FOOT),
        ("ftUS", VerticalUnit.US_FOOT),
        ("US survey foot", VerticalUnit.US_FOOT),  # PROJ's name of EPSG:9003
        ("U.S. Survey Feet", VerticalUnit.US_FOOT),
        ("us_ft", VerticalUnit.US_FOOT),
        ("Foot_US", VerticalUnit.US_FOOT),  # ESRI's spelling
    ],
)
def test_unit_spellings(text: str, unit: VerticalUnit) -> None:
    assert parse_unit(text) is unit


@pytest.mark.parametrize("text", [None, "", "   ", "furlong", "cm", "km", "yard", "fathom",
                                  "feetish", "metre per second"])
def test_unknown_units_are_none(text: str | None) -> None:
    assert parse_unit(text) is None


@pytest.mark.parametrize(
    "text",
    ["NAVD88", "NAVD 88", "navd88", "NAVD-88", "NAVD_88", "NAVD 1988",
     "North American Vertical Datum 1988", "North American Vertical Datum of 1988",
     "NAVD88 height", "NAVD88 (ftUS)"],
)
def test_navd88_spellings(text: str) -> None:
    assert parse_datum(text) == "NAVD88"


@pytest.mark.parametrize(
    "text",
    ["NGVD29", "NGVD 29", "NGVD 1929", "National Geodetic Vertical Datum 1929",
     "National Geodetic Vertical Datum of 1929", "NGVD29 height", "NGVD 29 (ft)"],
)
def test_ngvd29_spellings(text: str) -> None:
    assert parse_datum(text) == "NGVD29"


@pytest.mark.parametrize(
    ("epsg", "datum", "unit"),
    [
        (5703, "NAVD88", VerticalUnit.METRE),  # NAVD88 height
        (6360, "NAVD88", VerticalUnit.US_FOOT),  # NAVD88 height (ftUS)
        (8228, "NAVD88", VerticalUnit.FOOT),  # NAVD88 height (ft)
        (5702, "NGVD29", VerticalUnit.US_FOOT),  # NGVD29 height (ftUS)
        (6641, "PRVD02", VerticalUnit.METRE),  # PRVD02 height
    ],
)
def test_vertical_crs_names_as_proj_gives_them(epsg: int, datum: str,
                                               unit: VerticalUnit) -> None:
    # What geoapp.ingest.rasters reads of a compound CRS: its datum's name and axis unit.
    vertical = CRS.from_epsg(epsg)
    assert parse_datum(vertical.datum.name) == datum
    assert parse_unit(vertical.axis_info[0].unit_name) is unit


@pytest.mark.parametrize("text", [None, "", "  ", "unknown", "UNKNOWN", "None", "NP", "U",
                                  "null", "N/A", "NA"])
def test_blank_and_unknown_datum_words_are_none(text: str | None) -> None:
    assert parse_datum(text) is None


def test_other_datums_are_kept_as_written_upper_case() -> None:
    assert parse_datum(" local tidal datum ") == "LOCAL TIDAL DATUM"
    assert parse_datum("x" * 40) == "X" * 32  # as the column holds


def test_datums_of_different_spellings_compare_equal_and_different_ones_do_not() -> None:
    assert parse_datum("NAVD 88") == parse_datum("North American Vertical Datum 1988")
    assert parse_datum("NAVD 88") != parse_datum("NGVD 29")


@pytest.mark.parametrize(
    ("value", "unit", "to", "expected"),
    [
        (1.0, VerticalUnit.METRE, VerticalUnit.FOOT, 3.28084),
        (2.7432, VerticalUnit.METRE, VerticalUnit.FOOT, 9.0),
        (9.0, VerticalUnit.FOOT, VerticalUnit.METRE, 2.7432),
        (1.0, VerticalUnit.US_FOOT, VerticalUnit.METRE, US_FOOT_M),
        (3937.0, VerticalUnit.US_FOOT, VerticalUnit.METRE, 1200.0),
        (1200.0, VerticalUnit.METRE, VerticalUnit.US_FOOT, 3937.0),
        # A US survey foot is two parts per million longer than an international one.
        (1_000_000.0, VerticalUnit.US_FOOT, VerticalUnit.FOOT, 1_000_002.0),
        (-4.5, VerticalUnit.FOOT, VerticalUnit.FOOT, -4.5),
        (0.0, VerticalUnit.METRE, VerticalUnit.US_FOOT, 0.0),
    ],
)
def test_conversions(value: float, unit: VerticalUnit, to: VerticalUnit,
                     expected: float) -> None:
    assert convert(value, unit, to) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_conversion_takes_unit_codes_as_stored() -> None:
    # Raster rows keep the unit's code ("m", "ft", "ftUS").
    assert convert(1.0, "m", "ft") == pytest.approx(1 / 0.3048)
    assert convert(10.0, "ftUS", "ftUS") == 10.0


@pytest.mark.parametrize("unit", list(VerticalUnit))
def test_round_trip_through_every_unit(unit: VerticalUnit) -> None:
    for other in VerticalUnit:
        assert convert(convert(12.345, unit, other), other, unit) == pytest.approx(12.345)


def test_unknown_unit_code_is_refused() -> None:
    with pytest.raises(ValueError):
        convert(1.0, "yd", "m")
