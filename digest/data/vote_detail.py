"""What a set-aside vote would have recorded: the `detail` text of its DiscardedAction.

Apart from `digest.data.votes` (which writes it) because the readers that list set-aside
actions and count them in a report must not import SQLAlchemy, which votes.py does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

CHOICES = ("a", "b")
_OLD_VOTE_DETAIL = re.compile(r"comparison (\d+) choice ([ab])")


@dataclass(frozen=True)
class VoteDetail:
    """What a set-aside vote would have recorded: the `detail` of its DiscardedAction."""

    comparison_id: int
    choice: str

    def encode(self) -> str:
        return json.dumps({"comparison_id": self.comparison_id, "choice": self.choice}, separators=(",", ":"))

    @classmethod
    def decode(cls, detail: str) -> VoteDetail | None:
        """The vote in a stored detail, JSON or the older text form; None when it names none."""
        text = (detail or "").strip()
        if (old := _OLD_VOTE_DETAIL.fullmatch(text)) is not None:
            return cls(int(old.group(1)), old.group(2))
        try:
            value = json.loads(text)
            comparison_id, choice = value["comparison_id"], value["choice"]
        except (ValueError, TypeError, KeyError):
            return None
        if type(comparison_id) is not int or choice not in CHOICES:
            return None
        return cls(comparison_id, choice)
