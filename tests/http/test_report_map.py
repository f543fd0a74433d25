"""The report's static map (query layer) and its PDF (route and renderer)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from shapely.geometry import box

from geoapp.risk.report_map import report_map, web_mercator
from geoapp.web.assets import is_served_asset
from geoapp.web.pdf import local_fetcher

LON, LAT = -74.05, 40.05
# ~170 m east of the point at this latitude.
EAST_EDGE = LON + 0.002


def path_xs(path: str) -> list[float]:
    """The x coordinates of an absolute SVG path made by ST_AsSVG (pairs after M/L)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", path)]
    return numbers[0::2]


def test_zones_are_clipped_to_the_frame_and_high_risk_drawn_last(session, make_dataset,
                                                                   make_zone) -> None:
    dataset = make_dataset()
    make_zone(box(EAST_EDGE, LAT - 0.05, LON + 0.05, LAT + 0.05), dataset=dataset,
              fld_zone="X", sfha_tf=False, zone_subty="AREA OF MINIMAL FLOOD HAZARD")
    make_zone(box(LON - 0.05, LAT - 0.05, EAST_EDGE, LAT + 0.05), dataset=dataset,
              fld_zone="AE")
    drawn = report_map(session, LON, LAT, half_width_m=400)
    assert [(s.zone, s.status) for s in drawn.shapes] == [("X", "minimal_risk"),
                                                          ("AE", "high_risk")]
    x_zone, ae_zone = drawn.shapes
    # The shared edge lies where Web Mercator puts it, relative to the frame's west side.
    edge = web_mercator(EAST_EDGE, LAT)[0] - (web_mercator(LON, LAT)[0] - drawn.size / 2)
    assert min(path_xs(x_zone.path)) == pytest.approx(edge, abs=1)
    assert max(path_xs(ae_zone.path)) == pytest.approx(edge, abs=1)
    assert min(path_xs(ae_zone.path)) == pytest.approx(0, abs=1)  # clipped to the frame
    assert max(path_xs(x_zone.path)) == pytest.approx(drawn.size, abs=1)
    # 400 m on the ground is longer in Web Mercator at 40°N.
    assert drawn.size == pytest.approx(800 / 0.766, rel=0.01)
    assert drawn.scale_length_m == 200
    # The AE label would sit on the point's marker, so only X is labelled.
    assert ae_zone.label_xy is None or abs(ae_zone.label_xy[0] - drawn.size / 2) > 50
    assert x_zone.label_xy is not None and x_zone.label_xy[0] > edge


def test_only_active_zones_near_the_point_are_drawn(session, make_dataset, make_zone) -> None:
    make_zone(box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01),
              dataset=make_dataset(status="retired"), fld_zone="AE")
    make_zone(box(LON + 0.02, LAT, LON + 0.03, LAT + 0.01), fld_zone="VE")  # ~1.7 km away
    assert report_map(session, LON, LAT).shapes == []


def test_report_page_draws_the_map_and_renders_to_pdf(client, make_dataset, make_zone) -> None:
    make_zone(box(LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01),
              dataset=make_dataset(name="County <FIRM>"), fld_zone="AE", static_bfe=9.0,
              len_unit="Feet", v_datum="NAVD88")
    page = client.get(f"/report?lon={LON}&lat={LAT}").get_data(as_text=True)
    assert page.count('class="zone-shape"') == 1 and 'data-zone="AE"' in page
    assert "format=pdf" in page  # the PDF link
    response = client.get(f"/report?lon={LON}&lat={LAT}&format=pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "flood-report-40.05000--74.05000.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "9.0 Feet NAVD88" in text and "County <FIRM>" in text
    assert "not an official flood zone" in text
    assert "PDF" not in text.split("Flood hazard report")[1][:40]  # no screen-only buttons
    refused = client.get(f"/report?lon={LON}&lat={LAT}&format=docx")
    assert refused.status_code == 400 and "must be one of html, pdf" in refused.get_data(True)


def test_pdf_renderer_reads_only_served_local_files(tmp_path: Path) -> None:
    css = tmp_path / "leaflet" / "dist" / "leaflet.css"
    css.parent.mkdir(parents=True)
    css.write_text("body { color: red }")
    (tmp_path / "secret.txt").write_text("no")
    fetcher = local_fetcher("http://app.test/", "/vendor/", tmp_path, is_served_asset)
    response = fetcher.fetch("http://app.test/vendor/leaflet/dist/leaflet.css")
    assert response.read() == b"body { color: red }" and response.content_type == "text/css"
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
    for url in ("http://example.com/x.css", "http://app.test/vendor/secret.txt",
                "http://app.test/vendor/leaflet/dist/../../secret.txt",
                "http://app.test/vendor/leaflet/dist/missing.css", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
