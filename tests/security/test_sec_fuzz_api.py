"""Schemathesis over every operation of our OpenAPI document: reads and, as an analyst, writes.

Cases are generated from the document both as it allows (positive) and as it forbids
(negative), and each answer is checked: never a server error, always the documented status
codes, media types and body schemas. Writes go to this test's rolled-back transaction (and
upload directories the import removes), so nothing outlives it.

Driven with hypothesis rather than schemathesis' pytest plugin, which does not support the
pytest version we run. Derandomized so CI sees the same cases every run; set FUZZ_SEED to
explore others, FUZZ_EXAMPLES for more cases per operation and mode.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from shapely.geometry import box

from geoapp.ogc.features import QUERYABLES

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
SEED = os.environ.get("FUZZ_SEED")
# negative_data_rejection: a case the document forbids must get a 4xx.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, negative_data_rejection]
# Stop generating new operations' cases past this (the suite runs on 2 shared cores).
BUDGET_S = float(os.environ.get("FUZZ_BUDGET_S", "150"))


@pytest.fixture()
def fuzz_data(make_dataset, make_zone) -> dict[str, Any]:
    """Zones the writes can replace, patch and delete; their ids fill the path parameters of
    one extra run per operation, so that bodies and queries meet a real zone and dataset."""
    dataset = make_dataset(name="Fuzz FIRM")
    zones = [
        make_zone(box(i * 0.01, 0, i * 0.01 + 0.01, 0.01), dataset=dataset,
                  fld_zone="AE" if i % 2 else "X", sfha_tf=bool(i % 2), static_bfe=float(i))
        for i in range(5)
    ]
    return {"collectionId": "flood_zones", "featureId": str(zones[-1].id),
            "datasetId": dataset.id}


def settings_for() -> Callable[[Any], Any]:
    """Hypothesis settings: few, reproducible cases per operation and mode."""
    configured = settings(max_examples=EXAMPLES, deadline=None, database=None,
                          derandomize=SEED is None, suppress_health_check=list(HealthCheck))
    if SEED is None:
        return configured
    return lambda test: seed(int(SEED))(configured(test))


def fuzz(operation: Any, mode: GenerationMode, headers: Callable[[], dict[str, str]],
         path_parameters: dict[str, Any] | None = None) -> None:
    """Run generated cases of one operation and mode; raises the first (shrunk) failure."""

    # Headers fixed for generation too: a negative case must not be "negative" only by an
    # Authorization header that the call then replaces with a valid one.
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters,
                                     headers=headers())

    @given(case=strategy)
    @settings_for()
    def call_and_validate(case) -> None:
        call_and_check(case, headers())

    call_and_validate()


def call_and_check(case: Any, headers: dict[str, str]) -> None:
    """Send a case and check its answer against the document."""
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)


def coverage(schema: Any, operation: Any, headers: Callable[[], dict[str, str]]) -> None:
    """Schemathesis' coverage cases: each parameter at and beyond its bounds, missing,
    of the wrong type (deterministic, so they are the same on every run)."""
    config = schema.config.generation_for(operation=operation)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for case in schema.iter_coverage_cases(operation, generation_modes=modes,
                                           generation_config=config):
        try:
            call_and_check(case, headers())
        except (Exception, BaseExceptionGroup) as failure:
            failure.add_note(f"Reproduce with: {case.as_curl_command()}")
            raise


def describe(failure: BaseException) -> str:
    """A failure's message; each one of a group (schemathesis groups a case's failures)."""
    if isinstance(failure, BaseExceptionGroup):
        # Schemathesis' group message has every failure with its response and a curl line.
        return failure.message
    notes = "".join(f"\n{note}" for note in getattr(failure, "__notes__", []))
    return f"{type(failure).__name__}: {failure}{notes}"


# Operations only admins may call: fuzzed as an admin, so their parsing is reached too.
ADMIN_PATHS = ("/audit", "/users/")


def test_every_operation_keeps_its_contract(app, session, fuzz_data, make_user,
                                            make_token) -> None:
    """Coverage cases, then generated positive and negative ones, for every operation."""
    # The WSGI transport does not inflate gzip; gzip is tested in test_api_features.
    analyst = {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}",
               "Accept-Encoding": "identity"}
    # Revocations authenticate as a user of their own, with a fresh token each time, so
    # they can never revoke the token the other operations use.
    revoker = make_user("analyst")
    admin = {**analyst, "Authorization": f"Bearer {make_token(make_user('admin')).secret}"}

    def revoker_headers() -> dict[str, str]:
        return {**analyst, "Authorization": f"Bearer {make_token(revoker).secret}"}

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    methods = {operation.method.upper() for operation in operations}
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= methods
    failures: list[str] = []
    started = time.monotonic()
    for operation in operations:
        if time.monotonic() - started > BUDGET_S:
            failures.append(f"time budget of {BUDGET_S:.0f} s spent before {operation.label}")
            break
        headers = (revoker_headers if operation.path.startswith("/tokens/")
                   else admin.copy if operation.path.startswith(ADMIN_PATHS) else analyst.copy)
        path = {name: value for name, value in fuzz_data.items()
                if f"{{{name}}}" in operation.path}
        runs: list[tuple[str, Callable[[], None]]] = [
            ("coverage", partial(coverage, schema, operation, headers)),
            ("positive", partial(fuzz, operation, GenerationMode.POSITIVE, headers)),
            ("negative", partial(fuzz, operation, GenerationMode.NEGATIVE, headers)),
        ]
        if path:
            runs.append(("on fixture ids",
                         partial(fuzz, operation, GenerationMode.POSITIVE, headers, path)))
        for name, run in runs:
            try:
                run()
            except Unsatisfiable:
                pass  # nothing to break: e.g. no parameter to send invalid
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - all reported
                failures.append(f"{operation.label} ({name}): {describe(failure)}")
    assert not failures, "\n\n".join(failures)


# Values that broke our parsers before: digits of other scripts (str.isdigit and float take
# them, int does not), numbers no column, OFFSET or float holds, CQL2 literals of the wrong
# type, JSON deeper than the parser's stack. Schemathesis' generation rarely produces them,
# so every parameter of every operation gets each of them, deterministically.
HOSTILE_VALUES = ["²", "٣", "１２", "Ⅻ", "9" * 400, "-" + "9" * 30, "99999999999999999999",
                  "2147483648", "9223372036854775808", "1e999", "-0", "1_000", "0x10", " 7 ",
                  "nan", "[" * 3000 + "]" * 3000]
CQL_LITERALS = ["'abc'", "5", "1.5", "TRUE", "DATE('2020-01-01')", "99999999999999999999",
                "TIMESTAMP('2020-01-01T00:00:00Z')"]
HOSTILE_FILTERS = [
    *(f"{name} = {literal}" for name in QUERYABLES for literal in CQL_LITERALS),
    *(f"{name} LIKE 'a%'" for name in QUERYABLES),
    *(f"S_INTERSECTS(geometry, BBOX({a}, 0, 1, 1))" for a in ("'a'", "1e999", "-181")),
    "S_INTERSECTS(geometry, POINT(1 1e999))",
    "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))",
]
HOSTILE_JSON_FILTERS = ['{"op": "=", "args": [{"property": "static_bfe"}, "abc"]}',
                        '{"op": "s_intersects", "args": [{"property": "geometry"}, '
                        '{"bbox": ["a", 0, 1, 1]}]}', "[" * 3000 + "]" * 3000, "{}", "[]"]


def hostile_cases(operation: Any, fixture_path: dict[str, Any]) -> Any:
    """Cases of ``operation``, each with one parameter (path or query) hostile and the rest
    valid: the fixture's ids in the path, a point where lon/lat are required."""
    names = {p.name for p in operation.query}
    valid_path = {p.name: fixture_path.get(p.name, "0") for p in operation.path_parameters}
    valid_query = {"lon": "0.005", "lat": "0.005"} if {"lon", "lat"} <= names else {}
    for parameter in [*operation.path_parameters, *operation.query]:
        values: list[tuple[dict[str, str], str]] = [({}, v) for v in HOSTILE_VALUES]
        if parameter.name == "filter":
            values += [({}, v) for v in HOSTILE_FILTERS]
            values += [({"filter-lang": "cql2-json"}, v) for v in HOSTILE_JSON_FILTERS]
        for extra, value in values:
            if parameter.name in valid_path:
                yield operation.Case(path_parameters={**valid_path, parameter.name: value},
                                     query=valid_query)
            else:
                yield operation.Case(path_parameters=valid_path,
                                     query={**valid_query, **extra, parameter.name: value})


def test_hostile_values_in_every_parameter(app, session, fuzz_data, make_user,
                                           make_token) -> None:
    """Every path and query parameter of every operation, given values that broke parsers."""
    analyst = {"Authorization": f"Bearer {make_token(make_user('analyst')).secret}",
               "Accept-Encoding": "identity"}
    admin = {**analyst, "Authorization": f"Bearer {make_token(make_user('admin')).secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures: list[str] = []
    count = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/tokens/") or operation.method.upper() == "DELETE":
            continue  # deletions and revocations: the contract test, on data of its own
        headers = admin if operation.path.startswith(ADMIN_PATHS) else analyst
        for case in hostile_cases(operation, fuzz_data):
            count += 1
            try:
                # An error while streaming the body raises here (a cut-off body on a server).
                response = case.call(headers=headers)
                # Not negative_data_rejection: a hostile value may well be a valid one.
                case.validate_response(response, checks=CHECKS[:-1], headers=headers)
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - all reported
                failures.append(f"{operation.label} {case.path_parameters} {case.query}"
                                f"\n{describe(failure)}"[:1500])
    assert count > 500
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:30])
