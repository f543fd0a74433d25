"""One build step beyond pyproject.toml: the wheel carries the app's top-level resource folders.

templates/, static/, migrations/ and data/sample/ stay at the top of the checkout, where the app
reads them when run from it; a built wheel holds copies under geoapp/_resources/, where
``geoapp.PROJECT_DIR`` finds them once installed. An editable install needs no copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCE_DIRS = ("templates", "static", "migrations", "data/sample")
TARGET = Path("geoapp", "_resources")


class BuildPyWithResources(build_py):
    """build_py, then the resource folders copied into the built package."""

    def run(self) -> None:
        """Build the Python packages, then copy the resources beside them."""
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / TARGET
        # A clean copy each time, so a file deleted from the checkout leaves the wheel too.
        shutil.rmtree(target, ignore_errors=True)
        for name in RESOURCE_DIRS:
            shutil.copytree(root / name, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildPyWithResources})
