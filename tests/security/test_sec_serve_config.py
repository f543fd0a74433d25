"""The deployment files keep their promises: no shipped secret key, a proxy whose body limit
matches the upload limit, and `flask serve` built from the settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from geoapp.cli.serve import exposed_without_proxy, server_options
from geoapp.config import DEFAULTS, build_config

PROJECT = Path(__file__).resolve().parents[2]


def test_secret_key_file_is_read_and_an_empty_one_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / "secret_key"
    generated = "Vq3bW9x-generated-into-a-volume-k2Lp7RsT"  # as compose's secret-key service
    key_file.write_text(generated + "\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    assert build_config(str(tmp_path / "instance"))["SECRET_KEY"] == generated
    assert not (tmp_path / "instance" / "secret_key").exists()
    key_file.write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        build_config(str(tmp_path / "instance"))


def test_compose_ships_no_secret_key_and_every_app_service_reads_the_generated_one() -> None:
    compose = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("migrate", "web", "worker"):
        environment = services[name]["environment"]
        assert environment["SECRET_KEY"] == "${SECRET_KEY:-}"  # the caller's key, or none
        assert environment["SECRET_KEY_FILE"] == "/run/floodmanager/secret_key"
        assert "secrets:/run/floodmanager:ro" in services[name]["volumes"]
    assert "token_urlsafe" in services["secret-key"]["command"]
    assert "secrets:/run/floodmanager" in services["secret-key"]["volumes"]
    # Only the proxy is published; the app is reached through it.
    assert "ports" not in services["web"] and services["proxy"]["ports"]
    assert "serve" in (PROJECT / "Dockerfile").read_text().splitlines()[-1]


def test_proxy_body_limit_matches_the_upload_limit() -> None:
    conf = (PROJECT / "deploy" / "nginx" / "floodmanager.conf").read_text()
    [size] = re.findall(r"^\s*client_max_body_size (\d+)m;", conf, re.MULTILINE)
    # Room for the multipart envelope, but not so much that nginx lets a far larger body in.
    assert DEFAULTS["GEOAPP_UPLOAD_MAX_MB"] < int(size) <= DEFAULTS["GEOAPP_UPLOAD_MAX_MB"] + 16
    for timeout in ("client_header_timeout", "client_body_timeout", "send_timeout"):
        assert re.search(rf"^\s*{timeout} \d+s;", conf, re.MULTILINE), timeout
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in conf


def test_serve_options_come_from_the_settings() -> None:
    options = server_options(host="0.0.0.0", port=8080, workers=3, threads=6,
                             max_connections=500, header_timeout_s=7.5, access_log=False)
    assert (options["address"], options["port"], options["workers"]) == ("0.0.0.0", 8080, 3)
    assert options["blocking_threads"] == 6 and options["backpressure"] == 500
    assert options["http1_settings"].header_read_timeout == 7500
    assert options["interface"] == "wsgi" and options["factory"] is True


@pytest.mark.parametrize(("host", "proxies", "warned"), [
    ("127.0.0.1", 0, False), ("localhost", 0, False), ("::1", 0, False),
    ("0.0.0.0", 0, True), ("192.0.2.10", 0, True), ("app.example.org", 0, True),
    ("0.0.0.0", 1, False),
])
def test_serving_beyond_loopback_without_a_proxy_is_warned_about(host, proxies, warned) -> None:
    assert exposed_without_proxy(host, proxies) is warned
