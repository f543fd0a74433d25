"""Heights: their units and vertical datums, named as files and FEMA write them.

A DEM says "metre" in its vertical CRS or band unit, a BFE "Feet" in LEN_UNIT, a datum is
"NAVD88", "NAVD 88" or "North American Vertical Datum 1988". Everything is compared here in
one spelling, and converted through metres.
"""

from __future__ import annotations

import re
from enum import StrEnum


class VerticalUnit(StrEnum):
    """Units of heights: metres, international feet, US survey feet."""

    METRE = "m"
    FOOT = "ft"
    US_FOOT = "ftUS"


METRES_PER_UNIT = {VerticalUnit.METRE: 1.0, VerticalUnit.FOOT: 0.3048,
                   VerticalUnit.US_FOOT: 1200 / 3937}

# Spellings of each unit (lower case, spaces and punctuation squeezed out).
UNIT_NAMES = {
    VerticalUnit.METRE: {"m", "metre", "metres", "meter", "meters"},
    VerticalUnit.FOOT: {"ft", "foot", "feet", "internationalfoot", "intlfoot"},
    VerticalUnit.US_FOOT: {"ftus", "usft", "ussurveyfoot", "ussurveyfeet", "usfoot", "usfeet",
                           "footus", "surveyfoot"},
}
UNIT_BY_NAME = {name: unit for unit, names in UNIT_NAMES.items() for name in names}

# Known vertical datums by their squeezed spellings; others are kept as written, upper case.
DATUM_NAMES = {
    "NAVD88": {"navd88", "northamericanverticaldatum1988", "northamericanverticaldatumof1988",
               "navd1988", "navd88height", "navd88m", "navd88ft", "navd88ftus"},
    "NGVD29": {"ngvd29", "nationalgeodeticverticaldatum1929",
               "nationalgeodeticverticaldatumof1929", "ngvd1929", "ngvd29height",
               "ngvd29ftus", "ngvd29ft", "ngvd29m"},
    "PRVD02": {"prvd02", "puertoricoverticaldatum2002", "puertoricoverticaldatumof2002",
               "prvd2002"},
}
DATUM_BY_NAME = {name: datum for datum, names in DATUM_NAMES.items() for name in names}
UNKNOWN_DATUM_WORDS = {"", "unknown", "none", "np", "u", "null", "na"}


def squeeze(text: str) -> str:
    """Lower case without spaces, dots, dashes, underscores or parentheses."""
    return re.sub(r"[\s._\-()/]+", "", text.lower())


def parse_unit(text: str | None) -> VerticalUnit | None:
    """The unit a name means ("metre", "Feet", "US survey foot", ...), None if unknown."""
    return UNIT_BY_NAME.get(squeeze(text or ""))


def parse_datum(text: str | None) -> str | None:
    """A vertical datum in one spelling (NAVD88, NGVD29, ...); None when blank or unknown."""
    squeezed = squeeze(text or "")
    if squeezed in UNKNOWN_DATUM_WORDS:
        return None
    # A vertical CRS's name says "height" and its unit after the datum: "NAVD88 height (ftUS)".
    bare = re.sub(r"height.*$|(?<=\d)(ftus|usft|ft|m)$", "", squeezed)
    return DATUM_BY_NAME.get(squeezed) or DATUM_BY_NAME.get(bare) or (
        (text or "").strip().upper()[:32])


def convert(value: float, unit: VerticalUnit | str, to: VerticalUnit | str) -> float:
    """A height in another unit."""
    if unit == to:
        return value
    return value * METRES_PER_UNIT[VerticalUnit(unit)] / METRES_PER_UNIT[VerticalUnit(to)]
