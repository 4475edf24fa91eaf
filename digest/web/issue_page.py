"""An issue's web version as the archive serves it: rendered by `digest.render` from the
database on request, so the community figures are the current ones (the app caches the page
for a short while)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.models import Issue, IssueStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from digest.config import Settings


def issue_html(session: Session, settings: Settings, number: int) -> str | None:
    """The web page of sent issue `number`; None when it does not exist or is not public."""
    from sqlmodel import select

    from digest.render import Renderer
    from digest.view import WEB, build_view

    issue = session.exec(select(Issue).where(Issue.number == number)).first()
    if issue is None or issue.status != IssueStatus.SENT.value:
        return None
    return Renderer(settings).web(build_view(session=session, settings=settings, issue_number=number, audience=WEB))
