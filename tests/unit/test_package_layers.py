"""FEMA's sentinels and the names of NFHL package layers (geoapp.nfhl.layers), no database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from geoapp.nfhl import layers
from geoapp.nfhl.layers import (
    COMMUNITY_INFO,
    CROSS_SECTIONS,
    FIRM_PANELS,
    POLITICAL_AREAS,
    FieldKind,
    clean_date,
    clean_package_text,
    clean_study_info,
    clean_value,
    field_sources,
    missing_zone_layer,
    package_layer_name,
    typed_values,
)


def field_of(spec: layers.LayerSpec, column: str) -> layers.FieldSpec:
    (found,) = [field for field in spec.fields if field.column == column]
    return found


SUFFIX = field_of(FIRM_PANELS, "suffix")
PANEL_TYPE = field_of(FIRM_PANELS, "panel_typ")
NAME = field_of(POLITICAL_AREAS, "pol_name1")


# --- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    dt.date(8888, 8, 8), dt.date(9999, 9, 9),
    dt.datetime(8888, 8, 8), dt.datetime(9999, 9, 9, 0, 0),
    np.datetime64("8888-08-08"), np.datetime64("9999-09-09"),
    np.datetime64("8888-08-08T00:00:00.000", "ms"), np.datetime64("9999-09-09T00:00:00", "s"),
    "8888-08-08", "9999-09-09", "8888-08-08T00:00:00", " 9999-09-09 ", "8888/08/08",
])
def test_sentinel_dates_are_none_whatever_their_type(value) -> None:
    assert clean_date(value) is None


@pytest.mark.parametrize("value", [
    None, "", "   ", "NP", "U", "not a date", "2018-13-45", np.datetime64("NaT"),
])
def test_blank_and_unparsable_dates_are_none(value) -> None:
    assert clean_date(value) is None


@pytest.mark.parametrize("value", [
    dt.date(2018, 1, 3),
    dt.datetime(2018, 1, 3, 14, 30),
    np.datetime64("2018-01-03"),  # a .dbf date field read by pyogrio
    np.datetime64("2018-01-03T00:00:00.000", "ms"),  # a File Geodatabase date-time
    np.datetime64("2018-01-03T00:00:00", "s"),
    "2018-01-03",
    "2018-01-03T00:00:00",
    " 2018/01/03 ",
])
def test_real_dates_are_kept_as_dates(value) -> None:
    cleaned = clean_date(value)
    assert cleaned == dt.date(2018, 1, 3)
    assert type(cleaned) is dt.date  # not a datetime: the column is a DATE


def test_days_next_to_the_sentinels_are_real_dates() -> None:
    assert clean_date("8888-08-09") == dt.date(8888, 8, 9)
    assert clean_date(dt.date(9999, 9, 8)) == dt.date(9999, 9, 8)


def test_nanosecond_datetime64_is_a_date() -> None:
    assert clean_date(np.datetime64("2018-01-03T00:00:00", "ns")) == dt.date(2018, 1, 3)


# --- text -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, "", "   ", "NP", "np", " NP ", "U", "u", " U "])
def test_np_u_and_blank_texts_are_none(value) -> None:
    assert clean_package_text(value, PANEL_TYPE) is None
    assert clean_value(value, NAME) is None


def test_u_is_a_panel_suffix_not_unknown() -> None:
    assert SUFFIX.u_is_unknown is False
    assert clean_package_text("U", SUFFIX) == "U"
    assert clean_value(" U ", SUFFIX) == "U"
    # NP still means "not populated", for the suffix too.
    assert clean_package_text("NP", SUFFIX) is None
    assert clean_package_text("", SUFFIX) is None


def test_texts_that_merely_contain_np_or_u_are_kept() -> None:
    assert clean_package_text("NPR", PANEL_TYPE) == "NPR"
    assert clean_package_text("US", PANEL_TYPE) == "US"
    assert clean_package_text("Countywide, Panel Not Printed", PANEL_TYPE) == (
        "Countywide, Panel Not Printed")
    assert clean_package_text("  BOROUGH OF BRIELLE ", NAME) == "BOROUGH OF BRIELLE"


def test_text_is_cut_to_its_column() -> None:
    assert clean_package_text("G" * 40, SUFFIX) == "G" * SUFFIX.length
    assert clean_package_text("x\x00y", NAME) == "xy"  # PostgreSQL text cannot hold NUL


# --- numbers and flags ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [-9999, -9999.0, "-9999", " -9999.0 ", None, "", float("nan"),
                                   np.float64(-9999.0), np.int32(-9999)])
def test_no_value_numbers_are_none(value) -> None:
    wsel = field_of(CROSS_SECTIONS, "wsel_reg")
    assert wsel.kind is FieldKind.NUMBER
    assert clean_value(value, wsel) is None


@pytest.mark.parametrize(("value", "expected"), [
    (0, 0.0), (-9998.9, -9998.9), (-99999, -99999.0), ("12.5", 12.5), (np.float64(9.8), 9.8)])
def test_real_numbers_are_kept(value, expected) -> None:
    assert clean_value(value, field_of(CROSS_SECTIONS, "wsel_reg")) == expected


def test_flags() -> None:
    flag = field_of(POLITICAL_AREAS, "ani_tf")
    assert [clean_value(v, flag) for v in ("T", "F", "U", "NP", "", None)] == [
        True, False, None, None, None, None]


# --- whole rows -------------------------------------------------------------------------------

def test_typed_values_clean_a_row_found_by_any_case() -> None:
    properties = {"com_nfo_id": "34025C_2", "In_Id_Dat": np.datetime64("8888-08-08"),
                  "IN_NFIP_DT": np.datetime64("1974-07-19"), "IN_FRM_DAT": "9999-09-09",
                  "RECENT_DAT": dt.datetime(2018, 1, 3), "REPOS_ADR1": "NP",
                  "REPOS_CITY": "BRIELLE", "UNRELATED": "x"}
    sources = field_sources(COMMUNITY_INFO, list(properties))
    assert sources["in_id_dat"] == "In_Id_Dat" and sources["com_nfo_id"] == "com_nfo_id"
    row = typed_values(COMMUNITY_INFO, properties, sources)
    assert row == {"dfirm_id": None, "com_nfo_id": "34025C_2", "in_id_dat": None,
                   "in_nfip_dt": dt.date(1974, 7, 19), "in_frm_dat": None,
                   "recent_dat": dt.date(2018, 1, 3), "repos_adr1": None,
                   "repos_city": "BRIELLE", "repos_st": None}


def test_study_info_has_no_sentinel_left() -> None:
    cleaned = clean_study_info({
        "study_nm": "MONMOUTH COUNTY", "STUDY_PRE": "NP", "OPP_TF": "U", "LNDWD_VINT": " ",
        "EFF_DATE": np.datetime64("2018-01-03").item(), "REVIS_DT": "9999-09-09",
        "PREP_DAT": dt.date(8888, 8, 8), "SCALE": -9999, "FACTOR": 1.5, "CW_TF": "T"})
    assert cleaned == {"STUDY_NM": "MONMOUTH COUNTY", "STUDY_PRE": None, "OPP_TF": None,
                       "LNDWD_VINT": None, "EFF_DATE": "2018-01-03", "REVIS_DT": None,
                       "PREP_DAT": None, "SCALE": None, "FACTOR": 1.5, "CW_TF": "T"}


# --- layer names ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("S_FIRM_PAN", "S_FIRM_PAN"),
    ("s_firm_pan", "S_FIRM_PAN"),
    ("S_Firm_Pan", "S_FIRM_PAN"),
    ("34025C_S_FIRM_PAN", "S_FIRM_PAN"),
    ("34025c_s_firm_pan", "S_FIRM_PAN"),
    ("S_Fld_Haz_Ar", "S_FLD_HAZ_AR"),
    ("NJ_34025C_S_FLD_HAZ_AR", "S_FLD_HAZ_AR"),
    ("l_comm_info", "L_COMM_INFO"),
    ("Study_Info", "STUDY_INFO"),
    ("S_POL_AR", "S_POL_AR"),
    ("S_LOMR", "S_LOMR"),
    ("S_BFE", "S_BFE"),
    ("S_XS", "S_XS"),
    ("S_CBRS", "S_CBRS"),
    ("S_GEN_STRUCT", None),
    ("FIRM_PAN", None),
    ("S_FIRM_PAN_OLD", None),
    ("S_FIRM_PANS", None),
    ("XS_FIRM_PAN", None),
    ("zones", None),
    ("", None),
])
def test_package_layer_name(name, expected) -> None:
    assert package_layer_name(name) == expected


def test_missing_zone_layer_refuses_a_package_without_zones() -> None:
    message = missing_zone_layer(["S_FIRM_PAN", "s_bfe", "L_COMM_INFO", "S_GEN_STRUCT"])
    assert message is not None
    assert "S_FLD_HAZ_AR" in message
    assert "L_COMM_INFO, S_BFE, S_FIRM_PAN" in message  # the known layers it has, sorted
    assert "S_GEN_STRUCT" not in message


@pytest.mark.parametrize("names", [
    ["S_FLD_HAZ_AR", "S_FIRM_PAN"],
    ["34025C_s_fld_haz_ar", "S_BFE"],
    ["zones", "roads"],  # not an NFHL package at all: another question
    [],
])
def test_missing_zone_layer_accepts_the_rest(names) -> None:
    assert missing_zone_layer(names) is None
