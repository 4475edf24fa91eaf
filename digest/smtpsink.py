"""A loopback SMTP server (aiosmtpd) for the demo, the tests and the benchmark.

`start_sink()` runs one on 127.0.0.1 on an ephemeral port in a background thread and returns
it; `sink.messages` holds what arrived (unless `keep=False`, which only counts, for
benchmarks). `python -m digest.smtpsink [--port N] [--discard] [--whole-data]` runs one in its
own process and prints `PORT <n>` once it listens, until stdin closes or it is terminated; a
line `count` on stdin is answered with `COUNT <n>`.

`whole_data=True` reads each message's DATA in 64 KB chunks instead of line by line: aiosmtpd
spends ~5 µs of Python per line, ~7 ms for a 100 KB issue, which makes the sink, not the
senders, the limit of a benchmark with several senders on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


@dataclass(frozen=True)
class Received:
    """One message as the server got it."""

    mail_from: str
    recipients: tuple[str, ...]
    data: bytes
    mail_options: tuple[str, ...] = ()


@dataclass
class Recorder:
    """An aiosmtpd handler that accepts everything and keeps (or only counts) it."""

    keep: bool = True
    messages: list[Received] = field(default_factory=list)
    count: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.record(envelope)
        return "250 2.0.0 Accepted"

    def record(self, envelope: Any) -> None:
        with self._arrived:
            if self.keep:
                self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos),
                                              bytes(envelope.original_content or envelope.content),
                                              tuple(envelope.mail_options)))
            self.count += 1
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float) -> bool:
        """Block until `count` messages have arrived (True) or `timeout` seconds passed (False)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.count >= count, timeout)


class WholeDataSMTP(SMTP):
    """aiosmtpd's server with the DATA phase read in chunks and unstuffed with one bytes.replace.

    For benchmarks: no line-length or size limit is enforced, and a client must wait for the
    reply after the final dot (no PIPELINING is offered, so a client does).
    """

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if self.envelope is None or not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        buffer = bytearray(b"\r\n")  # a CRLF before the first line: the end marker may close an empty message
        while True:
            chunk = await self._reader.read(65536)
            if not chunk:
                return  # the connection closed mid-message
            start = max(0, len(buffer) - 4)
            buffer += chunk
            end = buffer.find(b"\r\n.\r\n", start)
            if end >= 0:
                break
        content = bytes(buffer[:end + 2]).replace(b"\r\n.", b"\r\n")[2:]  # RFC 5321 4.5.2 dot-unstuffing
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)


class LoopbackController(Controller):
    """An aiosmtpd Controller that can listen on port 0 and learns the port it got."""

    def __init__(self, *args: Any, whole_data: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.whole_data = whole_data

    def factory(self) -> SMTP:
        return WholeDataSMTP(self.handler, **self.SMTP_kwargs) if self.whole_data else super().factory()

    def _create_server(self):  # noqa: ANN202
        return self._bind()

    async def _bind(self) -> asyncio.AbstractServer:
        server = await self.loop.create_server(self._factory_invoker, host=self.hostname, port=self.port,
                                               ssl=self.ssl_context)
        self.port = server.sockets[0].getsockname()[1]
        return server


class Sink:
    """A running loopback server; use as a context manager or call `stop()`."""

    def __init__(self, controller: LoopbackController, handler: Any) -> None:
        self.controller = controller
        self.handler = handler

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        return self.handler.wait_for(count, timeout)

    def url(self, scheme: str = "smtp", userinfo: str = "", query: str = "") -> str:
        who = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{who}127.0.0.1:{self.port}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sink(handler: Any = None, *, keep: bool = True, whole_data: bool = False, **smtp_options: Any) -> Sink:
    """Start a server on 127.0.0.1:<ephemeral>; `smtp_options` go to aiosmtpd's SMTP (tls_context,
    require_starttls, authenticator, decode_data, ...) or the Controller (ssl_context)."""
    handler = handler if handler is not None else Recorder(keep=keep)
    controller = LoopbackController(handler, hostname="127.0.0.1", port=0, whole_data=whole_data, **smtp_options)
    controller.start()
    return Sink(controller, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m digest.smtpsink", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--discard", action="store_true", help="count messages, keep none")
    parser.add_argument("--whole-data", action="store_true", help="read DATA in chunks, not line by line (benchmarks)")
    args = parser.parse_args(argv)
    handler = Recorder(keep=not args.discard)
    controller = LoopbackController(handler, hostname="127.0.0.1", port=args.port, whole_data=args.whole_data)
    controller.start()
    sys.stdout.write(f"PORT {controller.port}\n")
    sys.stdout.flush()
    try:
        for line in sys.stdin:
            if line.strip() == "count":
                sys.stdout.write(f"COUNT {handler.count}\n")
                sys.stdout.flush()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
