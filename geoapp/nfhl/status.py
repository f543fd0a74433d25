"""From flood zone codes to the risk status a user is told (see shared DOMAIN notes).

The rules are written once, as data, and applied both in Python (``zone_status``) and in SQL
(``status_expression``, the stored generated column ``flood_zones.risk_status``); a test checks
that the two agree.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_
from sqlalchemy.dialects import postgresql

HIGH_RISK = "high_risk"
MODERATE_RISK = "moderate_risk"
MINIMAL_RISK = "minimal_risk"
UNDETERMINED = "undetermined"
OPEN_WATER = "open_water"
UNMAPPED = "unmapped"

# Most severe first: a point covered by several zones takes the first status in this order.
STATUS_ORDER = (HIGH_RISK, MODERATE_RISK, UNDETERMINED, MINIMAL_RISK, OPEN_WATER, UNMAPPED)

STATUS_LABELS = {
    HIGH_RISK: "High risk (Special Flood Hazard Area, 1% annual chance)",
    MODERATE_RISK: "Moderate risk (0.2% annual chance)",
    MINIMAL_RISK: "Minimal risk",
    UNDETERMINED: "Undetermined (Zone D)",
    OPEN_WATER: "Open water",
    UNMAPPED: "Unmapped (no flood map covers this place)",
}

NOT_MAPPED_CODES = ("", "AREA NOT INCLUDED")
# SFHA codes, including pre-1986 numbered zones (A1-A30, V1-V30) and dual forms like 'AR/AE'.
SFHA_PATTERN = r"(^|/)\s*(A|AE|AH|AO|A99|AR|V|VE|[AV]([1-9]|[12][0-9]|30))\s*(/|$)"
MODERATE_CODES = ("B", "X500")
# Subtypes of X that FEMA shades as moderate risk.
MODERATE_SUBTYPE_MARKERS = ("0.2 PCT", "500", "REDUCED FLOOD RISK DUE TO LEVEE", "FUTURE")
MINIMAL_CODES = ("X", "C")

_SFHA = re.compile(SFHA_PATTERN)


def is_sfha_zone(fld_zone: str) -> bool:
    """Whether a zone code lies in the Special Flood Hazard Area."""
    return bool(_SFHA.search(fld_zone.strip().upper()))


def zone_status(fld_zone: str | None, zone_subty: str | None, sfha_tf: bool | None) -> str:
    """Classify one zone's attributes into a risk status."""
    zone = (fld_zone or "").strip().upper()
    subtype = (zone_subty or "").upper()
    if zone in NOT_MAPPED_CODES:
        return UNMAPPED
    if zone == "OPEN WATER":
        return OPEN_WATER
    if zone == "D":
        return UNDETERMINED
    if _SFHA.search(zone):
        return HIGH_RISK
    if zone in MODERATE_CODES or (
        zone.startswith("X") and any(marker in subtype for marker in MODERATE_SUBTYPE_MARKERS)
    ):
        return MODERATE_RISK
    if zone in MINIMAL_CODES:
        return MINIMAL_RISK
    # An unknown code: trust the SFHA flag when the source sets it, otherwise admit ignorance.
    return HIGH_RISK if sfha_tf else UNDETERMINED


def status_expression(
    fld_zone: ColumnElement[str], zone_subty: ColumnElement[str], sfha_tf: ColumnElement[bool]
) -> ColumnElement[str]:
    """The same classification as ``zone_status``, as an (immutable) SQL expression."""
    zone = func.upper(func.btrim(func.coalesce(fld_zone, "")))
    subtype = func.upper(func.coalesce(zone_subty, ""))
    return case(
        (zone.in_(NOT_MAPPED_CODES), UNMAPPED),
        (zone == "OPEN WATER", OPEN_WATER),
        (zone == "D", UNDETERMINED),
        (zone.regexp_match(SFHA_PATTERN), HIGH_RISK),
        (
            or_(
                zone.in_(MODERATE_CODES),
                and_(
                    func.left(zone, 1) == "X",
                    or_(*(func.strpos(subtype, marker) > 0 for marker in MODERATE_SUBTYPE_MARKERS)),
                ),
            ),
            MODERATE_RISK,
        ),
        (zone.in_(MINIMAL_CODES), MINIMAL_RISK),
        (func.coalesce(sfha_tf, False), HIGH_RISK),
        else_=UNDETERMINED,
    )


def status_column_sql() -> str:
    """DDL text of the generated column ``flood_zones.risk_status`` (constants only)."""
    expression = status_expression(
        literal_column("fld_zone"), literal_column("zone_subty"), literal_column("sfha_tf")
    )
    return str(
        expression.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


def combined_status(statuses: list[str]) -> str:
    """The most severe of several statuses; unmapped when there are none."""
    present = set(statuses)
    return next((status for status in STATUS_ORDER if status in present), UNMAPPED)
