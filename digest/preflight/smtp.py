"""Can the relay take mail: connect, EHLO, STARTTLS and AUTH as a send would, send nothing.

The session is the sender's own (`SmtpTransport.open`), so a pass here means `digest send`
gets past the same steps; it ends with QUIT before any MAIL command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.preflight.findings import OK, PROBLEM, WARNING, Finding, placeholder_level
from digest.preflight.names import is_public_host

if TYPE_CHECKING:
    from digest.config import Settings


def check_smtp_settings(settings: Settings) -> list[Finding]:
    """Offline: the URL is not the development default, and a password does not go in clear."""
    from digest.config import SmtpSettings
    from digest.errors import ConfigError
    from digest.transport import parse_smtp_url

    try:
        target = parse_smtp_url(settings.smtp.url)
    except ConfigError as exc:
        return [Finding("smtp", PROBLEM, exc.one_line(), "smtp.url")]
    if settings.smtp.url == SmtpSettings.url:
        return [Finding("smtp", placeholder_level(settings.sandbox),
                        f"smtp.url is the default, {target.display}, a local test server: set "
                        "DIGEST_SMTP_URL to your relay", "smtp.url")]
    if target.user and target.scheme == "smtp" and is_public_host(target.host):
        return [Finding("smtp", WARNING, f"{target.display}: the password goes in clear unless the server "
                        "offers STARTTLS; use smtp+starttls:// or smtps://", "smtp.url")]
    return [Finding("smtp", OK, f"{target.display}", "smtp.url")]


def check_smtp_session(settings: Settings) -> Finding:
    """Network: one real session with the relay, ended before MAIL FROM."""
    from digest.errors import DigestError
    from digest.transport import SmtpTransport, parse_smtp_url

    try:
        target = parse_smtp_url(settings.smtp.url, timeout=min(settings.smtp.timeout, settings.check.timeout),
                                helo=settings.smtp.helo)
    except DigestError as exc:
        return Finding("smtp session", PROBLEM, exc.one_line(), "smtp.url")
    transport = SmtpTransport(target)
    try:
        transport.open()
    except DigestError as exc:
        # A sandbox's loopback test server (the demo's) runs only while it is used.
        level = WARNING if settings.sandbox and not is_public_host(target.host) else PROBLEM
        return Finding("smtp session", level, exc.one_line(), "smtp.url")
    try:
        steps = ["connected", "EHLO"]
        steps.append("TLS" if target.scheme == "smtps" else "STARTTLS" if transport.secured else "no TLS")
        if target.user:
            steps.append(f"logged in as {target.user}")
    finally:
        transport.close()
    done = ", ".join(steps)
    if not transport.secured and is_public_host(target.host):
        return Finding("smtp session", PROBLEM, f"{target.display}: {done}: the session with a relay on the "
                       "internet is not encrypted; use smtp+starttls:// or smtps://", "smtp.url")
    return Finding("smtp session", OK, f"{target.display}: {done}; no message sent", "smtp.url")
