"""`flask serve`: the one way the web app is served (make run, the Dockerfile, docker compose).

The server is Granian (HTTP in Rust, on tokio) with the WSGI interface. Connections are read
by the Rust runtime, so an idle connection, or one that sends its headers a byte at a time,
costs a socket and a few KB, never a Python thread: the threads only run requests whose
headers are complete. gunicorn's gthread workers (what ran before) gave each such connection
one of their eight threads, and 64 slow clients left /healthz unanswered.

What Granian bounds, and what it does not (see docs/security/serve.md):
- headers must be complete within GEOAPP_SERVE_HEADER_TIMEOUT_S, else the connection is closed;
- at most `threads` requests per worker run the app at once, the others wait in Rust;
- at most GEOAPP_SERVE_MAX_CONNECTIONS connections per worker are open at once; a connection
  that is kept alive between requests is closed after the header timeout, but one that never
  sends a byte is not (the proxy's client_header_timeout handles those);
- bodies are limited by the app (MAX_CONTENT_LENGTH, GEOAPP_UPLOAD_MAX_MB, answered 413), but
  Granian streams a body to the app as it arrives and has no timeout for a slow one: a request
  that trickles its body holds a thread. In front of untrusted clients run a buffering proxy
  (docker compose runs nginx, deploy/nginx/), which reads bodies whole, with timeouts, first.
"""

from __future__ import annotations

import ipaddress
import resource
from typing import Any

import click
from flask import current_app

# Imported by every worker of the server; a factory so each worker builds its own app.
APP_FACTORY = "geoapp:create_app"
# Seconds a worker gets to finish its requests on shutdown before it is killed.
WORKER_KILL_TIMEOUT_S = 30
# Connections waiting for accept() in the kernel, beyond those already open.
LISTEN_BACKLOG = 2048


def raise_open_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit; return the new soft limit.

    Every open connection is a file descriptor, and the usual soft limit of 1024 would let a
    few hundred idle clients stop the server from accepting; the workers inherit the limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # a sandbox may refuse; serving with the lower limit is still correct
    return soft


def exposed_without_proxy(host: str, trusted_proxies: int) -> bool:
    """Whether clients other than this machine reach the server with no proxy declared in front."""
    if trusted_proxies > 0 or host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name: assume it is reachable from elsewhere


def server_options(host: str, port: int, workers: int, threads: int, max_connections: int,
                   header_timeout_s: float, access_log: bool) -> dict[str, Any]:
    """Granian's settings for serving the app (keyword arguments of granian.Granian)."""
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    return {
        "target": APP_FACTORY,
        "factory": True,
        "address": host,
        "port": port,
        "interface": Interfaces.WSGI,
        "workers": workers,
        "blocking_threads": threads,
        # Granian's backpressure counts connections, not requests: this many are served at once
        # per worker (idle ones included), the next ones wait in the listen backlog.
        "backpressure": max_connections,
        "backlog": LISTEN_BACKLOG,
        "http1_settings": HTTP1Settings(header_read_timeout=int(header_timeout_s * 1000)),
        "websockets": False,
        "log_access": access_log,
        "respawn_failed_workers": True,
        "workers_kill_timeout": WORKER_KILL_TIMEOUT_S,
    }


@click.command("serve")
@click.option("--host", help="Address to listen on [default: GEOAPP_SERVE_HOST, 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535),
              help="Port to listen on [default: GEOAPP_SERVE_PORT, 5000].")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Server processes [default: GEOAPP_SERVE_WORKERS, 2].")
@click.option("--threads", type=click.IntRange(1, 256),
              help="Requests each process runs at once [default: GEOAPP_SERVE_THREADS, 8].")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log every request on stdout.")
def serve(host: str | None, port: int | None, workers: int | None, threads: int | None,
          access_log: bool) -> None:
    """Serve the web app with Granian until interrupted.

    Slow or idle clients hold no Python thread; see docs/security/serve.md for the limits.
    """
    from granian import Granian

    config = current_app.config
    options = server_options(
        host=host or config["GEOAPP_SERVE_HOST"],
        port=config["GEOAPP_SERVE_PORT"] if port is None else port,
        workers=workers or config["GEOAPP_SERVE_WORKERS"],
        threads=threads or config["GEOAPP_SERVE_THREADS"],
        max_connections=config["GEOAPP_SERVE_MAX_CONNECTIONS"],
        header_timeout_s=config["GEOAPP_SERVE_HEADER_TIMEOUT_S"],
        access_log=access_log,
    )
    if exposed_without_proxy(options["address"], config["GEOAPP_TRUSTED_PROXIES"]):
        click.echo(
            f"warning: serving on {options['address']} with no proxy in front: a client that "
            "sends a request body slowly holds a thread; put nginx in front "
            "(deploy/nginx/) and set GEOAPP_TRUSTED_PROXIES (docs/security/serve.md)", err=True)
    raise_open_file_limit()
    Granian(**options).serve()
