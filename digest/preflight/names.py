"""Which addresses, domains and hosts are placeholders rather than real ones.

Reserved for examples and tests by RFC 2606 and RFC 6761: the top-level domains `.example`,
`.invalid`, `.test` and `.localhost`, and `example.com`, `example.net`, `example.org` with
their subdomains. Mail to them never reaches anybody, so an address there is a *sample
reader*, and a sender there is a placeholder nobody can reply to.
"""

from __future__ import annotations

import ipaddress
from email.utils import parseaddr

RESERVED_TLDS = ("example", "invalid", "test", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def is_placeholder_domain(domain: str) -> bool:
    """True for a reserved example/test domain, or a name with no dot (`localhost`)."""
    name = domain.strip().rstrip(".").lower()
    if not name or "." not in name:
        return True
    if name.rsplit(".", 1)[1] in RESERVED_TLDS:
        return True
    return any(name == reserved or name.endswith("." + reserved) for reserved in RESERVED_DOMAINS)


def address_domain(value: str) -> str | None:
    """The domain of the address in `value` ("Name <a@b.org>" or "a@b.org"); None if there is none."""
    address = parseaddr(value)[1]
    local, at, domain = address.rpartition("@")
    return domain.lower() if at and local and domain else None


def is_public_host(host: str) -> bool:
    """True for a host name or address the internet can reach: not loopback, private or reserved."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return not is_placeholder_domain(host)


# SQL LIKE patterns matching the lowercased address key of a sample reader.
SAMPLE_PATTERNS = tuple([f"%.{tld}" for tld in RESERVED_TLDS] + [f"%@{tld}" for tld in RESERVED_TLDS]
                        + [f"%@{d}" for d in RESERVED_DOMAINS] + [f"%.{d}" for d in RESERVED_DOMAINS])
