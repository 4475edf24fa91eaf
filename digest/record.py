"""The record of an issue that went out: what its web page and archive entry show, for good.

When an issue is queued its content is fixed: the email's parts are frozen (`digest.outbox`),
and so is everything its web page and archive entry say, in `outbox/<number>/issue.json`:
subject, preheader, intro, date, each comparison's title, pricing read, tools (name, tagline,
description, vendor, category, price, address) and reviews, last week's recap as mailed, and
the panel as it stood. The web app builds the page of an issue that has a record from the
record alone, never from the live catalogue, so a feed that later renames a tool or an editor
who corrects it (`digest tools edit`) changes the next issue, not the ones already sent.

Only the reader votes are live: the page shows the community figures as they stand (the
counts, merged into the recorded data at request time). The layout is the templates' of the
day, so a template fix reaches old issues too; the words do not change.

The record is written once, atomically and read-only, before the manifest that marks the
issue frozen; an issue frozen before records existed has none and its page is rendered from
the database as before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.atomic import write_atomic
from digest.config import Reviewer
from digest.errors import StateError
from digest.view import WEB, ComparisonData, IssueData, PreviousIssueData, ReviewData, ToolData, view_from_data

if TYPE_CHECKING:
    from digest.config import Settings

RECORD = "issue.json"
RECORD_FORMAT = 1


@dataclass(frozen=True)
class IssueRecord:
    """An issue's content as it went out; `issue_data` turns it back into a view's data."""

    number: int
    subject: str
    preheader: str
    intro: str
    date: datetime | None  # the date the email showed (the scheduled date), if any
    frozen_at: datetime
    panel: tuple[Reviewer, ...]
    comparisons: tuple[ComparisonData, ...]
    last_week: PreviousIssueData | None

    def comparison_ids(self) -> list[int]:
        """Every comparison whose votes the page shows: this issue's and last week's."""
        ids = [c.id for c in self.comparisons]
        if self.last_week is not None:
            ids += [c.id for c in self.last_week.comparisons]
        return ids

    def issue_data(self, *, votes: Mapping[int, tuple[int, int]], date: datetime | None = None) -> IssueData:
        """The recorded issue with the reader votes `votes` ({comparison id: (a, b)}) merged in."""
        def counted(comparison: ComparisonData) -> ComparisonData:
            a, b = votes.get(comparison.id, (0, 0))
            return dataclasses.replace(comparison, votes_a=a, votes_b=b, figures=None)

        last_week = None
        if self.last_week is not None:
            last_week = dataclasses.replace(self.last_week,
                                            comparisons=tuple(counted(c) for c in self.last_week.comparisons))
        return IssueData(number=self.number, subject=self.subject, preheader=self.preheader, intro=self.intro,
                         status="sent", date=date or self.date, comparisons=tuple(counted(c) for c in self.comparisons),
                         missing=(), last_week=last_week)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "issue": self.number,
            "subject": self.subject,
            "preheader": self.preheader,
            "intro": self.intro,
            "date": self.date.isoformat() if self.date else None,
            "frozen_at": self.frozen_at.isoformat(),
            "panel": [dataclasses.asdict(r) for r in self.panel],
            "comparisons": [_comparison_json(c) for c in self.comparisons],
            "last_week": None if self.last_week is None else {
                "number": self.last_week.number, "subject": self.last_week.subject,
                "comparisons": [_comparison_json(c) for c in self.last_week.comparisons]},
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> IssueRecord:
        """The record from its JSON; KeyError, TypeError or ValueError when it is not one."""
        if raw.get("format") != RECORD_FORMAT:
            raise ValueError(f"not an issue record of format {RECORD_FORMAT}")
        last = raw["last_week"]
        return cls(
            number=int(raw["issue"]), subject=raw["subject"], preheader=raw["preheader"], intro=raw["intro"],
            date=datetime.fromisoformat(raw["date"]) if raw["date"] else None,
            frozen_at=datetime.fromisoformat(raw["frozen_at"]),
            panel=tuple(Reviewer(**r) for r in raw["panel"]),
            comparisons=tuple(_comparison_from(c) for c in raw["comparisons"]),
            last_week=None if last is None else PreviousIssueData(
                number=int(last["number"]), subject=last["subject"],
                comparisons=tuple(_comparison_from(c) for c in last["comparisons"])),
        )


def _comparison_json(c: ComparisonData) -> dict[str, Any]:
    return {"id": c.id, "title": c.title, "pricing_read": c.pricing_read,
            "a": dataclasses.asdict(c.a), "b": dataclasses.asdict(c.b),
            "reviews": [dataclasses.asdict(r) for r in c.reviews]}


def _comparison_from(raw: Mapping[str, Any]) -> ComparisonData:
    return ComparisonData(id=int(raw["id"]), title=raw["title"], pricing_read=raw["pricing_read"],
                          a=ToolData(**raw["a"]), b=ToolData(**raw["b"]),
                          reviews=tuple(ReviewData(**r) for r in raw["reviews"]))


def record_of(data: IssueData, *, panel: Sequence[Reviewer], frozen_at: datetime) -> IssueRecord:
    """The record of an issue from the data its email was rendered from (votes left out)."""
    return IssueRecord(number=data.number, subject=data.subject, preheader=data.preheader, intro=data.intro,
                       date=data.date, frozen_at=frozen_at, panel=tuple(panel),
                       comparisons=data.comparisons, last_week=data.last_week)


def write_record(folder: Path, record: IssueRecord) -> Path:
    """Write `folder/issue.json` atomically and read-only; its path."""
    path = folder / RECORD
    data = (json.dumps(record.to_json(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    write_atomic(path, data, read_only=True, durable=True)
    return path


def read_record(settings: Settings, number: int) -> IssueRecord | None:
    """Issue `number`'s record; None when it has none (never queued, or queued before records).

    Raises StateError for a record that cannot be read: a damaged record is not replaced by
    the live catalogue behind the editor's back.
    """
    path = settings.outbox_dir / str(number) / RECORD
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return IssueRecord.from_json(json.loads(text))
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{path} is not a readable issue record ({type(exc).__name__}: {exc})",
                         hint="restore it from the backup of outbox/") from None


def web_page(record: IssueRecord, *, settings: Settings, votes: Mapping[int, tuple[int, int]],
             date: datetime | None = None) -> str:
    """The issue's web page from its record, with the reader votes `votes` as they stand now."""
    from digest.render import Renderer

    recorded = dataclasses.replace(settings, panel=record.panel)
    view = view_from_data(record.issue_data(votes=votes, date=date), settings=recorded, medium=WEB)
    return Renderer(settings).web(view)
