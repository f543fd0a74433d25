"""From flood zone codes to the risk status a user is told (see shared DOMAIN notes)."""

from __future__ import annotations

import re

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

SFHA_ZONES = frozenset({"A", "AE", "AH", "AO", "A99", "AR", "V", "VE"})
# Pre-1986 FIRMs number their zones: A1-A30 and V1-V30 are SFHA zones with BFEs.
_NUMBERED_SFHA = re.compile(r"^[AV]([1-9]|[12][0-9]|30)$")
# Subtypes of X that FEMA shades as moderate risk.
_MODERATE_SUBTYPE_MARKERS = ("0.2 PCT", "500", "REDUCED FLOOD RISK DUE TO LEVEE", "FUTURE")


def is_sfha_zone(fld_zone: str) -> bool:
    """Whether a zone code (including dual forms such as 'AR/AE') lies in the SFHA."""
    parts = [part.strip() for part in fld_zone.upper().split("/")]
    return any(part in SFHA_ZONES or _NUMBERED_SFHA.match(part) for part in parts)


def zone_status(fld_zone: str | None, zone_subty: str | None, sfha_tf: bool | None) -> str:
    """Classify one zone's attributes into a risk status."""
    zone = (fld_zone or "").strip().upper()
    subtype = (zone_subty or "").strip().upper()
    if zone in ("", "AREA NOT INCLUDED"):
        return UNMAPPED
    if zone == "OPEN WATER":
        return OPEN_WATER
    if zone == "D":
        return UNDETERMINED
    if is_sfha_zone(zone):
        return HIGH_RISK
    if zone in ("B", "X500") or (
        zone.startswith("X") and any(marker in subtype for marker in _MODERATE_SUBTYPE_MARKERS)
    ):
        return MODERATE_RISK
    if zone in ("X", "C"):
        return MINIMAL_RISK
    # An unknown code: trust the SFHA flag when the source sets it, otherwise admit ignorance.
    return HIGH_RISK if sfha_tf else UNDETERMINED


def combined_status(statuses: list[str]) -> str:
    """The most severe of several statuses; unmapped when there are none."""
    present = set(statuses)
    return next((status for status in STATUS_ORDER if status in present), UNMAPPED)
