"""One vocabulary: the zone-code table, the risk/dataset/export statuses and roles as StrEnums."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import orjson
import pytest

from geoapp.db.vocabulary import DatasetStatus, ExportStatus, Role
from geoapp.nfhl.status import (
    CANONICAL_CODES,
    STATUS_ORDER,
    ZONE_TABLE,
    ZONES,
    RiskStatus,
    status_column_sql,
    valid_zone_code,
    zone_status,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def migrated_risk_status_sql() -> str:
    """The generated-column expression that migration 0001 wrote for flood_zones.risk_status."""
    tree = ast.parse((MIGRATIONS / "0001_initial_schema.py").read_text())
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Column"
                and node.args and getattr(node.args[0], "value", None) == "risk_status"):
            for arg in node.args:
                if isinstance(arg, ast.Call) and getattr(arg.func, "attr", None) == "Computed":
                    return arg.args[0].value
    raise AssertionError("no risk_status column in migration 0001")


def test_the_status_column_built_from_the_zone_table_is_what_the_migration_created() -> None:
    expected = migrated_risk_status_sql()
    assert "AREA NOT INCLUDED" in expected
    assert status_column_sql() == expected


def test_every_code_of_the_table_is_valid_and_gets_its_status() -> None:
    assert len(ZONES) == len(ZONE_TABLE)
    for zone in ZONE_TABLE:
        assert valid_zone_code(zone.code)
        assert valid_zone_code(zone.code.lower())
        assert zone_status(zone.code, None, None) is zone.status
        assert zone.sfha == (zone.status is RiskStatus.HIGH_RISK)
    assert {"A", "AE", "AH", "AO", "A99", "AR", "V", "VE"} == {z.code for z in ZONE_TABLE if z.sfha}


@pytest.mark.parametrize("code", ["A1", "V30", "AR/AE", "ar / a99", "X500"])
def test_numbered_and_dual_codes_are_valid(code: str) -> None:
    assert valid_zone_code(code)


@pytest.mark.parametrize("code", ["A31", "V0", "Z", "AE/Q", "XX"])
def test_unknown_codes_are_not_valid(code: str) -> None:
    assert not valid_zone_code(code)


def test_canonical_codes_leave_out_other_spellings_only() -> None:
    assert "X500" not in CANONICAL_CODES
    assert len(CANONICAL_CODES) == len(ZONE_TABLE) - 1
    assert CANONICAL_CODES[:3] == ("A", "AE", "AH")


def test_status_order_is_most_severe_first() -> None:
    assert STATUS_ORDER[0] == "high_risk"
    assert STATUS_ORDER[-1] == "unmapped"
    assert len(STATUS_ORDER) == len(set(STATUS_ORDER)) == 6


@pytest.mark.parametrize("member", [RiskStatus.HIGH_RISK, DatasetStatus.READY,
                                    ExportStatus.EXPIRED, Role.ANALYST])
def test_members_are_their_plain_value_in_json_and_text(member) -> None:
    value = member.value
    assert member == value and hash(member) == hash(value)
    assert json.dumps({"status": member, member: 1}) == f'{{"status": "{value}", "{value}": 1}}'
    assert orjson.dumps({"status": member}) == f'{{"status":"{value}"}}'.encode()
    assert f"{member}" == str(member) == value


def test_lookup_json_carries_the_plain_status(client, make_zone) -> None:
    make_zone("POLYGON((-75 40, -74 40, -74 41, -75 41, -75 40))", fld_zone="AE")
    response = client.get("/api/lookup?lon=-74.5&lat=40.5")
    assert response.status_code == 200
    assert b'"status":"high_risk"' in response.data.replace(b" ", b"")
