"""GET /healthz with the database up and down."""

from __future__ import annotations

from geoapp import create_app


def test_healthz_ok(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_reports_a_dead_database_as_503() -> None:
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:9/none",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "database_unavailable"
    assert "Traceback" not in response.get_data(as_text=True)


def test_lookup_with_a_dead_database_is_a_clean_503() -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:9/none",
        }
    )
    response = app.test_client().get("/api/lookup?lon=0&lat=0")
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_unavailable"
