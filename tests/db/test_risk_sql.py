"""The database's generated risk_status column agrees with geoapp.nfhl.status.zone_status."""

from __future__ import annotations

import pytest
from sqlalchemy import Boolean, String, literal, select

from geoapp.nfhl.status import status_expression, zone_status
from tests.unit.test_parsers import ZONE_CASES


@pytest.mark.parametrize(("zone", "subtype", "sfha", "status"), ZONE_CASES)
def test_sql_and_python_classify_alike(session, zone, subtype, sfha, status) -> None:
    expression = status_expression(
        literal(zone, String), literal(subtype, String), literal(sfha, Boolean)
    )
    assert session.scalar(select(expression)) == zone_status(zone, subtype, sfha) == status


def test_stored_zones_carry_their_status(make_zone) -> None:
    zone = make_zone(fld_zone="x", zone_subty="0.2 PCT ANNUAL CHANCE FLOOD HAZARD", sfha_tf=False)
    assert zone.risk_status == "moderate_risk"
