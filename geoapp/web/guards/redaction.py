"""Last line of defence for messages shown to users: no server file system paths in them.

Messages from libraries (GDAL, the OS) name the files they were given, e.g.
`/srv/app/instance/uploads/ab12/zones.shp: not recognized`. Users only need the file's
name; the folders say how the server is laid out. No Flask here: callers pass the roots.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# Top-level folders whose paths are never meant for users, whatever the deployment.
SYSTEM_ROOTS = (
    "/tmp", "/var", "/usr", "/opt", "/srv", "/home", "/root", "/etc", "/proc", "/dev",
    "/mnt", "/run", "/app", "/work", "/data", "/private",
)
# A path runs until whitespace, a quote or bracket, or the `:`/`,`/`;` after it in messages.
_PATH_REST = r"""(?:/[^\s'"`<>()\[\]{}:;,]*)*"""
# GDAL's virtual file systems prefix real paths: /vsizip//tmp/x.zip/zones.shp
_VSI_PREFIX = r"(?:/vsi[a-z0-9_]+/+)?"


@lru_cache(maxsize=32)
def _path_pattern(roots: tuple[str, ...]) -> re.Pattern[str]:
    # "/" itself (a HOME of "/" in containers) would make every URL path a server path.
    cleaned = {root.rstrip("/") for root in roots if root.startswith("/") and root.strip("/")}
    alternatives = "|".join(re.escape(root) for root in sorted(cleaned, key=len, reverse=True))
    # Not inside a longer word or URL path, and the root must end at a folder boundary.
    return re.compile(rf"(?<![\w./~-]){_VSI_PREFIX}(?:{alternatives})(?![\w.~-]){_PATH_REST}")


def strip_server_paths(message: str, roots: Iterable[str] = ()) -> str:
    """`message` with absolute paths under `roots` (and system folders) cut to their file name."""
    pattern = _path_pattern(tuple(sorted(set(roots) | set(SYSTEM_ROOTS))))

    def file_name(match: re.Match[str]) -> str:
        name = match.group(0).rstrip("/").rsplit("/", 1)[-1]
        return name or "(path)"

    return pattern.sub(file_name, message)
