"""Who the mail says it is from: sender, reply-to, the editor's address and the postal address.

A reader can only reply to, trust and (in many countries, by law) identify a sender with a
real domain and a real postal address; the defaults that `digest init` writes are neither.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.preflight.findings import OK, PROBLEM, WARNING, Finding, placeholder_level
from digest.preflight.names import address_domain, is_placeholder_domain

if TYPE_CHECKING:
    from digest.config import Settings

PLACEHOLDER_WORDS = ("example street", "exampletown")


def _address(check: str, value: str, *, sandbox: bool, required: bool, role: str) -> Finding:
    if not value.strip():
        if required:
            return Finding(check, PROBLEM, f"not set: {role}", check)
        return Finding(check, OK, f"not set: {role}", check)
    domain = address_domain(value)
    if domain is None:
        return Finding(check, PROBLEM, f"{value!r} has no usable address", check)
    if is_placeholder_domain(domain):
        return Finding(check, placeholder_level(sandbox),
                       f"{value!r} is on {domain}, a placeholder domain nobody can reply to; "
                       "set it to an address on your own domain", check)
    return Finding(check, OK, value, check)


def check_identity(settings: Settings) -> list[Finding]:
    """sender, reply_to, editor and postal_address, one finding each."""
    from digest.config import Settings as Defaults

    sandbox = settings.sandbox
    findings = [
        _address("sender", settings.sender, sandbox=sandbox, required=True, role="the From address"),
        _address("reply_to", settings.reply_to, sandbox=sandbox, required=False,
                 role="replies go to the sender address"),
    ]
    editor = _address("editor", settings.editor, sandbox=True, required=False,
                      role="nobody is told when a scheduled send cannot happen")
    if not settings.editor.strip():
        editor = Finding("editor", WARNING, editor.message, "editor")
    findings.append(editor)
    postal = " ".join(settings.postal_address.split())
    default = " ".join(Defaults.postal_address.split())
    if not postal:
        findings.append(Finding("postal_address", PROBLEM, "not set: every footer must carry the sender's "
                                "postal address (CAN-SPAM, and the bulk-sender rules of large mailbox providers)",
                                "postal_address"))
    elif postal == default or any(word in postal.lower() for word in PLACEHOLDER_WORDS):
        findings.append(Finding("postal_address", placeholder_level(sandbox),
                                f"{postal!r} is the placeholder; set your real postal address", "postal_address"))
    else:
        findings.append(Finding("postal_address", OK, postal, "postal_address"))
    return findings
