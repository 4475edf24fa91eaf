"""The web app: scanner-proof votes, one-click unsubscribe, double opt-in sign-up, the archive.

`create_app(settings)` builds the ASGI app; `serve(settings, host=, port=)` runs it with uvicorn.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digest.config import Settings


def create_app(settings: Settings, **options):  # noqa: ANN003, ANN201
    from digest.web.app import create_app as build

    return build(settings, **options)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port`, before the server starts, so that a port in use or a
    host that is not this machine's is one clear error rather than uvicorn's start-up and
    shut-down log around it. Raises UsageError (exit 2) for a host that does not resolve or is
    not local, DigestError (exit 1) when the address cannot be had (in use, not permitted)."""
    import errno

    from digest.errors import DigestError, UsageError

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                                  flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"cannot listen on {where}: the host does not resolve ({_reason(exc)})",
                         hint="check --host or web.host") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"cannot listen on {where}: not an address of this machine",
                             hint="check --host or web.host") from None
        hint = "another server is listening there; stop it or choose --port" if exc.errno == errno.EADDRINUSE else None
        raise DigestError(f"cannot listen on {where}: {_reason(exc)}", hint=hint) from None
    sock.set_inheritable(True)
    return sock


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def serve(settings: Settings, *, host: str | None = None, port: int | None = None, log_level: str = "info",
          on_listening: Callable[[str], None] | None = None) -> None:
    """Run the app with uvicorn until stopped. Access logs are the app's own (no addresses, no tokens).

    The address is bound first (see `listen`); `on_listening` is told the URL it serves on.
    """
    import uvicorn

    app = create_app(settings)
    sock = listen(host or settings.web.host, settings.web.port if port is None else port)
    try:
        bound_host, bound_port = sock.getsockname()[:2]
        if on_listening is not None:
            on_listening(f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}")
        # log_config=None: uvicorn's own lines go through the logging set up by the caller (the
        # CLI's one format) instead of uvicorn's "INFO:     ..." handlers
        config = uvicorn.Config(app, access_log=False, proxy_headers=False, server_header=False, log_level=log_level,
                                log_config=None)
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled; stopping is the normal end
        pass
    finally:
        sock.close()


__all__ = ["create_app", "listen", "serve"]
