"""GET /healthz with the database up and down."""

from __future__ import annotations

import logging

from flask import Flask

from geoapp import create_app


def test_healthz_ok(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def dead_database_app(**config: str) -> Flask:
    """The app on a database nobody answers for: port 9 (discard) on loopback refuses."""
    return create_app({"TESTING": True, "SECRET_KEY": "x",
                       "DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:9/none", **config})


def test_healthz_reports_a_dead_database_as_503() -> None:
    response = dead_database_app().test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "database_unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_lookup_with_a_dead_database_is_a_clean_503() -> None:
    response = dead_database_app().test_client().get("/api/lookup?lon=0&lat=0")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_unavailable"


def test_missing_front_end_packages_are_logged_at_start_with_the_fix(tmp_path, caplog) -> None:
    (tmp_path / "leaflet" / "dist").mkdir(parents=True)  # one of them installed, the rest not
    (tmp_path / "leaflet" / "dist" / "leaflet.js").write_text("")
    with caplog.at_level(logging.WARNING, logger="geoapp"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "GEOAPP_VENDOR_DIR": str(tmp_path)})
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and "basemap" not in r.getMessage()]
    assert len(warnings) == 1
    assert str(tmp_path) in warnings[0] and "npm ci" in warnings[0]
    assert "jquery" in warnings[0] and "leaflet," not in warnings[0]


def test_installed_front_end_packages_log_nothing(app, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="geoapp"):
        create_app({"TESTING": True, "SECRET_KEY": "x",
                    "GEOAPP_VENDOR_DIR": app.config["GEOAPP_VENDOR_DIR"]})
    assert not [r for r in caplog.records if "front-end" in r.getMessage()]


def test_healthz_names_missing_front_end_packages_but_stays_200(app, session, tmp_path,
                                                                 monkeypatch) -> None:
    monkeypatch.setitem(app.config, "GEOAPP_VENDOR_DIR", str(tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["assets"]["ok"] is False
    assert set(body["assets"]["missing"]) == {"leaflet", "jquery", "bootstrap",
                                              "leaflet.vectorgrid", "leaflet-draw",
                                              "swagger-ui-dist", "pmtiles", "protomaps-leaflet"}
    assert "npm ci" in body["assets"]["fix"]
    assert str(tmp_path) not in response.get_data(as_text=True)  # no server paths to clients


def test_healthz_with_a_dead_database_still_answers_503_and_names_missing_assets(
        tmp_path) -> None:
    app = dead_database_app(GEOAPP_VENDOR_DIR=str(tmp_path))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["assets"]["missing"]
