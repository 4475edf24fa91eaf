"""Settings and feeds: `digest.toml`, `feeds.toml` and `DIGEST_*` overrides, validated in one place.

A newsletter folder works on embedded defaults; `digest.toml` only holds what differs. Every
setting can be overridden by an environment variable: top-level keys as `DIGEST_<KEY>`
(`DIGEST_BASE_URL`), section keys as `DIGEST_<SECTION>_<KEY>` (`DIGEST_DATABASE_URL`,
`DIGEST_SMTP_URL`). Secrets (`DIGEST_SECRET_KEY`, SMTP passwords inside `DIGEST_SMTP_URL`)
come from the environment or the owner-only key file, never from a file in the repository.

Validation is deliberately hand-rolled on dataclasses rather than pydantic: it keeps
`digest --help` fast and lets every error name the file, the key and the fault in one line.
Loading raises `ConfigError` (exit 2) and nothing else. Reading the file and checking each
value's kind is `digest.config_values`, which also loads the [database] section alone for the
commands that need nothing else (defining this module's dataclasses is what costs start-up).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from digest.config_values import (ENV_PREFIX, SETTINGS_FILE, build, check_database_url, check_http_url,
                                  database_url, from_environment, parse_duration, read_toml)
from digest.config_values import resolve_home  # noqa: F401 - part of this module's API
from digest.errors import ConfigError
from digest.limits import MAX_SEND_RATE, MAX_SEND_WORKERS

FEEDS_FILE = "feeds.toml"
KEY_FILE = ".digest-secret"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def parse_nameservers(value: str) -> list[tuple[str, int]]:
    """(address, port) pairs from "IP, IP:port, [IPv6]:port"; ValueError naming a bad entry."""
    servers: list[tuple[str, int]] = []
    for entry in filter(None, (part.strip() for part in value.split(","))):
        host, port = entry, 53
        match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", entry) or re.fullmatch(r"([^:]+):(\d+)", entry)
        if match:
            host, port = match.group(1), int(match.group(2) or 53)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address (optionally with :port)") from None
        if not 0 < port < 65536:
            raise ValueError(f"{entry!r}: the port must be between 1 and 65535")
        servers.append((host, port))
    return servers


# --- the settings object -------------------------------------------------------------------

def _setting(default: Any, kind: str = "str", **extra: Any) -> Any:
    return field(default=default, metadata={"kind": kind, **extra})


@dataclass(frozen=True)
class Reviewer:
    """One panel member: `key` is what reviews and REVIEWS.toml files name."""

    key: str
    name: str
    remit: str


DEFAULT_PANEL = (
    Reviewer("builder", "The Builder", "developer experience: is the primitive right, is it pleasant to build on"),
    Reviewer("skeptic", "The Skeptic", "competition and risk: who else does this, what breaks it"),
    Reviewer("buyer", "The Buyer", "business and pricing: who pays, from which budget, what locks them in"),
    Reviewer("futurist", "The Futurist", "where the trend goes: what must hold for this to matter in three years"),
)


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = _setting("", "str")  # empty: sqlite file digest.db in the newsletter folder
    pool_size: int = _setting(5, "int")  # connections per process on PostgreSQL
    max_overflow: int = _setting(5, "int")  # extra connections under bursts on PostgreSQL
    echo: bool = _setting(False, "bool")  # log every SQL statement (debugging only)
    # behind PgBouncer in transaction pooling mode: no server-side prepared statements
    pgbouncer: bool = _setting(False, "bool")


@dataclass(frozen=True)
class SmtpSettings:
    # smtp:// (plain or opportunistic STARTTLS), smtp+starttls:// (required), smtps:// (TLS);
    # user and password go in the URL: smtp://user:pass@host:587
    url: str = _setting("smtp://127.0.0.1:8025", "str")
    timeout: float = _setting(30.0, "duration")  # per SMTP command
    helo: str = _setting("", "str")  # name sent in EHLO; empty: the machine's FQDN


@dataclass(frozen=True)
class PollSettings:
    interval: float = _setting(3600.0, "duration")  # default poll interval of a feed
    concurrency: int = _setting(100, "int")  # feeds fetched at once (a host still sees at most per_host)
    per_host: int = _setting(4, "int")  # feeds fetched at once from one host
    timeout: float = _setting(15.0, "duration")  # whole-request timeout per feed
    max_bytes: int = _setting(5_000_000, "int")  # a larger feed body is refused
    user_agent: str = _setting("digest/0.1 (+https://github.com/digest-newsletter/digest)", "str")
    max_backoff: float = _setting(86400.0, "duration")  # longest wait after repeated failures
    workers: int = _setting(0, "int")  # parser processes; 0: one per CPU for large polls, else one
    parse_timeout: float = _setting(30.0, "duration")  # longest parse of one body; then its worker is killed
    parse_memory: int = _setting(512, "int", min=32)  # MB of address space a parser process may add
    enrich: bool = _setting(False, "bool")  # after each poll, read new tools' landing pages (digest/enrich.py)
    enrich_limit: int = _setting(50, "int")  # landing pages read per poll at most
    enrich_seconds: float = _setting(20.0, "duration")  # the enrichment step stops after this
    enrich_private: bool = _setting(False, "bool")  # also pages on loopback and private addresses


@dataclass(frozen=True)
class SendSettings:
    workers: int = _setting(1, "int", min=1, max=MAX_SEND_WORKERS)  # parallel SMTP connections per process
    rate: float = _setting(0.0, "float", max=MAX_SEND_RATE)  # messages per second per process; 0 means unlimited
    retries: int = _setting(5, "int")  # transient-failure retries per delivery
    retry_delay: float = _setting(30.0, "duration")  # first retry after ~this; doubles each time, with jitter
    bounce_after: int = _setting(3, "int")  # permanent failures before a subscriber is bounced
    batch: int = _setting(200, "int")  # deliveries claimed at once
    # failures in a row, for different readers, with nothing accepted between, that mean the relay
    # (not the readers) is failing: the run stops and every delivery stays queued, uncharged
    breaker: int = _setting(10, "int", min=1)
    # a claim its sender stopped renewing (it died) returns to the queue after this; renewed every quarter
    lease: float = _setting(60.0, "duration")
    dkim_domain: str = _setting("", "str")  # sign with DKIM when domain, selector and key are set
    dkim_selector: str = _setting("", "str")
    dkim_key_file: str = _setting("", "path")


@dataclass(frozen=True)
class ScheduleSettings:
    timezone: str = _setting("", "str")  # IANA zone for the cron expressions; empty: this machine's zone
    poll: str = _setting("0 * * * *", "str")  # cron: hourly
    send: str = _setting("0 9 * * tue", "str")  # cron: Tuesday 09:00
    grace: float = _setting(21600.0, "duration")  # a missed send still goes out this late
    bounces: str = _setting("*/5 * * * *", "str")  # cron: read the bounce mailbox, when one is set


@dataclass(frozen=True)
class WebSettings:
    host: str = _setting("127.0.0.1", "str")
    port: int = _setting(8000, "int", min=1, max=65535)
    signup_rate: int = _setting(5, "int")  # sign-ups per client address per hour
    scanner_window: float = _setting(600.0, "duration")  # how long a canary hit marks a scanner
    # reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For is believed;
    # empty: the socket peer is the client
    trusted_proxies: str = _setting("", "str")
    # a larger request body is refused with 413 while it streams (forms here are a few hundred bytes)
    max_body_bytes: int = _setting(65536, "int", min=1024, max=2**30)


@dataclass(frozen=True)
class LogoSettings:
    """The masthead's optional image. The name is always shown as text beside it, and width and
    height are required, so an email with images blocked still reads and its layout never jumps."""

    url: str = _setting("", "str")  # https only; empty: the masthead is the name as text
    width: int = _setting(0, "int", max=600)  # pixels as shown (the email is 600 px wide)
    height: int = _setting(0, "int", max=120)  # capped so the verdict stays above the fold
    alt: str = _setting("", "str")  # empty: the newsletter's name


@dataclass(frozen=True)
class BounceSettings:
    """Where bounces and complaints come back, and what they do to a reader (docs/operating.md)."""

    # envelope sender of every issue, as VERP: "bounces@example.org" makes each message's
    # return path bounces+<signed delivery tag>@example.org; empty: the From address
    return_path: str = _setting("", "str")
    maildir: str = _setting("", "path")  # a local Maildir the relay delivers bounces to
    imap_host: str = _setting("", "str")  # or an IMAP mailbox (not both)
    imap_port: int = _setting(0, "int", max=65535)  # 0: 993 for tls, 143 otherwise
    imap_security: str = _setting("tls", "str")  # tls | starttls | plain (plain: loopback only)
    imap_user: str = _setting("", "str")
    imap_password: str = _setting("", "secret")  # DIGEST_BOUNCES_IMAP_PASSWORD only
    imap_folder: str = _setting("INBOX", "str")
    imap_ca_file: str = _setting("", "path")  # a CA to trust besides the system's (a private server)
    after: str = _setting("seen", "str")  # a processed bounce is marked seen | moved | deleted
    move_to: str = _setting("digest-processed", "str")  # the folder `after = "move"` moves to
    batch: int = _setting(500, "int", min=1)  # messages read per run at most
    soft_limit: int = _setting(3, "int", min=1)  # soft bounces within soft_window that bounce a reader
    soft_window: float = _setting(30 * 86400.0, "duration")
    # ESP webhooks: SES through SNS (signature always verified) and Mailgun (HMAC signing key)
    sns_topics: str = _setting("", "str")  # TopicArns accepted, comma-separated; empty: SNS refused
    # where SNS signing certificates may be fetched from; empty: https://sns.<region>.amazonaws.com/ only
    sns_cert_url_prefix: str = _setting("", "str")
    sns_cert_file: str = _setting("", "path")  # a PEM certificate to verify with instead of fetching
    mailgun_signing_key: str = _setting("", "secret")  # DIGEST_BOUNCES_MAILGUN_SIGNING_KEY only

    @property
    def mailbox(self) -> str:
        """"maildir", "imap" or "" (no bounce mailbox configured)."""
        return "maildir" if self.maildir else "imap" if self.imap_host else ""


@dataclass(frozen=True)
class CheckSettings:
    """For `digest check`: where its DNS questions go and how long its network checks wait."""

    # DNS servers to ask (comma-separated "IP" or "IP:port", "[IPv6]:port"); empty: the system's resolver
    nameservers: str = _setting("", "str")
    timeout: float = _setting(10.0, "duration")  # per DNS question and per SMTP command


_SECTIONS = {
    "database": DatabaseSettings,
    "smtp": SmtpSettings,
    "poll": PollSettings,
    "send": SendSettings,
    "schedule": ScheduleSettings,
    "web": WebSettings,
    "logo": LogoSettings,
    "bounces": BounceSettings,
    "check": CheckSettings,
}


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, built once by `load_settings` and passed in."""

    home: Path = field(default=Path("."), metadata={"kind": "internal"})
    name: str = _setting("Weekly AI Tool Verdicts")
    tagline: str = _setting("Two new AI tools, one panel, one verdict. Every week.")
    base_url: str = _setting("http://127.0.0.1:8000", "url")  # public URL of the web app
    sender: str = _setting("Weekly AI Tool Verdicts <verdicts@digest.invalid>")  # From header
    reply_to: str = _setting("")
    editor: str = _setting("")  # address told when a scheduled send cannot happen
    postal_address: str = _setting("Digest Newsletter, 1 Example Street, 00000 Exampletown", multiline=True)
    language: str = _setting("en")
    # a demo or test folder that only ever mails sample readers (example.com, .invalid, ...) over
    # loopback: `digest check` then reports placeholders as warnings, not problems; never for real readers
    sandbox: bool = _setting(False, "bool")
    secret_key: str = _setting("", "secret")  # from DIGEST_SECRET_KEY or the key file only
    secret_key_file: str = _setting(KEY_FILE, "path")
    templates: str = _setting("templates", "path")  # this folder's template overrides
    outbox: str = _setting("outbox", "path")
    database: DatabaseSettings = field(default_factory=DatabaseSettings, metadata={"kind": "section"})
    smtp: SmtpSettings = field(default_factory=SmtpSettings, metadata={"kind": "section"})
    poll: PollSettings = field(default_factory=PollSettings, metadata={"kind": "section"})
    send: SendSettings = field(default_factory=SendSettings, metadata={"kind": "section"})
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings, metadata={"kind": "section"})
    web: WebSettings = field(default_factory=WebSettings, metadata={"kind": "section"})
    logo: LogoSettings = field(default_factory=LogoSettings, metadata={"kind": "section"})
    bounces: BounceSettings = field(default_factory=BounceSettings, metadata={"kind": "section"})
    check: CheckSettings = field(default_factory=CheckSettings, metadata={"kind": "section"})
    panel: tuple[Reviewer, ...] = field(default=DEFAULT_PANEL, metadata={"kind": "panel"})

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL; a relative SQLite path is taken from the newsletter folder."""
        return database_url(self.home, self.database.url)

    @property
    def templates_dir(self) -> Path:
        return self.home / self.templates

    @property
    def outbox_dir(self) -> Path:
        return self.home / self.outbox

    @property
    def key_file(self) -> Path:
        return self.home / self.secret_key_file

    def reviewer(self, key: str) -> Reviewer | None:
        return next((r for r in self.panel if r.key == key), None)


# --- conversion ---------------------------------------------------------------------------

def _build(cls: type, table: dict[str, Any], *, path: str, prefix: str) -> dict[str, Any]:
    """The values of a TOML table for the dataclass `cls`; unknown keys are errors."""
    fields = {f.name: f.metadata for f in dataclasses.fields(cls) if f.metadata.get("kind") not in ("internal", "section", "panel")}
    return build(fields, table, path=path, prefix=prefix)


def _panel(raw: Any, *, path: str) -> tuple[Reviewer, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("expected at least one [[panel]] table", path=path, key="panel")
    panel: list[Reviewer] = []
    for index, entry in enumerate(raw):
        where = f"panel[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError("expected a table with key, name and remit", path=path, key=where)
        unknown = set(entry) - {"key", "name", "remit"}
        if unknown:
            raise ConfigError("unknown key", path=path, key=f"{where}.{sorted(unknown)[0]}",
                              hint="a reviewer has key, name and remit")
        for name in ("key", "name", "remit"):
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise ConfigError("missing or empty", path=path, key=f"{where}.{name}")
        if not _SLUG.match(entry["key"]):
            raise ConfigError(f"{entry['key']!r} must be lowercase letters, digits, - or _",
                              path=path, key=f"{where}.key")
        if any(r.key == entry["key"] for r in panel):
            raise ConfigError(f"duplicate reviewer key {entry['key']!r}", path=path, key=f"{where}.key")
        panel.append(Reviewer(entry["key"], entry["name"].strip(), entry["remit"].strip()))
    return tuple(panel)


def _env_overrides(environ: dict[str, str]) -> dict[str, tuple[str, str, Any]]:
    """Map of (section or "", key) written as "section.key" -> (env name, value, field metadata)."""
    found: dict[str, tuple[str, str, str]] = {}
    for f in dataclasses.fields(Settings):
        kind = f.metadata.get("kind")
        if kind in ("internal", "panel"):
            continue
        if kind == "section":
            for sub in dataclasses.fields(_SECTIONS[f.name]):
                env = f"{ENV_PREFIX}{f.name}_{sub.name}".upper()
                if env in environ:
                    found[f"{f.name}.{sub.name}"] = (env, environ[env], sub.metadata)
        else:
            env = f"{ENV_PREFIX}{f.name}".upper()
            if env in environ:
                found[f.name] = (env, environ[env], f.metadata)
    return found


def load_settings(home: Path, environ: dict[str, str] | None = None, *,
                  require_home: bool = True) -> Settings:
    """Settings for the newsletter folder `home`: embedded defaults, then digest.toml, then env.

    Raises ConfigError naming the file (or variable), the key and the fault.
    """
    environ = dict(os.environ if environ is None else environ)
    if require_home and not home.is_dir():
        raise ConfigError("newsletter folder not found", path=str(home),
                          hint="create it with `digest --home DIR init`")
    settings_path = home / SETTINGS_FILE
    raw: dict[str, Any] = read_toml(settings_path, SETTINGS_FILE) if settings_path.exists() else {}

    top: dict[str, Any] = {}
    sections: dict[str, dict[str, Any]] = {}
    panel = DEFAULT_PANEL
    for key, value in raw.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError("expected a table", path=SETTINGS_FILE, key=key)
            sections[key] = _build(_SECTIONS[key], value, path=SETTINGS_FILE, prefix=f"{key}.")
        elif key == "panel":
            panel = _panel(value, path=SETTINGS_FILE)
        else:
            top.update(_build(Settings, {key: value}, path=SETTINGS_FILE, prefix=""))

    for dotted, (env, value, meta) in _env_overrides(environ).items():
        converted = from_environment(env, value, meta)
        if "." in dotted:
            section, key = dotted.split(".", 1)
            sections.setdefault(section, {})[key] = converted
        else:
            top[dotted] = converted

    built = {name: cls(**sections.get(name, {})) for name, cls in _SECTIONS.items()}
    settings = Settings(home=home, panel=panel, **top, **built)
    _check_cross_field(settings)
    if not settings.secret_key and settings.key_file.is_file():
        try:
            key = settings.key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the key file: {exc}", path=settings.secret_key_file) from None
        settings = dataclasses.replace(settings, secret_key=key)
    return settings


def require_secret_key(settings: Settings) -> str:
    """The key that signs links, votes and forms. Every place that needs it (sending, proofs,
    bounces, the rendered sample message, the web app) asks here, so a folder without one gets
    the same ConfigError (exit 2) and the same fix whichever command found it out."""
    if not settings.secret_key:
        raise ConfigError("no secret key is configured", key="secret_key",
                          hint="run `digest init` (it creates .digest-secret) or set DIGEST_SECRET_KEY")
    return settings.secret_key


def _check_cross_field(settings: Settings) -> None:
    if settings.poll.concurrency < 1:
        raise ConfigError("must be at least 1", path=SETTINGS_FILE, key="poll.concurrency")
    if settings.poll.per_host < 1:
        raise ConfigError("must be at least 1", path=SETTINGS_FILE, key="poll.per_host")
    if settings.send.workers < 1:
        raise ConfigError("must be at least 1", path=SETTINGS_FILE, key="send.workers")
    if settings.send.lease < 1:
        raise ConfigError("must be at least 1s", path=SETTINGS_FILE, key="send.lease",
                          hint="a claim is renewed every quarter of the lease; a minute suits most runs")
    for entry in filter(None, (p.strip() for p in settings.web.trusted_proxies.split(","))):
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(f"{entry!r} is not an IP address or network", path=SETTINGS_FILE,
                              key="web.trusted_proxies") from None
    try:
        parse_nameservers(settings.check.nameservers)
    except ValueError as exc:
        raise ConfigError(str(exc), path=SETTINGS_FILE, key="check.nameservers") from None
    check_database_url(settings.database_url)
    _check_bounces(settings.bounces)
    _check_logo(settings.logo)
    scheme = urlsplit(settings.smtp.url).scheme
    if scheme not in ("smtp", "smtp+starttls", "smtps"):
        raise ConfigError(f"scheme {scheme!r} is not one of smtp, smtp+starttls, smtps",
                          path=SETTINGS_FILE, key="smtp.url")


def _check_logo(logo: LogoSettings) -> None:
    if not logo.url:
        return
    parts = urlsplit(logo.url)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() or c in "\"'<>" for c in logo.url):
        raise ConfigError(f"{logo.url!r} is not an https URL", path=SETTINGS_FILE, key="logo.url",
                          hint="readers' mail apps fetch the logo over https, or leave it empty for the name alone")
    for key in ("width", "height"):
        if getattr(logo, key) < 16:
            raise ConfigError("must be set, 16 pixels or more, when logo.url is", path=SETTINGS_FILE, key=f"logo.{key}",
                              hint="the image's size as shown, so blocked images keep the layout")


def _check_bounces(bounces: BounceSettings) -> None:
    key = "bounces."
    if bounces.maildir and bounces.imap_host:
        raise ConfigError("set maildir or imap_host, not both", path=SETTINGS_FILE, key=key + "maildir")
    if bounces.imap_security not in ("tls", "starttls", "plain"):
        raise ConfigError(f"{bounces.imap_security!r} is not tls, starttls or plain", path=SETTINGS_FILE,
                          key=key + "imap_security")
    if bounces.after not in ("seen", "move", "delete"):
        raise ConfigError(f"{bounces.after!r} is not seen, move or delete", path=SETTINGS_FILE, key=key + "after")
    address = bounces.return_path
    if address and (address.count("@") != 1 or "+" in address or " " in address or "<" in address
                    or not all(address.split("@"))):
        raise ConfigError(f"{address!r} is not a plain address like bounces@example.org", path=SETTINGS_FILE,
                          key=key + "return_path", hint="digest adds +<tag> to its local part itself")
    if bounces.sns_cert_url_prefix:
        try:
            check_http_url(bounces.sns_cert_url_prefix)
        except ValueError as exc:
            raise ConfigError(str(exc), path=SETTINGS_FILE, key=key + "sns_cert_url_prefix") from None


# --- feeds.toml ---------------------------------------------------------------------------

FEED_KINDS = ("mixed", "launches", "ai-launches")  # the same as digest.launches.KINDS


@dataclass(frozen=True)
class FeedConfig:
    """One `[[feeds]]` entry: where to poll and what to call it."""

    name: str
    url: str
    category: str | None = None
    interval: float | None = None  # seconds; None means the settings' poll.interval
    vendor: str | None = None  # who makes the tools of this feed (a vendor's own blog)
    kind: str = "mixed"  # mixed | launches | ai-launches: what its entries are (docs/launches.md)


# What urlsplit silently drops or httpx would send on (CR and LF split a request line in two):
# C0 and C1 controls, DEL, spaces and the Unicode line and paragraph separators.
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")


def _describe_char(char: str) -> str:
    names = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\t": "a tab", " ": "a space"}
    return names.get(char, f"the control character U+{ord(char):04X}")


def load_feeds(home: Path, *, path: Path | None = None) -> list[FeedConfig]:
    """The feeds of `feeds.toml`, validated; raises ConfigError naming entry and key."""
    feeds_path = path or home / FEEDS_FILE
    label = FEEDS_FILE if path is None else str(path)
    raw = read_toml(feeds_path, label)
    unknown_top = set(raw) - {"feeds"}
    if unknown_top:
        raise ConfigError("unknown key", path=label, key=sorted(unknown_top)[0],
                          hint="feeds.toml holds [[feeds]] tables only")
    entries = raw.get("feeds", [])
    if not isinstance(entries, list):
        raise ConfigError("expected [[feeds]] tables", path=label, key="feeds")
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        feeds.append(_feed_config(entry, index=index, label=label, seen=seen))
    return feeds


def _feed_config(entry: Any, *, index: int, label: str, seen: dict[str, int]) -> FeedConfig:
    """The feeds[index] table, validated (its name not among `seen`, where it is then noted);
    ConfigError naming the entry and the key otherwise."""
    where = f"feeds[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError("expected a table", path=label, key=where)
    unknown = set(entry) - {"name", "url", "category", "interval", "vendor", "kind"}
    if unknown:
        raise ConfigError("unknown key", path=label, key=f"{where}.{sorted(unknown)[0]}",
                          hint="a feed has name, url, category, interval, vendor and kind")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("missing or empty", path=label, key=f"{where}.name")
    if not _SLUG.match(name):
        raise ConfigError(f"{name!r} must be lowercase letters, digits, - or _", path=label,
                          key=f"{where}.name")
    if name in seen:
        raise ConfigError(f"duplicate feed name {name!r} (also feeds[{seen[name]}])", path=label,
                          key=f"{where}.name")
    seen[name] = index
    url = _feed_url(entry.get("url"), name=name, where=where, label=label)
    category = entry.get("category")
    if category is not None and (not isinstance(category, str) or not category.strip()):
        raise ConfigError("must be a non-empty string", path=label, key=f"{where}.category")
    interval = None
    if "interval" in entry:
        try:
            interval = parse_duration(entry["interval"])
        except ValueError as exc:
            raise ConfigError(str(exc), path=label, key=f"{where}.interval") from None
    vendor = entry.get("vendor")
    if vendor is not None and (not isinstance(vendor, str) or not vendor.strip()):
        raise ConfigError("must be a non-empty string", path=label, key=f"{where}.vendor")
    kind = entry.get("kind", "mixed")
    if kind not in FEED_KINDS:
        raise ConfigError(f"{kind!r} is not a feed kind (one of {', '.join(FEED_KINDS)})", path=label,
                          key=f"{where}.kind", hint="see docs/launches.md")
    return FeedConfig(name=name, url=url, category=category.strip() if category else None,
                      interval=interval, vendor=vendor.strip() if vendor else None, kind=kind)


def _feed_url(url: Any, *, name: str, where: str, label: str) -> str:
    if not isinstance(url, str):
        raise ConfigError("missing or not a string", path=label, key=f"{where}.url")
    try:
        check_http_url(url)
    except ValueError as exc:
        raise ConfigError(str(exc), path=label, key=f"{where}.url") from None
    bad = _NOT_IN_URL.search(url)
    if bad:
        raise ConfigError(f"feed {name!r}: the URL contains {_describe_char(bad.group())} at position "
                          f"{bad.start() + 1}; a URL is one line without spaces", path=label, key=f"{where}.url")
    return url
