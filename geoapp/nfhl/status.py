"""From flood zone codes to the risk status a user is told (see shared DOMAIN notes).

One table of the known FLD_ZONE codes (``ZONE_TABLE``) and the rules written once, as data,
applied both in Python (``zone_status``) and in SQL (``status_expression``, the stored
generated column ``flood_zones.risk_status``); a test checks that the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_
from sqlalchemy.dialects import postgresql


class RiskStatus(StrEnum):
    """What a user is told about a place; declared most severe first."""

    HIGH_RISK = "high_risk"
    MODERATE_RISK = "moderate_risk"
    UNDETERMINED = "undetermined"
    MINIMAL_RISK = "minimal_risk"
    OPEN_WATER = "open_water"
    UNMAPPED = "unmapped"


# A point covered by several zones takes the first status in this order.
STATUS_ORDER = tuple(RiskStatus)

STATUS_LABELS = {
    RiskStatus.HIGH_RISK: "High risk (Special Flood Hazard Area, 1% annual chance)",
    RiskStatus.MODERATE_RISK: "Moderate risk (0.2% annual chance)",
    RiskStatus.MINIMAL_RISK: "Minimal risk",
    RiskStatus.UNDETERMINED: "Undetermined (Zone D)",
    RiskStatus.OPEN_WATER: "Open water",
    RiskStatus.UNMAPPED: "Unmapped (no flood map covers this place)",
}


@dataclass(frozen=True)
class ZoneCode:
    """One known FLD_ZONE code: what it means and the status it gives."""

    code: str
    meaning: str
    # For X, the status of a minimal-hazard X: a 0.2% subtype makes it moderate.
    status: RiskStatus
    # The canonical code this one is another spelling of; None for a canonical code.
    spelling_of: str | None = None

    @property
    def sfha(self) -> bool:
        """Whether the code lies in the Special Flood Hazard Area (the 1% floodplain)."""
        return self.status is RiskStatus.HIGH_RISK


_HIGH, _MODERATE, _MINIMAL = RiskStatus.HIGH_RISK, RiskStatus.MODERATE_RISK, RiskStatus.MINIMAL_RISK
# The one table of FEMA flood zone codes, read by the rules below, by the check on edited zones
# (geoapp.ogc.zone_edits) and by the queryables document (geoapp.ogc.features).
# The order matters: the SQL of the stored risk_status column lists codes in this order, and
# it must stay the text the migrations created (tests/unit/test_vocabulary.py checks it).
ZONE_TABLE: tuple[ZoneCode, ...] = (
    ZoneCode("A", "1% annual chance floodplain, no BFE determined", _HIGH),
    ZoneCode("AE", "1% annual chance floodplain with base flood elevations", _HIGH),
    ZoneCode("AH", "1% annual chance shallow ponding (1-3 ft) with BFEs", _HIGH),
    ZoneCode("AO", "1% annual chance sheet flow (1-3 ft) with depths", _HIGH),
    ZoneCode("A99", "1% floodplain to be protected by a levee under construction", _HIGH),
    ZoneCode("AR", "1% floodplain behind a levee being restored", _HIGH),
    ZoneCode("V", "coastal high hazard area (wave action), no BFE determined", _HIGH),
    ZoneCode("VE", "coastal high hazard area (wave action) with BFEs", _HIGH),
    ZoneCode("X", "outside the 1% floodplain (0.2% or minimal by subtype)", _MINIMAL),
    ZoneCode("D", "possible but undetermined flood hazard (not studied)",
             RiskStatus.UNDETERMINED),
    ZoneCode("B", "0.2% annual chance floodplain (older FIRMs)", _MODERATE),
    ZoneCode("C", "minimal flood hazard (older FIRMs)", _MINIMAL),
    ZoneCode("X500", "0.2% annual chance floodplain", _MODERATE, spelling_of="X"),
    ZoneCode("OPEN WATER", "open water", RiskStatus.OPEN_WATER),
    ZoneCode("AREA NOT INCLUDED", "no flood map covers this area (this is not Zone X)",
             RiskStatus.UNMAPPED),
)
ZONES: dict[str, ZoneCode] = {zone.code: zone for zone in ZONE_TABLE}
# The canonical codes, as examples for clients.
CANONICAL_CODES = tuple(zone.code for zone in ZONE_TABLE if zone.spelling_of is None)


def _codes(status: RiskStatus) -> tuple[str, ...]:
    return tuple(zone.code for zone in ZONE_TABLE if zone.status is status)


# A blank code means no map, like AREA NOT INCLUDED.
NOT_MAPPED_CODES = ("", *_codes(RiskStatus.UNMAPPED))
(OPEN_WATER_CODE,) = _codes(RiskStatus.OPEN_WATER)
(UNDETERMINED_CODE,) = _codes(RiskStatus.UNDETERMINED)
# Pre-1986 FIRMs number their A and V zones by flood hazard factor: A1-A30, V1-V30 (all SFHA).
NUMBERED_SFHA_PATTERN = r"[AV]([1-9]|[12][0-9]|30)"
# SFHA codes, including the numbered zones and dual forms like 'AR/AE'.
SFHA_PATTERN = rf"(^|/)\s*({'|'.join(_codes(_HIGH))}|{NUMBERED_SFHA_PATTERN})\s*(/|$)"
MODERATE_CODES = _codes(_MODERATE)
# Subtypes of X that FEMA shades as moderate risk.
MODERATE_SUBTYPE_MARKERS = ("0.2 PCT", "500", "REDUCED FLOOD RISK DUE TO LEVEE", "FUTURE")
MINIMAL_CODES = _codes(_MINIMAL)

_SFHA = re.compile(SFHA_PATTERN)
_NUMBERED = re.compile(rf"^{NUMBERED_SFHA_PATTERN}$")


def valid_zone_code(code: str) -> bool:
    """Whether a FLD_ZONE value is known: a code of the table, a numbered zone, or a dual form."""
    return all(
        part.strip() in ZONES or _NUMBERED.match(part.strip())
        for part in code.upper().split("/")
    )


def zone_status(
    fld_zone: str | None, zone_subty: str | None, sfha_tf: bool | None
) -> RiskStatus:
    """Classify one zone's attributes into a risk status."""
    zone = (fld_zone or "").strip().upper()
    subtype = (zone_subty or "").upper()
    if zone in NOT_MAPPED_CODES:
        return RiskStatus.UNMAPPED
    if zone == OPEN_WATER_CODE:
        return RiskStatus.OPEN_WATER
    if zone == UNDETERMINED_CODE:
        return RiskStatus.UNDETERMINED
    if _SFHA.search(zone):
        return RiskStatus.HIGH_RISK
    if zone in MODERATE_CODES or (
        zone.startswith("X") and any(marker in subtype for marker in MODERATE_SUBTYPE_MARKERS)
    ):
        return RiskStatus.MODERATE_RISK
    if zone in MINIMAL_CODES:
        return RiskStatus.MINIMAL_RISK
    # An unknown code: trust the SFHA flag when the source sets it, otherwise admit ignorance.
    return RiskStatus.HIGH_RISK if sfha_tf else RiskStatus.UNDETERMINED


def status_expression(
    fld_zone: ColumnElement[str], zone_subty: ColumnElement[str], sfha_tf: ColumnElement[bool]
) -> ColumnElement[str]:
    """The same classification as ``zone_status``, as an (immutable) SQL expression."""
    zone = func.upper(func.btrim(func.coalesce(fld_zone, "")))
    subtype = func.upper(func.coalesce(zone_subty, ""))
    # Plain values: SQLAlchemy infers no SQL type for an enum member, so it could not inline one.
    return case(
        (zone.in_(NOT_MAPPED_CODES), RiskStatus.UNMAPPED.value),
        (zone == OPEN_WATER_CODE, RiskStatus.OPEN_WATER.value),
        (zone == UNDETERMINED_CODE, RiskStatus.UNDETERMINED.value),
        (zone.regexp_match(SFHA_PATTERN), RiskStatus.HIGH_RISK.value),
        (
            or_(
                zone.in_(MODERATE_CODES),
                and_(
                    func.left(zone, 1) == "X",
                    or_(*(func.strpos(subtype, marker) > 0 for marker in MODERATE_SUBTYPE_MARKERS)),
                ),
            ),
            RiskStatus.MODERATE_RISK.value,
        ),
        (zone.in_(MINIMAL_CODES), RiskStatus.MINIMAL_RISK.value),
        (func.coalesce(sfha_tf, False), RiskStatus.HIGH_RISK.value),
        else_=RiskStatus.UNDETERMINED.value,
    )


def status_column_sql() -> str:
    """DDL text of the generated column ``flood_zones.risk_status`` (constants only)."""
    expression = status_expression(
        literal_column("fld_zone"), literal_column("zone_subty"), literal_column("sfha_tf")
    )
    return str(
        expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def combined_status(statuses: list[str]) -> RiskStatus:
    """The most severe of several statuses; unmapped when there are none."""
    present = set(statuses)
    return next((status for status in STATUS_ORDER if status in present), RiskStatus.UNMAPPED)
