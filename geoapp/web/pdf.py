"""HTML pages rendered to PDF with WeasyPrint, offline: only the app's own static files load.

The renderer never reaches the network (nor the app over HTTP, which could deadlock a busy
worker): stylesheet URLs under the vendor prefix are read from disk, `data:` URLs are decoded,
and anything else is refused and left out of the document. WeasyPrint is imported on first
use: loading Pango takes a while and only PDF requests need it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any


def local_fetcher(base_url: str, vendor_prefix: str, vendor_dir: Path,
                  allowed: Callable[[str], bool]) -> Any:
    """A WeasyPrint URL fetcher that serves `vendor_prefix` URLs from `vendor_dir` only."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = vendor_dir.resolve()
    prefix = base_url.rstrip("/") + vendor_prefix

    class LocalFiles(URLFetcher):
        """Serves `data:` URLs and the app's own static files; refuses everything else."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if not url.startswith(prefix):
                raise ValueError(f"not fetched for the PDF: {url}")
            relative = url[len(prefix):].split("?", 1)[0]
            path = (root / relative).resolve()
            if not allowed(relative) or root not in path.parents or not path.is_file():
                raise ValueError(f"not a served static file: {url}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return LocalFiles(allowed_protocols=("data", "http", "https"))


def html_to_pdf(html: str, base_url: str, fetcher: Any) -> bytes:
    """The PDF of an HTML document (print CSS applies)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
