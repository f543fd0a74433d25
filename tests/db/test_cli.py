"""`flask users`, `flask tokens` and `flask zones load-sample`; database failures as messages."""

from __future__ import annotations

import json

from sqlalchemy import select

from geoapp.db.models import ApiToken, Dataset, FloodZone, User
from geoapp.users import accounts


def test_users_create_with_password(app, session) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "Ana@Example.org",
            "--role",
            "analyst",
            "--password",
            "s3cret-pass",
        ]
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "ana@example.org"))
    assert user is not None and user.role == "analyst"
    assert accounts.authenticate(session, "ana@example.org", "s3cret-pass") is not None


def test_users_create_prompts_for_the_password(app, session) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "bo@example.org"], input="long-enough-pw\nlong-enough-pw\n"
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate(session, "bo@example.org", "long-enough-pw") is not None


def test_users_create_refuses_a_duplicate(app, make_user) -> None:
    user = make_user()
    result = app.test_cli_runner().invoke(
        args=["users", "create", user.email, "--password", "whatever-123"]
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_tokens_create_prints_a_working_token_once(app, session, make_user) -> None:
    user = make_user()
    result = app.test_cli_runner().invoke(args=["tokens", "create", user.email])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("fm_")
    assert accounts.user_for_token(session, secret).id == user.id
    stored = session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
    assert secret not in stored


def test_tokens_create_for_an_unknown_user(app, session) -> None:
    result = app.test_cli_runner().invoke(args=["tokens", "create", "ghost@example.org"])
    assert result.exit_code == 1 and "no user" in result.output


def write_geojson(path, features) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))


def square_feature(x: float, zone: str, **props) -> dict:
    ring = [[x, 0], [x + 1, 0], [x + 1, 1], [x, 1], [x, 0]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"FLD_ZONE": zone, **props},
    }


def test_load_sample_loads_once(app, session, tmp_path) -> None:
    path = tmp_path / "mini.geojson"
    write_geojson(
        path,
        [
            square_feature(0, "AE", STATIC_BFE=7.0, SFHA_TF="T"),
            square_feature(1, "X", STATIC_BFE=-9999.0, SFHA_TF="F"),
        ],
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["zones", "load-sample", "--path", str(path), "--name", "mini"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["zones", "load-sample", "--path", str(path), "--name", "mini"])
    assert "already loaded" in second.output
    dataset = session.scalar(select(Dataset).where(Dataset.name == "mini"))
    assert dataset.feature_count == 2 and dataset.source_crs == "EPSG:4326"
    bfes = session.scalars(
        select(FloodZone.static_bfe)
        .where(FloodZone.dataset_id == dataset.id)
        .order_by(FloodZone.fld_zone)
    ).all()
    assert bfes == [7.0, None]


def test_load_sample_refuses_lines_and_changes_nothing(app, session, tmp_path) -> None:
    path = tmp_path / "bad.geojson"
    line = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        "properties": {"FLD_ZONE": "AE"},
    }
    write_geojson(path, [square_feature(0, "AE"), line])
    result = app.test_cli_runner().invoke(
        args=["zones", "load-sample", "--path", str(path), "--name", "bad"]
    )
    assert result.exit_code == 1
    assert "feature 1" in result.output and "LineString" in result.output
    assert session.scalar(select(Dataset).where(Dataset.name == "bad")) is None


def cli_on(database: str):
    """A CLI runner for an app on another database of the test server."""
    from geoapp import create_app
    from tests.conftest import SERVER_SECRET_KEY, server_url

    url = server_url().set(database=database).render_as_string(hide_password=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SERVER_SECRET_KEY})
    return app.test_cli_runner()


def test_an_unreachable_database_is_one_line_not_a_traceback() -> None:
    result = cli_on("floodmanager_no_such_database").invoke(args=["zones", "load-sample"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "floodmanager_no_such_database" in result.output
    assert "Traceback" not in result.output


def test_an_unmigrated_database_says_to_migrate() -> None:
    # The server's own `postgres` database has no FloodManager tables.
    result = cli_on("postgres").invoke(
        args=["users", "create", "x@example.org", "--password", "long-enough-pw"])
    assert result.exit_code == 1
    assert "flask db upgrade" in result.output
    assert "Traceback" not in result.output
