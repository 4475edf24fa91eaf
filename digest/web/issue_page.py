"""An issue's web version as the archive serves it: rendered by `digest.render` from the
database on request, so the community figures are the current ones (the app caches the page
for a short while)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.models import Issue

if TYPE_CHECKING:
    from sqlmodel import Session

    from digest.config import Settings


def issue_html(session: Session, settings: Settings, number: int, *, signed: bool = False) -> str | None:
    """The web page of issue `number`; None when it does not exist, or when it has not gone out
    yet and the request did not carry the issue's signed web-version token (`signed`)."""
    from sqlmodel import select

    from digest.render import Renderer
    from digest.view import WEB, build_view
    from digest.web.queries import is_published

    issue = session.exec(select(Issue).where(Issue.number == number)).first()
    if issue is None or not (signed or is_published(issue)):
        return None
    return Renderer(settings).web(build_view(session=session, settings=settings, issue_number=number, audience=WEB))
