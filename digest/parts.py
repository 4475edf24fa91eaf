"""An issue's mailed parts as one value: what render makes, freeze keeps and the sender fills.

`html` and `text` still hold the link placeholders of their render (`placeholders`, see
digest.links); the sender fills them per subscriber. The parts come from a fresh render
(`RenderedIssue.parts`), from the files render wrote (`digest.outbox.read_parts`) or, once the
issue is queued, from its frozen copies (`digest.outbox.FrozenIssue`, which is IssueParts too).
"""

from __future__ import annotations

from dataclasses import dataclass

from digest import links
from digest.links import LEGACY, Placeholders


@dataclass(frozen=True, kw_only=True)
class IssueParts:
    number: int
    subject: str
    comparison_ids: tuple[int, ...]
    html: str
    text: str
    placeholders: Placeholders = LEGACY

    def check(self, *, html_name: str = "the HTML part", text_name: str = "the text part") -> set[str]:
        """The placeholder names the parts use; RenderError when a part names a link this issue
        cannot fill or lacks the unsubscribe link (the names say which part, in the message)."""
        return links.check_parts({html_name: self.html, text_name: self.text}, placeholders=self.placeholders,
                                 comparison_ids=self.comparison_ids)
