"""A tiny authoritative DNS server on 127.0.0.1 for the preflight tests (dnspython's message API).

It answers TXT questions from a table; a name in the table (or under a zone it serves) with no
TXT record gets an empty NOERROR answer, any other name NXDOMAIN. `silent` makes it drop every
question, as an unreachable resolver would. Point `[check] nameservers` at `server.address`.
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


def _quoted(value: str) -> str:
    """A TXT rdata in zone-file text, split into 255-byte strings as a zone file would."""
    data = value.encode("utf-8")
    chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return " ".join('"' + c.decode("utf-8").replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


class DnsServer:
    def __init__(self, zones: tuple[str, ...] = ()) -> None:
        self.txt: dict[str, list[str]] = {}
        self.zones = tuple(z.lower().rstrip(".") for z in zones)
        self.silent = False
        self.questions: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add_txt(self, name: str, *values: str) -> None:
        self.txt.setdefault(name.lower().rstrip("."), []).extend(values)

    def _exists(self, name: str) -> bool:
        return name in self.txt or any(name == z or name.endswith("." + z) for z in self.zones)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().lower().rstrip(".")
            self.questions.append(name)
            if self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if question.rdtype == dns.rdatatype.TXT and self.txt.get(name):
                response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT",
                                                           *(_quoted(v) for v in self.txt[name])))
            elif not self._exists(name):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
