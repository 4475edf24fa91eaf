"""Where every link in every email points: `base_url` must reach real readers.

Votes, one-click unsubscribes and confirmations go to `base_url`. Mailed to real readers, a
loopback or private address is a dead link (and a dead unsubscribe link breaks the law), and
plain http shows their signed tokens to every network on the way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from digest.preflight.findings import OK, PROBLEM, WARNING, Finding
from digest.preflight.names import is_public_host

if TYPE_CHECKING:
    from digest.config import Settings


def check_base_url(settings: Settings, *, real_readers: int) -> Finding:
    """A problem only when real readers exist (they would get the links); a warning before."""
    url = settings.base_url
    parts = urlsplit(url)
    faults = []
    if parts.scheme != "https":
        faults.append("is not https")
    if not is_public_host(parts.hostname or ""):
        faults.append(f"points at {parts.hostname}, which readers cannot reach")
    if not faults:
        return Finding("base_url", OK, f"{url} (public, https)", "base_url")
    fault = " and ".join(faults)
    if real_readers:
        return Finding("base_url", PROBLEM, f"{url} {fault}, and {real_readers} real reader(s) would get its "
                       "links: set base_url to the public https address of `digest serve`", "base_url")
    return Finding("base_url", WARNING, f"{url} {fault}: fine while only sample readers get mail; "
                   "set the public https address before real readers do", "base_url")
