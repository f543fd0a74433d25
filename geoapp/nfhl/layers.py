"""The layers of an NFHL/DFIRM package beyond the flood hazard areas, and FEMA's sentinels.

Each `LayerSpec` says which table a layer goes to, what geometry it holds and which of its
fields become typed columns (found by any of their names, in any case). The verbatim
attributes are always kept too, so a value cleaned to NULL here is still there as FEMA wrote it.

FEMA's sentinels (FIRM Database Technical Reference): ``8888-08-08`` is a date that does not
apply, ``9999-09-09`` one that is not known, ``NP`` a text not populated, ``U`` unknown, and
``-9999`` a number with no value. Blank text is missing too. None of them is ever a value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from geoapp.nfhl.attributes import clean_flag, clean_number, clean_text

# The sentinels, documented for users in docs/nfhl-package.md.
NOT_APPLICABLE_DATE = dt.date(8888, 8, 8)
NOT_KNOWN_DATE = dt.date(9999, 9, 9)
SENTINEL_DATES = frozenset({NOT_APPLICABLE_DATE, NOT_KNOWN_DATE})
NOT_POPULATED = "NP"
UNKNOWN = "U"
SENTINEL_TEXTS = frozenset({NOT_POPULATED, UNKNOWN})

ZONE_LAYER = "S_FLD_HAZ_AR"


class FieldKind(StrEnum):
    """How a field's values are cleaned."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    FLAG = "flag"


class GeometryKind(StrEnum):
    """What a layer's features are."""

    POLYGON = "polygon"
    LINE = "line"
    NONE = "none"


@dataclass(frozen=True)
class FieldSpec:
    """One typed column: its name, the source field names it is read from, how it is cleaned."""

    column: str
    sources: tuple[str, ...]
    kind: FieldKind = FieldKind.TEXT
    length: int = 128
    # "U" is a panel suffix like any other letter, so it is not "unknown" there.
    u_is_unknown: bool = True


@dataclass(frozen=True)
class LayerSpec:
    """One package layer: its FEMA name, its table, its geometry and its typed fields."""

    name: str
    table: str
    geometry: GeometryKind
    fields: tuple[FieldSpec, ...]
    title: str
    # The field that ties rows of another layer to this one (L_COMM_INFO's COM_NFO_ID).
    key: str | None = None

    def columns(self) -> list[str]:
        """The typed columns, in order."""
        return [spec.column for spec in self.fields]


def text(column: str, *sources: str, length: int = 128, u_is_unknown: bool = True) -> FieldSpec:
    return FieldSpec(column, sources or (column.upper(),), FieldKind.TEXT, length, u_is_unknown)


def number(column: str, *sources: str) -> FieldSpec:
    return FieldSpec(column, sources or (column.upper(),), FieldKind.NUMBER)


def date(column: str, *sources: str) -> FieldSpec:
    return FieldSpec(column, sources or (column.upper(),), FieldKind.DATE)


def flag(column: str, *sources: str) -> FieldSpec:
    return FieldSpec(column, sources or (column.upper(),), FieldKind.FLAG)


FIRM_PANELS = LayerSpec("S_FIRM_PAN", "firm_panels", GeometryKind.POLYGON, (
    text("dfirm_id", length=32),
    text("firm_pan", length=32),
    text("panel", length=16),
    text("suffix", length=8, u_is_unknown=False),
    date("eff_date"),
    text("panel_typ", length=64),
    text("pnp_reason", length=254),
), title="FIRM panels")

POLITICAL_AREAS = LayerSpec("S_POL_AR", "political_areas", GeometryKind.POLYGON, (
    text("dfirm_id", length=32),
    text("cid", length=16),
    text("comm_no", length=16),
    text("pol_name1", length=128),
    text("pol_name2", length=128),
    text("pol_name3", length=128),
    text("co_fips", length=8),
    text("st_fips", length=8),
    text("com_nfo_id", length=64),
    flag("ani_tf"),
), title="Communities (political areas)")

COMMUNITY_INFO = LayerSpec("L_COMM_INFO", "community_info", GeometryKind.NONE, (
    text("dfirm_id", length=32),
    text("com_nfo_id", length=64),
    date("in_id_dat"),
    date("in_nfip_dt"),
    date("in_frm_dat"),
    date("recent_dat"),
    text("repos_adr1", length=128),
    text("repos_city", length=64),
    text("repos_st", length=32),
), title="Community information", key="com_nfo_id")

LOMRS = LayerSpec("S_LOMR", "lomrs", GeometryKind.POLYGON, (
    text("dfirm_id", length=32),
    text("lomr_id", length=64),
    text("case_no", length=32),
    date("eff_date"),
    text("status", length=32),
    text("scale", length=32),
), title="Letters of Map Revision")

BFE_LINES = LayerSpec("S_BFE", "bfe_lines", GeometryKind.LINE, (
    text("dfirm_id", length=32),
    text("bfe_ln_id", length=64),
    number("elev"),
    text("len_unit", length=32),
    text("v_datum", length=32),
), title="Base flood elevation lines")

CROSS_SECTIONS = LayerSpec("S_XS", "cross_sections", GeometryKind.LINE, (
    text("dfirm_id", length=32),
    text("xs_ln_id", length=64),
    text("xs_ltr", length=16),
    text("xs_ln_typ", length=64),
    text("wtr_nm", length=128),
    number("stream_stn"),
    number("wsel_reg"),
    number("strmbed_el"),
    text("len_unit", length=32),
    text("v_datum", length=32),
), title="Cross sections")

CBRS_UNITS = LayerSpec("S_CBRS", "cbrs_units", GeometryKind.POLYGON, (
    text("dfirm_id", length=32),
    text("cbrs_id", "CBRS_ID", "UNIT", "UNIT_ID", length=32),
    text("cbrs_typ", "CBRS_TYP", "CBRS_TYPE", "UNIT_TYPE", length=64),
    date("cbrs_dt", "CBRS_DT", "CBRS_DATE", "DESIG_DT"),
), title="Coastal Barrier Resources System units and Otherwise Protected Areas")

# STUDY_INFO holds one row about the study; it is kept on the dataset (Dataset.study_info).
STUDY_INFO = "STUDY_INFO"

PACKAGE_LAYERS: tuple[LayerSpec, ...] = (
    FIRM_PANELS, POLITICAL_AREAS, COMMUNITY_INFO, LOMRS, BFE_LINES, CROSS_SECTIONS, CBRS_UNITS,
)
BY_NAME = {spec.name: spec for spec in PACKAGE_LAYERS}
# Every layer name an import recognises; anything else in a package is listed as skipped.
KNOWN_LAYERS = frozenset({ZONE_LAYER, STUDY_INFO, *BY_NAME})



def package_layer_name(name: str) -> str | None:
    """The FEMA layer a file or layer name stands for, or None.

    FEMA names layers in upper case; state geodatabases write S_Fld_Haz_Ar, and some county
    packages prefix them (34025C_S_FIRM_PAN): the name itself is matched, in any case.
    """
    upper = name.upper()
    if upper in KNOWN_LAYERS:
        return upper
    for known in KNOWN_LAYERS:
        if upper.endswith("_" + known):
            return known
    return None


def missing_zone_layer(names: list[str]) -> str | None:
    """Why a set of layers is refused, when they are an NFHL package without S_FLD_HAZ_AR."""
    known = sorted({found for name in names if (found := package_layer_name(name))})
    if known and ZONE_LAYER not in known:
        return (f"this NFHL package has no {ZONE_LAYER} layer (the flood hazard areas), only "
                f"{', '.join(known)}; add it, or choose a polygon layer with `layer`")
    return None


def clean_date(value: Any) -> dt.date | None:
    """A date, with FEMA's 8888-08-08 and 9999-09-09 (and blanks) as None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    elif not isinstance(value, dt.date):
        if isinstance(value, np.datetime64):  # pyogrio's dates; pandas' are nanoseconds
            if np.isnat(value):
                return None
            return clean_date(value.astype("datetime64[D]").item())
        text_value = clean_text(value)
        if text_value is None:
            return None
        try:
            value = dt.date.fromisoformat(text_value[:10].replace("/", "-"))
        except ValueError:
            return None
    return None if value in SENTINEL_DATES else value


def clean_package_text(value: Any, field: FieldSpec) -> str | None:
    """Text with blanks, NP (and U where it means unknown) as None, cut to its column."""
    cleaned = clean_text(value)
    if cleaned is None:
        return None
    upper = cleaned.upper()
    if upper == NOT_POPULATED or (field.u_is_unknown and upper == UNKNOWN):
        return None
    return cleaned[:field.length]


def clean_value(value: Any, field: FieldSpec) -> Any:
    """One source value cleaned for its typed column."""
    if field.kind is FieldKind.NUMBER:
        return clean_number(value)
    if field.kind is FieldKind.DATE:
        return clean_date(value)
    if field.kind is FieldKind.FLAG:
        return clean_flag(value)
    return clean_package_text(value, field)


def field_sources(spec: LayerSpec, fields: list[str]) -> dict[str, str]:
    """Typed column -> the layer's field it is read from (first matching name, any case)."""
    by_upper = {name.upper(): name for name in fields}
    found: dict[str, str] = {}
    for field in spec.fields:
        for source in field.sources:
            if source.upper() in by_upper:
                found[field.column] = by_upper[source.upper()]
                break
    return found


def typed_values(spec: LayerSpec, properties: Mapping[str, Any],
                 sources: Mapping[str, str]) -> dict[str, Any]:
    """The typed columns of one feature, cleaned of sentinels (missing fields are None)."""
    return {field.column: clean_value(properties.get(sources[field.column]), field)
            if field.column in sources else None for field in spec.fields}


def clean_study_info(properties: Mapping[str, Any]) -> dict[str, Any]:
    """STUDY_INFO's row with upper-case names and every sentinel as None (kept on the dataset)."""
    cleaned: dict[str, Any] = {}
    for key, value in properties.items():
        name = str(key).upper().replace("\x00", "")
        if isinstance(value, dt.date | dt.datetime) or name.endswith(("_DATE", "_DT", "_DAT")):
            day = clean_date(value)
            cleaned[name] = day.isoformat() if day else None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cleaned[name] = clean_number(value)
        else:
            cleaned[name] = clean_package_text(value, FieldSpec(name, (name,), length=254))
    return cleaned
