"""Builders shared by the delivery tests: a ready issue in the database and its rendered parts."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from digest.db import session_scope
from digest.links import LEGACY

placeholder, vote_placeholder = LEGACY, LEGACY.vote  # hand-made parts, as a render before nonces wrote them
from digest.models import Comparison, Issue, IssueComparison, Review, Subscriber, Tool


def make_ready_issue(engine, settings, *, number: int = 1, comparisons: int = 1,
                     subject: str = "Patchwise vs Lintern — who ships?") -> list[int]:
    """An issue whose comparisons every panel reviewer has reviewed; returns the comparison ids."""
    ids: list[int] = []
    with session_scope(engine, write=True) as session:
        issue = Issue(number=number, subject=subject)
        session.add(issue)
        session.flush()
        for index in range(comparisons):
            tools = []
            for side in "ab":
                tool = Tool(slug=f"tool-{number}-{index}-{side}", name=f"Tool {index}{side.upper()}")
                session.add(tool)
                tools.append(tool)
            session.flush()
            comparison = Comparison(tool_a_id=tools[0].id, tool_b_id=tools[1].id, title=f"Pair {index}")
            session.add(comparison)
            session.flush()
            for reviewer in settings.panel:
                for tool in tools:
                    session.add(Review(comparison_id=comparison.id, tool_id=tool.id, reviewer=reviewer.key,
                                       verdict="ship", quote=f"{reviewer.name} likes {tool.name}."))
            session.add(IssueComparison(issue_id=issue.id, comparison_id=comparison.id, position=index))
            ids.append(comparison.id)
    return ids


def write_parts(settings, number: int, comparison_ids: list[int], *, filler: int = 3) -> Path:
    """Rendered parts with every kind of placeholder, as render writes them."""
    folder = settings.outbox_dir / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    votes = "".join(f'<p><a href="{vote_placeholder(c, "a")}">Vote A</a> '
                    f'<a href="{vote_placeholder(c, "b")}">Vote B</a></p>' for c in comparison_ids)
    html = ("<!doctype html><html lang=\"en\"><body>"
            + "<p>The panel weighed both tools &mdash; here is the verdict.</p>" * filler + votes
            + f'<p><a href="{placeholder("web")}">Read on the web</a></p>'
            + f'<p>Sent to {placeholder("email")}. <a href="{placeholder("unsubscribe")}">Unsubscribe</a></p>'
            + "</body></html>\n")
    text_votes = "".join(f"Vote A: {vote_placeholder(c, 'a')}\nVote B: {vote_placeholder(c, 'b')}\n"
                         for c in comparison_ids)
    text = (f"Weekly AI Tool Verdicts — issue {number}\n\nThe panel weighed both tools.\n\n{text_votes}\n"
            f"Web: {placeholder('web')}\nSent to {placeholder('email')}\n"
            f"Unsubscribe: {placeholder('unsubscribe')}\n")
    (folder / "email.template.html").write_text(html, encoding="utf-8")
    (folder / "email.template.txt").write_text(text, encoding="utf-8")
    return folder


def add_subscribers(engine, emails: list[str], *, status: str = "active") -> list[int]:
    with session_scope(engine, write=True) as session:
        rows = [Subscriber(email=e, email_key=e.lower(), status=status) for e in emails]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.strict)
