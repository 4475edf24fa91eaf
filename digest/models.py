"""The database tables, named after the vocabulary of the design.

Every schema change goes through an Alembic migration in `digest/migrations/versions/`; a test
compares these models with the migrated schema so the two never drift. Times are aware UTC
(`utcnow()`); SQLModel stores them as UTC on both SQLite and PostgreSQL and hands them back aware.

Uniqueness that matters for correctness lives in the schema, not in check-then-insert code:
a tool's identity keys, one delivery per (issue, subscriber), one vote per (comparison,
subscriber), one review per (comparison, tool, reviewer).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, Index, String, Text, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from digest.prices import EntryPrice  # noqa: F401 - the tables' price values; defined apart for the ORM-free paths


def utcnow() -> datetime:
    """Now, as aware UTC: what every datetime column stores."""
    return datetime.now(UTC)


class Verdict(enum.StrEnum):
    SHIP = "ship"
    SKIP = "skip"


class IssueStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"  # marked the mail as spam (a feedback report, an ESP webhook or an import)


class DeliveryStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


# --- ingestion ----------------------------------------------------------------------------

class Feed(SQLModel, table=True):
    """The polling state of one feed of feeds.toml (the file holds the configuration)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    configured_url: str = Field(sa_column=Column(Text, nullable=False))  # as written in feeds.toml
    url: str = Field(sa_column=Column(Text, nullable=False))  # after permanent redirects
    category: Optional[str] = Field(default=None, max_length=100)
    etag: Optional[str] = Field(default=None, sa_column=Column(Text))
    last_modified: Optional[str] = Field(default=None, max_length=100)
    last_status: Optional[int] = None
    last_polled_at: Optional[datetime] = None
    last_success_at: Optional[datetime] = None
    next_poll_at: Optional[datetime] = None
    error_count: int = 0
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    disabled: bool = False
    disabled_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)


class Tool(SQLModel, table=True):
    """An AI tool launch, deduplicated across feeds through its ToolKey rows."""

    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True)
    name: str = Field(max_length=300)
    url: Optional[str] = Field(default=None, sa_column=Column(Text))
    tagline: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    category: Optional[str] = Field(default=None, max_length=100, index=True)
    vendor: Optional[str] = Field(default=None, max_length=200)
    price: str = Field(default=EntryPrice.UNKNOWN.value, max_length=20)
    published_at: Optional[datetime] = None
    first_seen_at: datetime = Field(default_factory=utcnow, index=True)
    feed_id: Optional[int] = Field(default=None, foreign_key="feed.id", ondelete="SET NULL")
    # fields the editor has set by hand; polls never overwrite them
    edited: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, default=list))
    # launch detection (digest/launches.py): whether the entry is an AI tool launch, and why;
    # `override` is the editor's "keep" or "hide", which polls never change
    launch: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    override: Optional[str] = Field(default=None, max_length=10)
    # what the tool's landing page said (digest/enrich.py): title, description, pricing_url
    page: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    enriched_at: Optional[datetime] = None

    @property
    def shown(self) -> bool:
        """Whether the editor's default views (tools list, suggest, pair) show this tool."""
        from digest.data.tools import is_shown

        return is_shown(self.override, self.launch)


class ToolKey(SQLModel, table=True):
    """One identity of a tool (a guid, a canonical URL, a normalised name).

    The unique (kind, value) constraint is what makes deduplication safe under concurrent
    polls: the second writer of the same key fails and re-reads instead of creating a twin.
    """

    __table_args__ = (UniqueConstraint("kind", "value", name="uq_toolkey_kind_value"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # guid | url | name
    value: str = Field(max_length=1000)
    tool_id: int = Field(foreign_key="tool.id", ondelete="CASCADE", index=True)


# --- editorial ----------------------------------------------------------------------------

class Comparison(SQLModel, table=True):
    """A pair of tools, A and B, that the panel reviews side by side."""

    __table_args__ = (CheckConstraint("tool_a_id <> tool_b_id", name="ck_comparison_distinct_tools"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    tool_a_id: int = Field(foreign_key="tool.id", index=True)
    tool_b_id: int = Field(foreign_key="tool.id", index=True)
    title: str = Field(max_length=300)
    pricing_read: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    """One reviewer's verdict and quote on one tool within one comparison."""

    __table_args__ = (
        UniqueConstraint("comparison_id", "tool_id", "reviewer", name="uq_review_one_per_reviewer"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    comparison_id: int = Field(foreign_key="comparison.id", ondelete="CASCADE", index=True)
    tool_id: int = Field(foreign_key="tool.id")
    reviewer: str = Field(max_length=50)
    verdict: str = Field(max_length=10)
    quote: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Issue(SQLModel, table=True):
    """A numbered edition; draft -> scheduled -> sending -> sent."""

    id: Optional[int] = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    subject: str = Field(max_length=300)
    preheader: str = Field(default="", max_length=300)
    intro: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    status: str = Field(default=IssueStatus.DRAFT.value, max_length=20, index=True)
    scheduled_at: Optional[datetime] = None
    queued_at: Optional[datetime] = None
    sent_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class IssueComparison(SQLModel, table=True):
    """A comparison's place in an issue."""

    __table_args__ = (UniqueConstraint("issue_id", "comparison_id", name="uq_issuecomparison"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", ondelete="CASCADE", index=True)
    comparison_id: int = Field(foreign_key="comparison.id", ondelete="CASCADE", index=True)
    position: int = 0


class Counter(SQLModel, table=True):
    """Monotonic counters (issue numbers), so a number is never handed out twice."""

    name: str = Field(primary_key=True, max_length=50)
    value: int = 0


# --- audience -----------------------------------------------------------------------------

class Subscriber(SQLModel, table=True):
    """An address and where it stands; `email_key` (lowercased) is the unique identity."""

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    email_key: str = Field(max_length=320, unique=True)
    status: str = Field(default=SubscriberStatus.PENDING.value, max_length=20, index=True)
    source: str = Field(default="cli", max_length=20)  # cli | import | web
    created_at: datetime = Field(default_factory=utcnow)
    confirmed_at: Optional[datetime] = None
    unsubscribed_at: Optional[datetime] = None
    bounce_count: int = 0
    last_bounce: Optional[str] = Field(default=None, sa_column=Column(Text))


class Suppression(SQLModel, table=True):
    """An address that left or bounced: imports never bring it back."""

    id: Optional[int] = Field(default=None, primary_key=True)
    email_key: str = Field(max_length=320, unique=True)
    reason: str = Field(max_length=50)  # unsubscribed | removed | bounced | complained
    created_at: datetime = Field(default_factory=utcnow)


class BounceKind(enum.StrEnum):
    """What came back about a delivery: only hard, soft and complaint act on the reader."""

    HARD = "hard"  # permanent failure (5.x.x): the reader is bounced at once
    SOFT = "soft"  # temporary failure (4.x.x): bounced after `bounces.soft_limit` within the window
    COMPLAINT = "complaint"  # "this is spam": unsubscribed and suppressed for good
    AUTO_REPLY = "auto-reply"  # an out-of-office or other automatic answer: left for the editor
    REPLY = "reply"  # anything else (a person's answer): left for the editor
    UNMATCHED = "unmatched"  # a bounce or complaint that names no delivery of ours: left for the editor


class BounceEvent(SQLModel, table=True):
    """One message from the return mailbox or one ESP webhook event, recorded once.

    `event_key` (the bounce's Message-ID, or the ESP's event id) is unique, and the event is
    inserted in the same transaction as its effect on the reader, so a crash or a redelivery
    never counts it twice.
    """

    __table_args__ = (Index("ix_bounceevent_subscriber_created", "subscriber_id", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=400, unique=True)
    source: str = Field(max_length=20)  # mailbox | ses | mailgun
    kind: str = Field(max_length=20, index=True)  # a BounceKind
    subscriber_id: Optional[int] = Field(default=None, foreign_key="subscriber.id", ondelete="SET NULL")
    issue_number: Optional[int] = Field(default=None, index=True)
    status: str = Field(default="", max_length=20)  # the enhanced status code (5.1.1), if any
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """One issue to one subscriber; the unique pair is the exactly-once guarantee's anchor."""

    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id", name="uq_delivery_issue_subscriber"),
        Index("ix_delivery_issue_status", "issue_id", "status"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    issue_id: int = Field(foreign_key="issue.id", ondelete="CASCADE")
    subscriber_id: int = Field(foreign_key="subscriber.id", ondelete="CASCADE", index=True)
    status: str = Field(default=DeliveryStatus.QUEUED.value, max_length=20)
    attempts: int = 0
    next_attempt_at: Optional[datetime] = None
    claimed_by: Optional[str] = Field(default=None, max_length=100)
    lease_until: Optional[datetime] = None
    last_error: Optional[str] = Field(default=None, sa_column=Column(Text))
    message_id: Optional[str] = Field(default=None, max_length=300)
    queued_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None


class Vote(SQLModel, table=True):
    """One subscriber's pick in one comparison; a new vote replaces the old."""

    __table_args__ = (UniqueConstraint("comparison_id", "subscriber_id", name="uq_vote_one_per_subscriber"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    comparison_id: int = Field(foreign_key="comparison.id", ondelete="CASCADE", index=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", ondelete="CASCADE")
    choice: str = Field(max_length=1)  # a | b
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --- listening and operations ---------------------------------------------------------------

class ScannerMark(SQLModel, table=True):
    """A client address that fetched a canary link: a mail scanner, not a person, until `until`."""

    id: Optional[int] = Field(default=None, primary_key=True)
    client: str = Field(max_length=100, index=True)
    marked_at: datetime = Field(default_factory=utcnow)
    until: datetime


class DiscardedAction(SQLModel, table=True):
    """An action not counted (a scanner's vote, say): logged, not lost."""

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)  # vote | unsubscribe | confirm
    client: str = Field(max_length=100)
    subscriber_id: Optional[int] = None
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)


class RateCount(SQLModel, table=True):
    """Requests counted per key (a hashed client address and an action) in one fixed window."""

    key: str = Field(primary_key=True, max_length=100)
    window_start: int = Field(primary_key=True)  # epoch seconds at the window's start
    count: int = 0


class Lease(SQLModel, table=True):
    """A named lease (compare-and-set with expiry) so twin processes never run one job twice."""

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=200)
    expires_at: datetime


class JobRun(SQLModel, table=True):
    """One scheduled job's run for one slot (the fire time it acts for): at most one per pair.

    The unique (job, slot) pair is what stops a twin scheduler process from acting twice for
    the same weekly send or poll, even after the first one finished and let go of its lease.
    """

    __table_args__ = (UniqueConstraint("job", "slot", name="uq_jobrun_job_slot"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    job: str = Field(max_length=50)  # poll | weekly-send
    slot: datetime
    holder: str = Field(max_length=200)  # the process that ran it
    outcome: str = Field(default="running", max_length=20)  # running | ok | nothing | missed | failed
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None
