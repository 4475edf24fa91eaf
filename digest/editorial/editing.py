"""`digest comparison edit`: the comparison as TOML in the editor's $EDITOR, applied on save.

The flow follows `git commit` and `kubectl edit`: the document is written to a private temp
file and the editor opened on it. Saved unchanged, or emptied, nothing changes. Saved with a
mistake, the editor re-opens on the saved text with the problems listed at the top as comments
(line numbers as the re-opened file shows them); saving that unchanged again gives up with the
error, the text kept for the editor to recover. If someone else changed the comparison in the
meantime nothing is applied either (StateError), and the text is kept.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from digest.config import Reviewer
from digest.editorial.lookup import get_comparison, require_editable_comparison
from digest.editorial.scorecard import (ScorecardError, apply_scorecard, comparison_as_toml,
                                        parse_scorecard)
from digest.errors import DigestError, StateError, ValidationError

MARK = "# ! "
MAX_ROUNDS = 50


@dataclass
class EditResult:
    comparison_id: int
    changes: list[str] = field(default_factory=list)
    aborted: str | None = None  # why nothing was applied: "unchanged" or "empty"
    rounds: int = 1


def editor_command(environ: dict[str, str] | None = None) -> list[str]:
    """$VISUAL, else $EDITOR, else vi, split like a shell would."""
    environ = os.environ if environ is None else environ
    command = environ.get("VISUAL") or environ.get("EDITOR") or "vi"
    try:
        parts = shlex.split(command)
    except ValueError as exc:
        raise ValidationError(f"cannot parse the editor command {command!r}: {exc}", hint="check $EDITOR") from None
    if not parts:
        raise ValidationError("the editor command is empty", hint="set $EDITOR")
    return parts


def run_editor(path: Path) -> None:
    """Open `path` in the user's editor and wait; DigestError when it cannot run or fails."""
    command = editor_command()
    try:
        completed = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        raise DigestError(f"cannot start the editor {command[0]!r}: {exc.strerror or exc}",
                          hint="set $EDITOR to an editor that is installed") from None
    if completed.returncode != 0:
        raise DigestError(f"the editor exited with status {completed.returncode}; nothing was changed")


def strip_marks(text: str) -> str:
    """The text without a previous round's problem notice."""
    lines = text.splitlines(keepends=True)
    index = 0
    while index < len(lines) and lines[index].startswith(MARK.rstrip()):
        index += 1
    if index and index < len(lines) and not lines[index].strip():
        index += 1
    return "".join(lines[index:])


def mark(text: str, error: ScorecardError, *, path: Path) -> tuple[str, ScorecardError]:
    """`text` with the problems listed on top, and the error with the line numbers shifted to
    match the marked text (what the editor sees when the file re-opens)."""
    offset = len(error.problems) + 2
    shifted = ScorecardError([type(p)(p.line + offset if p.line else None, p.field, p.message)
                              for p in error.problems], filename=str(path))
    header = ["This did not validate: fix it and save, or quit without saving to change nothing."]
    header += ["  " + p.describe(path.name) for p in shifted.problems]
    return "".join(f"{MARK}{line}\n" for line in header) + "\n" + text, shifted


def _editable_text(engine, comparison: str | int, panel: Sequence[Reviewer]) -> tuple[int, str]:  # noqa: ANN001
    """The comparison's id and its TOML as the editor starts from; StateError when it is locked."""
    from digest.db import session_scope

    with session_scope(engine) as session:
        found = get_comparison(session, comparison)
        require_editable_comparison(session, found)
        return found.id, comparison_as_toml(session=session, comparison=found, panel=panel)


def _read_edit(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DigestError(f"cannot read the edited file: {exc}; nothing was changed") from None


def edit_comparison(*, engine, comparison: str | int, panel: Sequence[Reviewer],  # noqa: ANN001
                    editor: Callable[[Path], None] = run_editor) -> EditResult:
    """Let the editor change the comparison's title, pricing read, entry prices and scorecard.

    Raises StateError when the comparison is in a sending or sent issue or changed while it
    was being edited, ScorecardError when the edit still does not validate after being
    re-opened, and DigestError when the editor fails. Nothing is written in any of those cases.
    """
    from digest.db import session_scope

    comparison_id, original = _editable_text(engine, comparison, panel)
    folder = Path(tempfile.mkdtemp(prefix="digest-edit-"))
    path = folder / f"comparison-{comparison_id}.toml"
    path.write_text(original, encoding="utf-8")
    keep = False
    try:
        written, last_error = original, None
        for rounds in range(1, MAX_ROUNDS + 1):
            editor(path)
            saved = _read_edit(path)
            if not saved.strip():
                return EditResult(comparison_id, aborted="empty", rounds=rounds)
            if saved == written:
                if last_error is None:
                    return EditResult(comparison_id, aborted="unchanged", rounds=rounds)
                keep = True
                last_error.hint = (f"your edits are kept in {path}: run `digest comparison edit "
                                   f"{comparison_id}` again and copy them over")
                raise last_error
            body = strip_marks(saved)
            try:
                with session_scope(engine, write=True) as session:
                    found = get_comparison(session, comparison_id)
                    require_editable_comparison(session, found)
                    if comparison_as_toml(session=session, comparison=found, panel=panel) != original:
                        keep = True
                        raise StateError(f"comparison {comparison_id} was changed by someone else while you "
                                         f"were editing; nothing was applied (your text is kept at {path})",
                                         hint="run `digest comparison edit` again and copy your changes over")
                    card = parse_scorecard(body, filename=path.name, session=session, comparison=found,
                                           panel=panel, complete=True)
                    changes = apply_scorecard(session=session, comparison=found, card=card, complete=True)
                    return EditResult(comparison_id, changes=changes, rounds=rounds)
            except ScorecardError as exc:
                written, last_error = mark(body, exc, path=path)
                path.write_text(written, encoding="utf-8")
        keep = True
        raise ValidationError(f"gave up after {MAX_ROUNDS} rounds of editing; nothing was changed "
                              f"(your text is kept at {path})")
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
