"""The audit log: every write request (and refused or failed attempt) and CLI write leaves a row."""

from __future__ import annotations

import io

import pytest
from flask import Blueprint
from sqlalchemy import select

from geoapp import create_app
from geoapp.db.models import AuditEvent, Dataset, FloodZone
from geoapp.extensions import db
from geoapp.web.auth import require_role
from tests.upload_files import SAMPLE_ZIP

CLIENT = {"REMOTE_ADDR": "203.0.113.7"}
AGENT = "audit-test/1.0"
ITEMS = "/api/collections/flood_zones/items"
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]]}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", "User-Agent": AGENT}


def events(session) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture()
def analyst(make_user, make_token):
    user = make_user("analyst")
    return user, bearer(make_token(user).secret)


@pytest.fixture()
def admin(make_user, make_token):
    user = make_user("admin")
    return user, bearer(make_token(user).secret)


def test_an_import_is_recorded_with_user_target_and_address(client, session, analyst) -> None:
    user, headers = analyst
    data = {"name": "Audited FIRM", "file": (io.BytesIO(SAMPLE_ZIP.read_bytes()), SAMPLE_ZIP.name)}
    response = client.post("/api/datasets", data=data, headers=headers,
                           content_type="multipart/form-data", environ_base=CLIENT)
    assert response.status_code == 202
    [event] = events(session)
    assert (event.action, event.method, event.path) == (
        "api.create_dataset_import", "POST", "/api/datasets")
    assert (event.user_id, event.user_email) == (user.id, user.email)
    assert (event.target_type, event.target_id) == ("dataset", str(response.get_json()["id"]))
    assert event.status == 202
    assert event.client_addr == "203.0.113.7" and event.user_agent == AGENT
    assert event.occurred_at is not None


def test_token_creation_and_revocation_are_recorded(client, session, make_user,
                                                    make_token) -> None:
    user = make_user("viewer")
    headers = bearer(make_token(user).secret)
    created = client.post("/api/tokens", json={"name": "ci"}, headers=headers,
                          environ_base=CLIENT)
    assert created.status_code == 201
    token_id = created.get_json()["id"]
    revoked = client.delete(f"/api/tokens/{token_id}", headers=headers, environ_base=CLIENT)
    assert revoked.status_code == 200
    create_event, revoke_event = events(session)
    assert (create_event.action, create_event.target_type, create_event.target_id) == (
        "api.create_token", "token", str(token_id))
    assert (revoke_event.action, revoke_event.target_type, revoke_event.target_id) == (
        "api.revoke_token", "token", str(token_id))
    for event in (create_event, revoke_event):
        assert event.user_id == user.id and event.client_addr == "203.0.113.7"
    assert [create_event.status, revoke_event.status] == [201, 200]


def test_a_zone_edit_through_the_transactions_api_is_recorded(client, session, analyst,
                                                              make_zone) -> None:
    user, headers = analyst
    zone = make_zone()
    response = client.patch(f"{ITEMS}/{zone.id}", json={"properties": {"static_bfe": 12.5}},
                            headers=headers, environ_base=CLIENT)
    assert response.status_code == 200
    [event] = events(session)
    assert (event.action, event.method) == ("api.update_item", "PATCH")
    assert (event.target_type, event.target_id) == ("flood_zones", str(zone.id))
    assert event.user_id == user.id and event.status == 200
    assert event.client_addr == "203.0.113.7"


def test_created_zones_are_recorded_with_their_ids(client, session, analyst, make_dataset) -> None:
    _user, headers = analyst
    dataset = make_dataset()
    features = [{"type": "Feature", "geometry": SQUARE,
                 "properties": {"dataset_id": dataset.id, "fld_zone": zone}}
                for zone in ("AE", "X")]
    response = client.post(ITEMS, json={"type": "FeatureCollection", "features": features},
                           headers=headers)
    assert response.status_code == 201
    ids = response.get_json()["ids"]
    [event] = events(session)
    assert event.action == "api.create_items" and event.target_type == "flood_zones"
    assert event.target_id == ",".join(map(str, ids)) and event.details["ids"] == ids


def test_a_failed_write_is_recorded_with_its_status_and_changes_nothing(
        client, session, analyst, make_zone) -> None:
    _user, headers = analyst
    zone = make_zone(static_bfe=3.0)
    bowtie = {"type": "Polygon",
              "coordinates": [[[0, 0], [0.01, 0.01], [0.01, 0], [0, 0.01], [0, 0]]]}
    response = client.patch(f"{ITEMS}/{zone.id}", json={"geometry": bowtie,
                                                        "properties": {"static_bfe": 99.0}},
                            headers=headers)
    assert response.status_code == 400
    [event] = events(session)
    assert event.action == "api.update_item" and event.status == 400
    assert event.details["error"] == response.get_json()["error"]
    session.expire_all()
    assert session.get(FloodZone, zone.id).static_bfe == 3.0


def test_an_unexpected_failure_is_recorded_and_its_half_done_write_is_not_committed(
        database_url, session, make_user, make_token) -> None:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x"})
    probe = Blueprint("audit_probe", __name__)

    @probe.post("/api/audit-probe")
    @require_role("viewer")
    def half_done_write():
        db.session.add(Dataset(name="half-done", status="ready"))
        db.session.flush()
        raise RuntimeError("a bug after the first write")

    app.register_blueprint(probe)
    user = make_user()
    user_id, headers = user.id, bearer(make_token(user).secret)
    response = app.test_client().post("/api/audit-probe", headers=headers)
    assert response.status_code == 500
    [event] = events(session)
    assert (event.action, event.status, event.user_id) == (
        "audit_probe.half_done_write", 500, user_id)
    assert session.scalar(select(Dataset).where(Dataset.name == "half-done")) is None


def test_denied_attempts_are_recorded(client, session, make_user, make_token) -> None:
    anonymous = client.post("/api/tokens", json={}, environ_base=CLIENT)
    assert anonymous.status_code == 401
    viewer = make_user("viewer")
    forbidden = client.delete(f"{ITEMS}/1", headers=bearer(make_token(viewer).secret))
    assert forbidden.status_code == 403
    first, second = events(session)
    assert (first.action, first.status, first.user_id) == ("api.create_token", 401, None)
    assert first.client_addr == "203.0.113.7"
    assert (second.action, second.status) == ("api.delete_item", 403)
    assert second.user_id == viewer.id  # who was refused


def test_reads_are_not_recorded(client, session, make_user, make_token) -> None:
    headers = bearer(make_token(make_user("viewer")).secret)
    assert client.get("/api/lookup?lon=0&lat=0", headers=headers).status_code == 200
    batch = client.post("/api/lookup/batch", data="id,lon,lat\na,0,0\n",
                        headers={**headers, "Content-Type": "text/csv"})
    assert batch.status_code == 200
    assert events(session) == []


def test_only_admins_read_the_log(client, session, make_user, make_token, admin) -> None:
    analyst_headers = bearer(make_token(make_user("analyst")).secret)
    assert client.get("/api/audit", headers=analyst_headers).status_code == 403
    assert client.get("/admin/audit", headers=analyst_headers).status_code == 403
    assert client.get("/api/audit").status_code == 401
    _user, admin_headers = admin
    assert client.get("/api/audit", headers=admin_headers).status_code == 200
    assert client.get("/admin/audit", headers=admin_headers).status_code == 200


def test_api_and_page_filter_and_page(client, session, make_user, make_token, admin) -> None:
    _admin, admin_headers = admin
    viewer = make_user("viewer")
    viewer_headers = bearer(make_token(viewer).secret)
    for name in ("a", "b", "c"):
        assert client.post("/api/tokens", json={"name": name},
                           headers=viewer_headers).status_code == 201
    client.post("/api/tokens", json={})  # anonymous: 401, recorded without a user

    mine = client.get(f"/api/audit?user={viewer.email}&limit=2", headers=admin_headers)
    body = mine.get_json()
    assert [e["user"]["email"] for e in body["events"]] == [viewer.email] * 2
    assert body["events"][0]["id"] > body["events"][1]["id"]  # newest first
    [next_link] = [link for link in body["links"] if link["rel"] == "next"]
    rest = client.get(next_link["href"].replace("http://localhost", ""),
                      headers=admin_headers).get_json()
    assert len(rest["events"]) == 1 and rest["links"] == []

    denied = client.get("/api/audit?action=api.create_token&user=", headers=admin_headers)
    statuses = sorted(e["status"] for e in denied.get_json()["events"])
    assert statuses == [201, 201, 201, 401]
    bad = client.get("/api/audit?limit=0", headers=admin_headers)
    assert bad.status_code == 400 and "limit" in bad.get_json()["message"]

    page = client.get(f"/admin/audit?user={viewer.email}", headers=admin_headers)
    html = page.get_data(as_text=True)
    assert html.count("<code>api.create_token</code>") == 3 and viewer.email in html


def test_cli_writes_are_recorded(app, session, tmp_path) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "cli-audit@example.org", "--role",
                                  "analyst", "--password", "correct horse battery"])
    assert created.exit_code == 0, created.output
    token = runner.invoke(args=["tokens", "create", "cli-audit@example.org"])
    assert token.exit_code == 0, token.output
    refused = runner.invoke(args=["tokens", "create", "ghost@example.org"])
    assert refused.exit_code == 1
    imported = runner.invoke(args=["zones", "import", str(SAMPLE_ZIP), "--name", "CLI FIRM"])
    assert imported.exit_code == 0, imported.output
    user_event, token_event, refused_event, import_event = events(session)
    assert (user_event.action, user_event.status, user_event.target_type) == (
        "cli.users.create", 201, "user")
    assert user_event.details["email"] == "cli-audit@example.org"
    assert (token_event.action, token_event.target_type) == ("cli.tokens.create", "token")
    assert token_event.target_id.isdigit() and token_event.details["owner"] == (
        "cli-audit@example.org")
    assert (refused_event.action, refused_event.status) == ("cli.tokens.create", 404)
    assert (import_event.action, import_event.status, import_event.target_type) == (
        "cli.zones.import", 201, "dataset")
    for event in (user_event, token_event, refused_event, import_event):
        assert event.user_id is None and event.client_addr is None and event.details["os_user"]


def test_cli_password_and_sign_out_commands_are_recorded(app, session) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "cli-revoke@example.org", "--password",
                                  "correct horse battery"])
    assert created.exit_code == 0, created.output
    changed = runner.invoke(args=["users", "set-password", "cli-revoke@example.org",
                                  "--password", "another horse battery"])
    assert changed.exit_code == 0, changed.output
    signed_out = runner.invoke(args=["users", "sign-out-everywhere", "cli-revoke@example.org"])
    assert signed_out.exit_code == 0, signed_out.output
    refused = runner.invoke(args=["users", "sign-out-everywhere", "ghost@example.org"])
    assert refused.exit_code == 1
    _, password_event, sign_out_event, refused_event = events(session)
    assert (password_event.action, password_event.status, password_event.target_type) == (
        "cli.users.set-password", 200, "user")
    assert (sign_out_event.action, sign_out_event.target_id) == (
        "cli.users.sign-out-everywhere", password_event.target_id)
    assert (refused_event.action, refused_event.status) == ("cli.users.sign-out-everywhere", 404)


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(
        database_url, session, make_user, make_token) -> None:
    proxied = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x",
                          "GEOAPP_TRUSTED_PROXIES": 1})
    headers = {**bearer(make_token(make_user()).secret), "X-Forwarded-For": "198.51.100.4"}
    response = proxied.test_client().post("/api/tokens", json={}, headers=headers,
                                          environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.status_code == 201
    [event] = events(session)
    assert event.client_addr == "198.51.100.4"
