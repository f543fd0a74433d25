"""A regular wheel works outside the checkout: built, installed into a fresh virtualenv, it
migrates a scratch database, loads the sample data and answers a lookup (about 30 s)."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# Not part of a source tree; copying them would only slow the build down.
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "node_modules", "var", "instance", "build",
                                    "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache",
                                    ".ruff_cache", ".hypothesis", "artifacts", "results")
LOOKUP = """
import json
import geoapp
app = geoapp.create_app()
point = json.loads((geoapp.PROJECT_DIR / "data/sample/known_points.json").read_text())[0]
client = app.test_client()
lookup = client.get(f"/api/lookup?lon={point['lon']}&lat={point['lat']}")
page = client.get("/")
print(json.dumps({"file": geoapp.__file__, "point": point, "status": lookup.status_code,
                  "body": lookup.get_json(), "page_status": page.status_code,
                  "page_is_html": b"<html" in page.data.lower()}))
"""


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> str:
    """Run a command; its stdout, or a failure showing what it printed."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def test_the_wheel_installed_outside_the_checkout_migrates_loads_and_answers(
        tmp_path: Path, empty_database: str) -> None:
    # Built from a copy, so that build/ leftovers in the checkout cannot reach the wheel.
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "FLASK_APP", "VIRTUAL_ENV"}}
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-cache-dir", "-q", "-w", str(dist), str(source)], cwd=tmp_path, env=env, timeout=300)
    (wheel,) = dist.glob("floodmanager-*.whl")

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path, env=env)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)], cwd=tmp_path, env=env, timeout=300)
    # The dependencies: this environment's packages, seen through a .pth (nothing downloaded).
    # Its own .pth files (the editable install of the checkout among them) are not read.
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    new_site = Path(run([str(python), "-c", purelib], cwd=tmp_path, env=env).strip())
    (new_site / "project_dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n")

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    app_env = {**env, "DATABASE_URL": empty_database, "SECRET_KEY": "packaging-test-" * 4}
    run([str(python), "-m", "flask", "--app", "geoapp", "db", "upgrade"], cwd=outside, env=app_env)
    loaded = run([str(python), "-m", "flask", "--app", "geoapp", "zones", "load-sample"],
                 cwd=outside, env=app_env, timeout=300)
    assert "loaded dataset" in loaded

    answer = json.loads(run([str(python), "-c", LOOKUP], cwd=outside, env=app_env))
    installed = Path(answer["file"]).resolve()
    assert installed.is_relative_to(venv.resolve())
    assert not installed.is_relative_to(REPO)
    assert answer["status"] == 200
    zones = answer["body"]["zones"]
    assert zones, answer["body"]
    assert answer["point"]["fld_ar_id"] in {zone["fld_ar_id"] for zone in zones}
    assert answer["body"]["status"] in {"high_risk", "moderate_risk", "minimal_risk"}
    # Templates and static files came with the wheel: the home page renders.
    assert answer["page_status"] == 200 and answer["page_is_html"]
