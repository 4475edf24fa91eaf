"""The Atom feed of sent issues (feedgen)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from digest.links import issue_url

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.web.queries import IssueSummary


def atom_feed(settings: Settings, issues: Sequence[IssueSummary]) -> bytes:
    """Atom XML for `issues` (newest first), every entry linking to its web version."""
    from feedgen.feed import FeedGenerator

    feed = FeedGenerator()
    feed.id(settings.base_url + "/")
    feed.title(settings.name)
    feed.subtitle(settings.tagline or settings.name)
    feed.author({"name": settings.name})
    feed.link(href=settings.base_url + "/", rel="alternate")
    feed.link(href=settings.base_url + "/feed.xml", rel="self")
    feed.language(settings.language)
    stamps = [i.sent_at for i in issues if i.sent_at]
    feed.updated(max(stamps) if stamps else datetime(2000, 1, 1, tzinfo=UTC))
    for issue in reversed(issues):  # feedgen prepends: oldest first gives newest on top
        url = issue_url(settings.base_url, issue.number)
        entry = feed.add_entry()
        entry.id(url)
        entry.title(f"#{issue.number}: {issue.subject}")
        entry.link(href=url, rel="alternate")
        when = issue.sent_at or datetime(2000, 1, 1, tzinfo=UTC)
        entry.published(when)
        entry.updated(when)
        summary = issue.preheader or issue.intro
        if summary:
            entry.summary(summary)
    return feed.atom_str(pretty=True)
