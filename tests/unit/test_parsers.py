"""Pure functions: NFHL attribute cleaning, risk classification, parameter parsing (no database)."""

from __future__ import annotations

import math

import pytest

from geoapp.errors import InvalidParameter
from geoapp.inputs.params import parse_lon_lat
from geoapp.nfhl.attributes import clean_flag, clean_number, zone_columns
from geoapp.nfhl.status import combined_status, zone_status


def test_zone_columns_turn_sentinels_and_blanks_into_null() -> None:
    columns = zone_columns(
        {
            "fld_zone": " ae ",
            "ZONE_SUBTY": "",
            "Static_BFE": -9999.0,
            "DEPTH": "-9999",
            "SFHA_TF": "T",
            "V_DATUM": "NAVD88",
            "VELOCITY": float("nan"),
            "extra": "kept",
        }
    )
    assert columns["fld_zone"] == "AE"
    assert columns["zone_subty"] is None
    assert columns["static_bfe"] is None
    assert columns["depth"] is None
    assert columns["velocity"] is None
    assert columns["sfha_tf"] is True
    assert columns["v_datum"] == "NAVD88"
    # Every source attribute is kept, JSON-safe (NaN is not valid JSON).
    assert columns["attributes"]["extra"] == "kept"
    assert columns["attributes"]["Static_BFE"] == -9999.0
    assert columns["attributes"]["VELOCITY"] is None


def test_absent_keys_are_null() -> None:
    columns = zone_columns({"FLD_ZONE": "X"})
    assert columns["static_bfe"] is None and columns["sfha_tf"] is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (8.5, 8.5),
        ("12", 12.0),
        (-9999, None),
        ("-9999.0", None),
        ("", None),
        ("n/a", None),
        (math.inf, None),
        (0, 0.0),
    ],
)
def test_clean_number(raw: object, expected: float | None) -> None:
    assert clean_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [("T", True), ("f", False), ("Y", True), ("", None), ("maybe", None)]
)
def test_clean_flag(raw: str, expected: bool | None) -> None:
    assert clean_flag(raw) is expected


ZONE_CASES = [
    ("AE", "FLOODWAY", True, "high_risk"),
    ("A", None, True, "high_risk"),
    ("AO", None, True, "high_risk"),
    ("A99", None, True, "high_risk"),
    ("VE", None, True, "high_risk"),
    ("A12", None, None, "high_risk"),
    ("AR/AE", None, None, "high_risk"),
    ("X", "0.2 PCT ANNUAL CHANCE FLOOD HAZARD", False, "moderate_risk"),
    ("X", "AREA WITH REDUCED FLOOD RISK DUE TO LEVEE", False, "moderate_risk"),
    ("B", None, None, "moderate_risk"),
    ("X", "AREA OF MINIMAL FLOOD HAZARD", False, "minimal_risk"),
    ("C", None, None, "minimal_risk"),
    ("D", None, False, "undetermined"),
    ("OPEN WATER", None, False, "open_water"),
    ("AREA NOT INCLUDED", None, None, "unmapped"),
    ("ZZ", None, True, "high_risk"),
    ("ZZ", None, None, "undetermined"),
]


@pytest.mark.parametrize(("zone", "subtype", "sfha", "status"), ZONE_CASES)
def test_zone_status(zone: str, subtype: str | None, sfha: bool | None, status: str) -> None:
    assert zone_status(zone, subtype, sfha) == status


def test_combined_status_takes_the_most_severe() -> None:
    assert combined_status(["minimal_risk", "high_risk", "moderate_risk"]) == "high_risk"
    assert combined_status(["minimal_risk", "undetermined"]) == "undetermined"
    assert combined_status([]) == "unmapped"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"lat": "40"}, "'lon' is required"),
        ({"lon": "abc", "lat": "40"}, "'lon' must be a number"),
        ({"lon": "-74", "lat": "91"}, "'lat' must be between -90 and 90"),
        ({"lon": "181", "lat": "0"}, "'lon' must be between"),
        ({"lon": "nan", "lat": "0"}, "'lon' must be a finite number"),
        ({"lon": "-74", "lat": " "}, "'lat' is required"),
    ],
)
def test_parse_lon_lat_rejects_bad_input(args: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        parse_lon_lat(args)


def test_parse_lon_lat_accepts_edges() -> None:
    assert parse_lon_lat({"lon": "-180", "lat": "90"}) == (-180.0, 90.0)


def test_nul_characters_are_dropped_from_stored_text() -> None:
    from geoapp.nfhl.attributes import zone_columns

    columns = zone_columns({"FLD_ZONE": "A\x00E", "NOTE\x00": "x\x00y"})
    assert columns["fld_zone"] == "AE"
    assert columns["attributes"] == {"FLD_ZONE": "AE", "NOTE": "xy"}
