"""The public archive: sent issues only, their web versions as recorded when they were queued
(with current community figures), the Atom feed."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.responses import Response

from digest.errors import StateError
from digest.links import ARCHIVE_PATH, ISSUE_PATH
from digest.web.toolkit import IssueNumber, WebDep
from digest.web.issue_page import recorded_entries
from digest.web.pages import STYLESHEET_PATH
from digest.data.worker import ping
from digest.web.queries import sent_issues

log = logging.getLogger(__name__)
router = APIRouter()
PUBLIC_CACHE = {"cache-control": "public, max-age=60"}
PRIVATE_PAGE = {"cache-control": "private, no-store", "x-robots-tag": "noindex"}


@router.get(ARCHIVE_PATH, response_class=HTMLResponse, summary="Every issue that has gone out")
async def archive(request: Request, web: WebDep) -> Response:
    issues = await web.store.read(lambda connection: recorded_entries(web.settings, sent_issues(connection)))
    return web.page("site/archive.html", headers=PUBLIC_CACHE, issues=issues)


@router.get(ISSUE_PATH, response_class=HTMLResponse, summary="An issue's web version, with current community figures")
async def issue(number: IssueNumber, request: Request, web: WebDep,
                t: Annotated[Optional[str], Query(description="The web-version token from the issue's email")] = None) -> Response:
    """Public once the issue has gone out; before that (while it is still sending, or in a
    proof) only through the email's signed link, and never cached by anyone but the reader."""
    from digest.web.issue_page import issue_html

    signed = t is not None and web.web_token_ok(t, number)
    key = ("issue", number, signed)  # a page shown for a token never answers a request without one
    body = web.issue_pages.get(key)
    if body is None:
        try:
            body = await web.store.session(lambda session: issue_html(session, web.settings, number, signed=signed))
        except StateError as exc:  # a damaged record: say so in the log, never rebuild it from the catalogue
            log.error("issue %s cannot be shown: %s", number, exc.message)
            return web.message("Something went wrong on our side",
                               "This issue cannot be shown just now. It has been logged.", status=500)
        if body is None:
            return web.message("Nothing here", "There is no published issue with this number.", status=404,
                               link=(ARCHIVE_PATH, "See every issue"))
        web.issue_pages.put(key, body)
    return web.html(body, headers=PRIVATE_PAGE if signed else PUBLIC_CACHE)


@router.get("/feed.xml", summary="Atom feed of the issues that have gone out",
            response_class=Response, responses={200: {"content": {"application/atom+xml": {}}}})
async def feed(request: Request, web: WebDep) -> Response:
    from digest.web.feed import atom_feed

    body = web.issue_pages.get("feed")
    if body is None:
        issues = await web.store.read(lambda connection: recorded_entries(web.settings, sent_issues(connection)))
        body = atom_feed(web.settings, issues)
        web.issue_pages.put("feed", body)
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=PUBLIC_CACHE)


@router.get(STYLESHEET_PATH, summary="The site's stylesheet", response_class=Response,
            responses={200: {"content": {"text/css": {}}}})
async def stylesheet(web: WebDep) -> Response:
    return Response(web.pages.stylesheet, media_type="text/css; charset=utf-8",
                    headers={"cache-control": "public, max-age=31536000, immutable"})


@router.get("/healthz", summary="Liveness and database check")
async def healthz(web: WebDep) -> Response:
    try:
        ok = await web.store.read(ping)
    except Exception as exc:  # any failure to reach the database means unhealthy
        return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503,
                            headers={"cache-control": "no-store"})
    return JSONResponse({"status": "ok" if ok else "error", "database": "ok" if ok else "error"},
                        status_code=200 if ok else 503, headers={"cache-control": "no-store"})
