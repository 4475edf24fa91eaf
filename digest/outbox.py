"""The outbox: an issue's frozen parts, its manifest, and queueing its deliveries.

`outbox/<number>/` holds what render writes (email.template.html and email.template.txt with
link placeholders, email.html and email.txt as one sample reader gets them, the web page, the
MJML source, sample.eml). Queueing renders the issue afresh
(unless told to take the parts as they are) and freezes the mailed parts: copies in
`outbox/<number>/frozen/`, and `manifest.json` with the subject, the comparisons and the
SHA-256 of each frozen part, and writes the issue's record (`issue.json`, `digest.record`): what
its web page and archive entry show from then on. From then on those bytes are what every subscriber gets: queueing
again never re-renders, a later `digest issue render` or `preview` only rewrites the preview
files beside them, and the sender refuses frozen parts whose hash no longer matches.

Deliveries are created by one INSERT ... SELECT over the active subscribers, guarded by the
unique (issue, subscriber) constraint with ON CONFLICT DO NOTHING, so queueing twice, or
concurrently, never makes twins: it only adds the subscribers who became active since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest import issue_state
from digest.atomic import write_atomic
from digest.editorial import get_issue, require_ready
from digest.editorial.issues import entries
from digest.errors import DeliveryError, RenderError, StateError
from digest.links import LEGACY, Placeholders
from digest.models import Delivery, DeliveryStatus, Issue, utcnow
from digest.parts import IssueParts
from digest.record import IssueRecord, record_of, write_record

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from digest.config import Settings

MANIFEST = "manifest.json"
FROZEN_DIR = "frozen"
HTML_PART = "email.html"
TEXT_PART = "email.txt"
MAILED_PARTS = (HTML_PART, TEXT_PART)
# render writes each mailed part's template under this name (email.html itself is the sample
# reader's copy, links filled in); frozen/ keeps the part's own name
SOURCES = {HTML_PART: "email.template.html", TEXT_PART: "email.template.txt"}
MESSAGES_DIR = "messages"
MANIFEST_FORMAT = 1


def issue_folder(settings: Settings, number: int) -> Path:
    return settings.outbox_dir / str(number)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class FrozenIssue(IssueParts):
    """An issue's mailed parts as frozen at queue time, checked against the manifest."""

    folder: Path
    manifest: dict[str, Any]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a frozen issue folder, None when the issue has not been frozen."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeliveryError(f"{path}: unreadable manifest: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise DeliveryError(f"{path}: not a digest manifest (format {MANIFEST_FORMAT})")
    return manifest


def parts_placeholders(folder: Path) -> Placeholders:
    """The placeholders of the rendered parts in `folder`, from the render's `render.json`;
    `LEGACY` (the bare form) for parts written without one. StateError for a damaged note."""
    path = folder / "render.json"
    if not path.exists():
        return LEGACY
    try:
        return Placeholders(json.loads(path.read_text(encoding="utf-8"))["placeholder_nonce"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateError(f"{path}: unreadable render note ({exc})", hint="render the issue again") from None


def _frozen_placeholders(manifest: dict[str, Any], folder: Path) -> Placeholders:
    try:
        return Placeholders(manifest.get("placeholder_nonce", ""))
    except (ValueError, TypeError):
        raise DeliveryError(f"{folder / MANIFEST}: the placeholder nonce is damaged") from None


def read_parts(settings: Settings, *, number: int, subject: str, comparison_ids: Sequence[int]) -> IssueParts:
    """The mailed parts render wrote to outbox/<number>/ (hand-edited, say), with their render's
    placeholder nonce; StateError when they are missing (never rendered)."""
    folder = issue_folder(settings, number)
    texts: dict[str, str] = {}
    for part in MAILED_PARTS:
        path = folder / SOURCES[part]
        if not path.is_file():
            raise StateError(f"issue {number} has not been rendered: {path} is missing",
                             hint=f"run `digest issue render {number}`")
        texts[part] = path.read_text(encoding="utf-8")
    return IssueParts(number=number, subject=subject, comparison_ids=tuple(comparison_ids), html=texts[HTML_PART],
                      text=texts[TEXT_PART], placeholders=parts_placeholders(folder))


def _placeholder_names(folder: Path, parts: IssueParts) -> list[str]:
    try:
        names = parts.check(html_name=str(folder / SOURCES[HTML_PART]), text_name=str(folder / SOURCES[TEXT_PART]))
    except RenderError as exc:
        raise StateError(f"issue {parts.number}: {exc.message}", hint="render the issue again") from None
    return sorted(names)


def freeze(*, settings: Settings, parts: IssueParts, rendered_at: datetime | None = None,
           record: IssueRecord | None = None) -> dict[str, Any]:
    """Freeze `parts` into outbox/<number>/frozen/ and return the manifest.

    The mailed parts are written read-only into outbox/<number>/frozen/, and their placeholder
    nonce goes into the manifest; `record`, what the web page and archive will show
    (`digest.record`), is written before the manifest, so a frozen issue has its record. A
    folder that is already frozen is only checked (hashes must match), never rewritten.
    Raises StateError when a part holds a placeholder the issue cannot fill or lacks the
    unsubscribe link, or (frozen already) changed since.
    """
    folder = issue_folder(settings, parts.number)
    manifest = read_manifest(folder)
    if manifest is not None:
        verify_parts(folder, manifest)
        return manifest
    names = _placeholder_names(folder, parts)
    if rendered_at is None:  # parts read back from outbox/<number>/: rendered when last written
        rendered_at = datetime.fromtimestamp((folder / SOURCES[HTML_PART]).stat().st_mtime, UTC)
    frozen = folder / FROZEN_DIR
    frozen.mkdir(parents=True, exist_ok=True)
    for part, text in ((HTML_PART, parts.html), (TEXT_PART, parts.text)):
        write_atomic(frozen / part, text.encode("utf-8"), read_only=True)
    if record is not None:
        write_record(folder, record)
    manifest = {
        "format": MANIFEST_FORMAT,
        "issue": parts.number,
        "subject": parts.subject,
        "comparison_ids": list(parts.comparison_ids),
        "rendered_at": rendered_at.isoformat(),
        "frozen_at": utcnow().isoformat(),
        "parts": {part: {"path": f"{FROZEN_DIR}/{part}", "sha256": _sha256(frozen / part),
                         "bytes": (frozen / part).stat().st_size} for part in MAILED_PARTS},
        "placeholders": names,
        "placeholder_nonce": parts.placeholders.nonce,
        "counts": {"comparisons": len(parts.comparison_ids), "deliveries": 0, "queue_runs": 0},
    }
    _write_json(folder / MANIFEST, manifest)
    return manifest


def verify_parts(folder: Path, manifest: dict[str, Any]) -> None:
    """StateError when a frozen part is missing or differs from what the manifest recorded."""
    for part in MAILED_PARTS:
        entry = manifest.get("parts", {}).get(part, {})
        path = folder / entry.get("path", f"{FROZEN_DIR}/{part}")
        if not path.is_file():
            raise StateError(f"{path} is missing, but issue {folder.name} was frozen with it",
                             hint="restore the file from a backup; readers must all get the same bytes")
        if _sha256(path) != entry.get("sha256"):
            raise StateError(f"{path} changed after issue {folder.name} was queued (its SHA-256 no longer "
                             "matches manifest.json)", hint="restore the frozen file; readers must all get the same bytes")


def load_frozen(settings: Settings, number: int) -> FrozenIssue:
    """The frozen parts of issue `number`, verified; StateError if it was never queued."""
    folder = issue_folder(settings, number)
    manifest = read_manifest(folder)
    if manifest is None:
        raise StateError(f"issue {number} is not frozen: {folder / MANIFEST} is missing",
                         hint=f"queue it with `digest issue queue {number}`")
    verify_parts(folder, manifest)
    return FrozenIssue(number=number, subject=manifest["subject"],
                       comparison_ids=tuple(manifest["comparison_ids"]),
                       html=(folder / FROZEN_DIR / HTML_PART).read_text(encoding="utf-8"),
                       text=(folder / FROZEN_DIR / TEXT_PART).read_text(encoding="utf-8"),
                       folder=folder, manifest=manifest, placeholders=_frozen_placeholders(manifest, folder))


# --- queueing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueReport:
    number: int
    added: int  # deliveries created by this run
    total: int  # deliveries of the issue, whatever their status
    queued: int  # still waiting to be sent
    status: str
    folder: Path
    manifest: dict[str, Any]
    rendered: bool = False  # this run rendered and froze the parts
    warnings: tuple[str, ...] = ()  # from the render

    def to_json(self) -> dict[str, Any]:
        return {"issue": self.number, "added": self.added, "total": self.total, "queued": self.queued,
                "status": self.status, "folder": str(self.folder), "subject": self.manifest["subject"],
                "parts": self.manifest["parts"], "rendered": self.rendered, "warnings": list(self.warnings)}


def insert_deliveries(session: Session, issue_id: int) -> int:
    """One delivery per active subscriber who has none for this issue; returns how many were added.

    A single INSERT ... SELECT with ON CONFLICT DO NOTHING on (issue, subscriber): the unique
    constraint, not a prior check, is what rules out twins.
    """
    from digest.data.issues import queue_deliveries

    return queue_deliveries(session.connection(), issue_id)


def _start_sending(session: Session, issue: Issue) -> None:
    """The issue moves to `sending` (keeping the time it was first queued); StateError if
    another process moved it meanwhile to where it cannot go from."""
    from sqlalchemy import func

    source = issue.status
    moved = issue_state.move(session.connection(), issue.number, source=source, target=issue_state.SENDING,
                             queued_at=func.coalesce(Issue.queued_at, utcnow()))
    session.refresh(issue)
    if not moved and issue.status != issue_state.SENDING:
        raise StateError(f"issue {issue.number} went from {source} to {issue.status} while it was queued",
                         hint=f"look at it again and run `digest issue queue {issue.number}` again")


def _frozen_manifest(*, engine: Engine, settings: Settings, number: int, fresh: bool, subject: str,
                     comparison_ids: Sequence[int]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The issue's manifest, freezing its parts first if they are not yet: rendered now when
    `fresh`, else as they are in outbox/<number>/ (the record then from the database now)."""
    from digest.db import session_scope

    folder = issue_folder(settings, number)
    manifest = read_manifest(folder)
    if manifest is not None:
        verify_parts(folder, manifest)
        return manifest, ()
    if fresh:
        from digest.render import render_to_outbox

        rendered_at = utcnow()
        report = render_to_outbox(settings=settings, issue_number=number)
        parts, data, warnings = report.rendered.parts, report.rendered.data, tuple(report.warnings)
    else:
        from digest.view import load_issue_data

        rendered_at, warnings = None, ()
        parts = read_parts(settings, number=number, subject=subject, comparison_ids=comparison_ids)
        with session_scope(engine) as session:
            data = load_issue_data(session=session, settings=settings, issue_number=number)
    record = None if data is None else record_of(data, panel=settings.panel, frozen_at=utcnow())
    return freeze(settings=settings, parts=parts, rendered_at=rendered_at, record=record), warnings


def queue_issue(*, engine: Engine, settings: Settings, number: int | str, render: bool = True) -> QueueReport:
    """`digest issue queue`: check readiness, render and freeze the parts, create the deliveries.

    Only a ready issue queues (StateError naming what is missing). The first queueing renders
    the issue from the database as it is now (`render=False` freezes the parts already in
    outbox/<number>/ instead, say after a hand edit) and freezes them; later runs use the
    frozen parts. The issue goes to `sending`; `digest send` (or the scheduler) delivers it.
    Safe to run again: it adds deliveries only for subscribers who became active since.
    """
    from sqlalchemy import func
    from sqlmodel import select

    from digest.db import session_scope

    with session_scope(engine) as session:
        issue = get_issue(session, number)
        number = issue.number
        require_ready(session=session, issue=issue, panel=settings.panel)
        comparison_ids = [row.comparison_id for row in entries(session, issue)]
        subject = issue.subject
    fresh = render and read_manifest(issue_folder(settings, number)) is None
    manifest, warnings = _frozen_manifest(engine=engine, settings=settings, number=number, fresh=fresh,
                                          subject=subject, comparison_ids=comparison_ids)
    with session_scope(engine, write=True) as session:
        issue = get_issue(session, number)
        added = insert_deliveries(session, issue.id)
        counts = dict(session.exec(select(Delivery.status, func.count()).where(Delivery.issue_id == issue.id)
                                   .group_by(Delivery.status)).all())
        if issue.status in (issue_state.DRAFT, issue_state.SCHEDULED) or (issue.status == issue_state.SENT and added):
            _start_sending(session, issue)
        status = issue.status
    total = sum(counts.values())
    manifest["counts"] = {**manifest.get("counts", {}), "deliveries": total,
                          "queue_runs": manifest.get("counts", {}).get("queue_runs", 0) + 1,
                          "last_queued_at": utcnow().isoformat()}
    _write_json(issue_folder(settings, number) / MANIFEST, manifest)
    return QueueReport(number=number, added=added, total=total, queued=counts.get(DeliveryStatus.QUEUED.value, 0),
                       status=status, folder=issue_folder(settings, number), manifest=manifest, rendered=fresh,
                       warnings=warnings)
