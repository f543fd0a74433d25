"""ImportRequest: one parser for the web form, the API, the CLI and job JSON (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from geoapp.errors import InvalidInput, InvalidParameter
from geoapp.ingest.request import ImportRequest
from geoapp.inputs.json_input import loads_limited

FIELDS = {"name": " Monmouth 2024 ", "effective_date": "2024-06-20", "source_crs": "EPSG:3424",
          "encoding": "cp1252", "layer": "S_FLD_HAZ_AR", "field_map": '{"FLD_ZONE": "ZONE"}',
          "repair": "false"}


def test_text_fields_as_a_multipart_request_sends_them() -> None:
    request = ImportRequest.parse(FIELDS)
    assert request == ImportRequest(
        name="Monmouth 2024", effective_date=dt.date(2024, 6, 20), source_crs="EPSG:3424",
        encoding="cp1252", layer="S_FLD_HAZ_AR", field_map={"FLD_ZONE": "ZONE"}, repair=False)


def test_typed_values_as_a_form_or_the_cli_gives_them() -> None:
    typed = ImportRequest.parse({"name": "a", "effective_date": dt.date(2024, 6, 20),
                                 "field_map": {"FLD_ZONE": "ZONE"}, "repair": False,
                                 "layer": None, "encoding": ""})
    assert typed == ImportRequest.parse({**FIELDS, "name": "a", "source_crs": None,
                                         "encoding": None, "layer": " "})


def test_blank_fields_take_their_defaults() -> None:
    request = ImportRequest.parse({"name": "a", "effective_date": "", "field_map": "  ",
                                   "repair": "", "source_crs": "  "})
    assert request == ImportRequest(name="a")
    assert request.repair is True and request.field_map == {} and request.source_crs is None


def test_job_json_round_trip() -> None:
    request = ImportRequest.parse(FIELDS)
    assert ImportRequest.from_json(request.to_json()) == request
    assert request.to_json()["effective_date"] == "2024-06-20"


@pytest.mark.parametrize("field_map", ["not json", "null", "[]", "0", '{"FLD_ZONE": 1}',
                                       ["FLD_ZONE"], {"FLD_ZONE": None}])
def test_every_bad_field_map_gets_the_same_refusal(field_map) -> None:
    with pytest.raises(InvalidInput) as caught:
        ImportRequest.parse({"name": "a", "field_map": field_map})
    assert caught.value.code == "invalid_field_mapping"
    assert caught.value.message.startswith("field_map must be a JSON object")


def test_field_map_text_is_read_with_the_given_reader() -> None:
    deep = "[" * 100 + "]" * 100
    with pytest.raises(InvalidInput, match="nested too deeply"):
        ImportRequest.parse({"name": "a", "field_map": deep}, loads_limited)


@pytest.mark.parametrize(("fields", "code"), [
    ({"name": " "}, "missing_name"),
    ({"name": "x" * 201}, "invalid_name"),
    ({"name": "a\x00b"}, "invalid_text"),
    ({"name": "a", "layer": "S\x00"}, "invalid_text"),
    ({"name": "a", "effective_date": "June 2024"}, "invalid_date"),
    ({"name": "a", "encoding": "klingon"}, "invalid_encoding"),
])
def test_refusals_keep_their_codes(fields, code) -> None:
    with pytest.raises(InvalidInput) as caught:
        ImportRequest.parse(fields)
    assert caught.value.code == code


def test_repair_takes_the_words_of_a_boolean_parameter() -> None:
    assert ImportRequest.parse({"name": "a", "repair": "no"}).repair is False
    assert ImportRequest.parse({"name": "a", "repair": " YES "}).repair is True
    with pytest.raises(InvalidParameter, match="parameter 'repair' must be true or false"):
        ImportRequest.parse({"name": "a", "repair": "maybe"})
