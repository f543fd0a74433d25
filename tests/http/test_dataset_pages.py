"""The analysts' pages: upload form, dataset list and detail, delete."""

from __future__ import annotations

import io

from sqlalchemy import select

from geoapp.db.models import Dataset
from tests.upload_files import SAMPLE_ZIP


def sign_in(client, make_user, role: str) -> None:
    from tests.conftest import TEST_PASSWORD

    user = make_user(role)
    client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})


def test_upload_page_needs_an_analyst(client, make_user) -> None:
    assert client.get("/upload").status_code == 302  # to the sign-in page
    sign_in(client, make_user, "viewer")
    assert client.get("/upload").status_code == 403


def test_upload_then_detail_then_delete(client, make_user, session) -> None:
    sign_in(client, make_user, "analyst")
    assert "Drop the file here" in client.get("/upload").get_data(as_text=True)
    response = client.post("/upload", data={
        "name": "Page <b>upload</b>", "effective_date": "2024-06-20", "repair": "y",
        "file": (io.BytesIO(SAMPLE_ZIP.read_bytes()), SAMPLE_ZIP.name),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Page &lt;b&gt;upload&lt;/b&gt;" in page and "<b>upload</b>" not in page
    assert "EPSG:3424" in page and "ready" in page and "format=shp" in page
    dataset = session.scalar(select(Dataset).where(Dataset.name == "Page <b>upload</b>"))
    assert "Page &lt;b&gt;upload" in client.get("/datasets").get_data(as_text=True)
    deleted = client.post(f"/datasets/{dataset.id}/delete")
    assert deleted.status_code == 302
    assert session.get(Dataset, dataset.id) is None


def test_bad_upload_shows_a_readable_message(client, make_user) -> None:
    sign_in(client, make_user, "analyst")
    response = client.post("/upload", data={
        "name": "bad", "file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 50), "map.zip"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "looks like a PNG image" in response.get_data(as_text=True)


def test_unknown_dataset_page_is_404(client) -> None:
    assert client.get("/datasets/999999").status_code == 404
