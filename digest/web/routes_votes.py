"""Votes and the canary: GET shows, only POST counts, and scanners' POSTs are set aside.

A proof's vote links (signed for `PROOF_SUBSCRIBER_ID`) work before the issue goes out and
say what a reader's click would do, recording nothing.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from starlette.responses import Response

from digest.data import votes
from digest.data.engine import Conflict
from digest.data.votes import ComparisonSummary, comparison_summary
from digest.links import CANARY_PATH, VOTE_PATH
from digest.panel import community_split
from digest.tokens import Purpose, VoteClaims
from digest.web.security import csp_with_script
from digest.web.toolkit import (NO_STORE, IssueNumber, VoteLink, Web, WebDep, form_fields, form_schema,
                                open_link)

router = APIRouter()

# The only inline script anywhere: a person's browser confirms the vote at once. Its hash
# goes into the vote page's Content-Security-Policy, so no other script can run there.
VOTE_SCRIPT = 'document.getElementById("vote-form").submit();'
VOTE_CSP = csp_with_script(VOTE_SCRIPT)
_TARGETS_KEPT = 4096


async def _target(web: Web, issue_number: int, comparison_id: int) -> ComparisonSummary | None:
    """The comparison behind a vote link if it belongs to that issue and the issue went out.

    Positive answers are kept: a sent issue's comparisons do not change.
    """
    key = (issue_number, comparison_id)
    summary = web.vote_targets.get(key)
    if summary is not None:
        return summary

    def load(connection) -> ComparisonSummary | None:  # noqa: ANN001
        if not votes.is_vote_target(connection, issue_number=issue_number, comparison_id=comparison_id):
            return None
        return comparison_summary(connection, comparison_id)

    summary = await web.store.read(load)
    if summary is not None:
        if len(web.vote_targets) >= _TARGETS_KEPT:
            web.vote_targets.clear()
        web.vote_targets[key] = summary
    return summary


async def _proof(web: Web, claims: VoteClaims) -> Response:
    """What a proof's vote link would do for a reader; nothing is recorded."""
    def load(connection) -> ComparisonSummary | None:  # noqa: ANN001
        if not votes.is_vote_target(connection, issue_number=claims.issue_number,
                                    comparison_id=claims.comparison_id, sent_only=False):
            return None
        return comparison_summary(connection, claims.comparison_id)

    summary = await web.store.read(load)
    if summary is None:
        return _no_target(web)
    return web.message("This is a proof", f"In a reader's email this button records their vote for "
                       f"{summary.tool(claims.choice)} in \u201c{summary.title}\u201d and shows how readers split so far.",
                       "The links in a proof belong to no reader, so nothing was recorded.", headers=NO_STORE)


def _no_target(web: Web) -> Response:
    return web.message("This vote is not open", "This link does not match a comparison of an issue that has gone out.",
                       status=400, headers=NO_STORE, link=("/issues/", "See every issue"))


@router.get(VOTE_PATH, response_class=HTMLResponse, summary="Show a vote link's choice; the page confirms it")
async def vote_page(link: VoteLink, request: Request, web: WebDep) -> Response:
    claims = link.claims
    if link.proof:
        return await _proof(web, claims)
    summary = await _target(web, claims.issue_number, claims.comparison_id)
    if summary is None:
        return _no_target(web)
    return web.form_page(request, "site/vote.html", headers={**NO_STORE, "content-security-policy": VOTE_CSP},
                         action=VOTE_PATH.format(token=link.token), comparison=summary, choice=claims.choice,
                         chosen=summary.tool(claims.choice), issue_number=claims.issue_number, script=Markup(VOTE_SCRIPT))


@router.post(VOTE_PATH, response_class=HTMLResponse, summary="Cast (or replace) the vote of a vote link",
             openapi_extra=form_schema("csrf"))
async def cast_vote(token: str, request: Request) -> Response:
    # The hot path: no dependency injection (the link is opened as VoteLink would, without
    # FastAPI's cost per dependency), the form parsed by hand, one transaction.
    web: Web = request.app.state.web
    link = open_link(web, token, Purpose.VOTE)
    claims = link.claims
    if link.proof:
        return await _proof(web, claims)
    fields = await form_fields(request)
    if not web.csrf_ok(request, fields.get("csrf")):
        return web.csrf_failed()
    summary = await _target(web, claims.issue_number, claims.comparison_id)
    if summary is None:
        return _no_target(web)
    try:
        counts = await _cast(web, claims, web.client(request))
    except Conflict:
        return web.message("This link no longer works", "The reader or the comparison behind it has been removed.",
                           status=400, headers=NO_STORE)
    other = "b" if claims.choice == "a" else "a"
    switch = VOTE_PATH.format(token=f"{token.partition('.')[0]}.{claims.comparison_id}{other}")
    return web.html(_voted_page(web, summary, claims, counts).replace(_SWITCH, switch, 1), headers=NO_STORE)


# Unguessable for this process: a tool's name (feed text) on the page can never pose as it.
_SWITCH = f"__digest_{secrets.token_hex(16)}_switch__"


def _voted_page(web: Web, summary: ComparisonSummary, claims: VoteClaims, counts: tuple[int, int]) -> str:
    """The thank-you page with the split, rendered once per comparison, choice and split: only
    the link to switch sides is the reader's own, and it is put in by substitution."""
    key = ("voted", claims.issue_number, claims.comparison_id, claims.choice, counts)
    body = web.figures.get(key)
    if body is None:
        pct_a, pct_b = community_split(*counts)
        other = "b" if claims.choice == "a" else "a"
        body = web.pages.render("site/voted.html", comparison=summary, choice=claims.choice,
                                chosen=summary.tool(claims.choice), other=summary.tool(other), switch_href=_SWITCH,
                                issue_number=claims.issue_number, total=sum(counts), pct_a=pct_a, pct_b=pct_b)
        web.figures.put(key, body)
    return body


async def _cast(web: Web, claims: VoteClaims, client: str) -> tuple[int, int]:
    """Cast the vote (or set it aside for a scanner) and return the split so far.

    The split is recounted at most once per `figures_ttl` per comparison, in the same
    transaction as the vote that triggers the recount.
    """
    cid = claims.comparison_id
    cached = web.figures.get(cid)
    def cast(connection) -> tuple[int, int]:  # noqa: ANN001
        votes.cast_vote(connection, client=client, subscriber_id=claims.subscriber_id, comparison_id=cid,
                        choice=claims.choice)
        return cached if cached is not None else votes.community_counts(connection, [cid])[cid]

    counts = await web.store.hot_write(cast)
    if cached is None:
        web.figures.put(cid, counts)
    return counts


@router.get(CANARY_PATH, response_class=HTMLResponse, summary="The invisible link only scanners fetch",
            operation_id="canary_get")
@router.head(CANARY_PATH, response_class=HTMLResponse, summary="The invisible link only scanners fetch",
             operation_id="canary_head")
async def canary(number: IssueNumber, request: Request, web: WebDep) -> Response:
    client = web.client(request)
    await web.store.write(lambda connection: votes.mark_scanner(connection, client=client, window=web.scanner_window))
    return web.html("<!doctype html><title>.</title>", headers=NO_STORE)
