"""Whether receivers will trust mail from the sender's domain: SPF, DMARC and DKIM in DNS.

Large mailbox providers ask bulk senders for all three. Each record is looked up with
dnspython (the resolver named by `[check] nameservers`, else the system's); a question DNS does
not answer (timeout, no server) is a warning, since the check could not be made, while an
answer that shows a missing or wrong record is a problem. The DKIM check signs a test message
with the configured private key and verifies it against the published record with dkimpy,
so "matches" means a receiver would verify the signatures digest makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.preflight.findings import OK, PROBLEM, WARNING, Finding
from digest.preflight.names import address_domain, is_placeholder_domain

if TYPE_CHECKING:
    import dns.resolver

    from digest.config import Settings


class Unanswered(Exception):
    """DNS gave no answer at all (timeout, no reachable server): the record is unknown."""


class Lookup:
    """TXT lookups through one resolver; None for a name that does not exist."""

    def __init__(self, settings: Settings) -> None:
        self.resolver = make_resolver(settings)

    def txt(self, name: str) -> list[str] | None:
        import dns.exception
        import dns.resolver

        try:
            answer = self.resolver.resolve(name, "TXT")
        except dns.resolver.NXDOMAIN:
            return None
        except dns.resolver.NoAnswer:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise Unanswered(f"DNS did not answer for {name}: {' '.join(str(exc).split())}") from None
        except dns.exception.DNSException as exc:
            raise Unanswered(f"DNS lookup of {name} failed: {' '.join(str(exc).split())}") from None
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def make_resolver(settings: Settings) -> dns.resolver.Resolver:
    """The resolver `[check]` names, with its timeout; Unanswered when the system has none."""
    import dns.nameserver
    import dns.resolver

    from digest.config import parse_nameservers

    servers = parse_nameservers(settings.check.nameservers)
    try:
        resolver = dns.resolver.Resolver(configure=not servers)
    except dns.resolver.NoResolverConfiguration:
        raise Unanswered("this machine has no DNS resolver configured; set [check] nameservers") from None
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers]
    resolver.timeout = resolver.lifetime = settings.check.timeout
    return resolver


def _tagged(records: list[str], prefix: str) -> list[str]:
    wanted = prefix.lower()
    return [r for r in records if r.strip().lower() == wanted or r.strip().lower().startswith(wanted + " ")
            or r.strip().lower().startswith(wanted + ";")]


def check_spf(lookup: Lookup, domain: str) -> Finding:
    records = lookup.txt(domain)
    if records is None:
        return Finding("spf", PROBLEM, f"{domain} does not exist in DNS: mail from it is rejected", "sender")
    spf = _tagged(records, "v=spf1")
    if not spf:
        return Finding("spf", PROBLEM, f"{domain} has no SPF record (TXT \"v=spf1 ...\"): receivers cannot tell "
                       "which servers may send for it; see docs/operating.md#dns-records", "sender")
    if len(spf) > 1:
        return Finding("spf", PROBLEM, f"{domain} has {len(spf)} SPF records; receivers treat that as an "
                       "error: merge them into one", "sender")
    if spf[0].split()[-1].lower() in ("+all", "all"):
        return Finding("spf", PROBLEM, f"{domain}: {spf[0]!r} lets any server send as you; end it with ~all or -all",
                       "sender")
    return Finding("spf", OK, f"{domain}: {spf[0]}", "sender")


def check_dmarc(lookup: Lookup, domain: str) -> Finding:
    """_dmarc.<domain>, else the parent domains' record (the organisational domain's policy)."""
    labels = domain.split(".")
    for start in range(0, max(len(labels) - 1, 1)):
        name = ".".join(labels[start:])
        dmarc = _tagged(lookup.txt(f"_dmarc.{name}") or [], "v=DMARC1")
        if len(dmarc) > 1:
            return Finding("dmarc", PROBLEM, f"_dmarc.{name} has {len(dmarc)} DMARC records; keep one", "sender")
        if dmarc:
            inherited = f" (from {name})" if name != domain else ""
            return Finding("dmarc", OK, f"_dmarc.{name}: {dmarc[0]}{inherited}", "sender")
    return Finding("dmarc", PROBLEM, f"no DMARC record at _dmarc.{domain}: large mailbox providers ask bulk "
                   "senders for one (start with \"v=DMARC1; p=none\"); see docs/operating.md#dns-records", "sender")


def check_dkim(lookup: Lookup, settings: Settings, sender_domain: str) -> list[Finding]:
    from digest.composer import make_dkim
    from digest.errors import DigestError

    send = settings.send
    try:
        signer = make_dkim(settings)
    except DigestError as exc:
        return [Finding("dkim", PROBLEM, exc.one_line(), "send.dkim_key_file")]
    if signer is None:
        return [Finding("dkim", WARNING, "digest does not sign (send.dkim_domain, dkim_selector, dkim_key_file "
                        "unset): make sure your relay signs with DKIM for " + sender_domain, "send.dkim_domain")]
    findings = []
    domain = send.dkim_domain.lower().rstrip(".")
    if not (sender_domain == domain or sender_domain.endswith("." + domain) or domain.endswith("." + sender_domain)):
        findings.append(Finding("dkim", WARNING, f"dkim_domain {domain} is not the From domain {sender_domain}: "
                                "DMARC will not align on DKIM", "send.dkim_domain"))
    name = f"{send.dkim_selector}._domainkey.{domain}"
    records = lookup.txt(name)
    if not records:
        findings.append(Finding("dkim", PROBLEM, f"no DKIM record at {name}: publish the public key of "
                                f"{send.dkim_key_file} (see docs/operating.md#dkim)", "send.dkim_selector"))
        return findings
    if _signature_verifies(signer, records[0]):
        findings.append(Finding("dkim", OK, f"{name}: the published key matches {send.dkim_key_file}",
                                "send.dkim_key_file"))
    else:
        findings.append(Finding("dkim", PROBLEM, f"{name}: the published key does not verify signatures made with "
                                f"{send.dkim_key_file}: publish the key pair's public half", "send.dkim_key_file"))
    return findings


def _signature_verifies(signer, record: str) -> bool:  # noqa: ANN001
    """Sign a small message as a send would and verify it against `record` alone."""
    import dkim

    from digest.errors import DigestError

    message = (b"From: check@" + signer.domain + b"\r\nTo: check@" + signer.domain + b"\r\n"
               b"Subject: digest check\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
               b"Message-ID: <check@digest>\r\n\r\nA test of the DKIM key; never sent.\r\n")
    try:
        signed = signer.sign(message)
    except DigestError:
        return False
    try:
        return bool(dkim.verify(signed, dnsfunc=lambda _name, timeout=5: record.encode("utf-8")))
    except Exception:  # noqa: BLE001 - dkimpy raises on a malformed record: it does not verify
        return False


def check_mail_auth(settings: Settings) -> list[Finding]:
    """SPF, DMARC and DKIM findings for the sender's domain (skipped for a placeholder domain)."""
    domain = address_domain(settings.sender)
    if domain is None or is_placeholder_domain(domain):
        return [Finding("dns", WARNING, f"SPF, DMARC and DKIM not checked: the sender's domain "
                        f"({domain or 'none'}) is a placeholder", "sender")]
    findings: list[Finding] = []
    try:
        lookup = Lookup(settings)
    except Unanswered as exc:
        return [Finding("dns", WARNING, f"SPF, DMARC and DKIM not checked: {exc}", "check.nameservers")]
    # SPF is checked against the envelope sender: the bounce address when [bounces] sets one
    envelope = address_domain(settings.bounces.return_path) or domain
    for name, check in (("spf", lambda: [check_spf(lookup, envelope)]), ("dmarc", lambda: [check_dmarc(lookup, domain)]),
                        ("dkim", lambda: check_dkim(lookup, settings, domain))):
        try:
            findings.extend(check())
        except Unanswered as exc:
            findings.append(Finding(name, WARNING, f"not checked: {exc}", "check.nameservers"))
    return findings
