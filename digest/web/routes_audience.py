"""Sign-up with double opt-in, confirmation, and RFC 8058 one-click unsubscribe.

A proof's unsubscribe link (signed for `PROOF_SUBSCRIBER_ID`) says what it would do for a
reader and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from digest import votes
from digest.errors import TokenError, ValidationError
from digest.links import CONFIRM_PATH, PROOF_SUBSCRIBER_ID, SUBSCRIBE_PATH, UNSUBSCRIBE_PATH
from digest.ratelimit import hit
from digest.tokens import Purpose
from digest.web import audience
from digest.web.app import NO_STORE, Web, web_of
from digest.web.queries import sent_issues

router = APIRouter()
WebDep = Annotated[Web, Depends(web_of)]
ONE_CLICK = "One-Click"
SIGNUP_PATH = "/subscribe"


@router.get(SUBSCRIBE_PATH, response_class=HTMLResponse, summary="The landing page: pitch, latest issue, sign-up form")
async def landing(request: Request, web: WebDep) -> Response:
    latest = await web.store.read(lambda connection: sent_issues(connection, limit=1))
    return web.form_page(request, "site/landing.html", latest=latest[0] if latest else None)


@router.post(SIGNUP_PATH, response_class=HTMLResponse, summary="Ask for a subscription; a confirmation email follows")
async def subscribe(request: Request, background: BackgroundTasks, web: WebDep,
                    email: Annotated[str | None, Form(max_length=1000)] = None,
                    csrf: Annotated[str | None, Form()] = None) -> Response:
    if not web.csrf_ok(request, csrf):
        return web.csrf_failed()
    key = web.rate_key("signup", web.client(request))
    decision = await web.store.write(lambda connection: hit(connection, key=key, limit=web.settings.web.signup_rate,
                                                            window=3600))
    if not decision.allowed:
        return web.message("Too many sign-ups from here", "Please try again later.", status=429,
                           headers={**NO_STORE, "retry-after": str(decision.retry_after)})
    try:
        request_ = await web.store.session(lambda session: audience.request_signup(session, email=email or ""),
                                           write=True)
    except ValidationError:
        return web.message("That does not look like an email address", "Please check it and try again.",
                           status=400, headers=NO_STORE, link=("/", "Back to the form"))
    if request_.send_confirmation:
        background.add_task(web.mailer, to=request_.email, link=web.confirm_link(request_.subscriber_id))
    # The same answer whether or not the address was known: nothing here tells them apart.
    return web.message("Check your inbox",
                       "If the address can receive the newsletter, a confirmation link is on its way. "
                       "Nothing arrives until you click it.", headers=NO_STORE)


@router.get(CONFIRM_PATH, response_class=HTMLResponse, summary="Show the confirm button of a confirmation link")
async def confirm_page(token: str, request: Request, web: WebDep) -> Response:
    try:
        web.signer.verify(token, purpose=Purpose.CONFIRM)
    except TokenError as exc:
        return web.token_error(exc)
    return web.form_page(request, "site/confirm.html", headers=NO_STORE, action=CONFIRM_PATH.format(token=token))


@router.post(CONFIRM_PATH, response_class=HTMLResponse, summary="Confirm a subscription")
async def confirm(token: str, request: Request, web: WebDep,
                  csrf: Annotated[str | None, Form()] = None) -> Response:
    from datetime import UTC, datetime

    try:
        claims = web.signer.verify(token, purpose=Purpose.CONFIRM)
    except TokenError as exc:
        return web.token_error(exc)
    if not web.csrf_ok(request, csrf):
        return web.csrf_failed()
    client = web.client(request)
    requested_at = datetime.fromtimestamp(claims.subject_id * 60, UTC)

    def act(session):  # noqa: ANN001, ANN202
        connection = session.connection()
        if votes.is_scanner(connection, client=client):
            votes.discard(connection, kind="confirm", client=client, subscriber_id=claims.subscriber_id)
            return audience.ConfirmOutcome.CONFIRMED
        return audience.confirm(session, subscriber_id=claims.subscriber_id, requested_at=requested_at)

    outcome = await web.store.session(act, write=True)
    if outcome is audience.ConfirmOutcome.STALE:
        return web.message("This link has been used up", "You unsubscribed after asking for it. "
                           "To come back, sign up again and use the new link.", status=400, headers=NO_STORE,
                           link=("/", "Sign up again"))
    if outcome is audience.ConfirmOutcome.MISSING:
        return web.message("This link no longer works", "Please sign up again.", status=400, headers=NO_STORE,
                           link=("/", "Sign up again"))
    return web.message("You are subscribed", "The next issue will be in your inbox. Welcome aboard.",
                       headers=NO_STORE, link=("/issues/", "Read the past issues"))


@router.get(UNSUBSCRIBE_PATH, response_class=HTMLResponse, summary="Show the unsubscribe button")
async def unsubscribe_page(token: str, request: Request, web: WebDep) -> Response:
    try:
        claims = web.signer.verify(token, purpose=Purpose.UNSUBSCRIBE)
    except TokenError as exc:
        return web.token_error(exc)
    if claims.subscriber_id == PROOF_SUBSCRIBER_ID:
        return _proof(web)
    return web.form_page(request, "site/unsubscribe.html", headers=NO_STORE,
                         action=UNSUBSCRIBE_PATH.format(token=token))


@router.post(UNSUBSCRIBE_PATH, response_class=HTMLResponse,
             summary="Unsubscribe at once (RFC 8058 one-click, or the page's button)")
async def unsubscribe(token: str, request: Request, web: WebDep,
                      list_unsubscribe: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
                      csrf: Annotated[str | None, Form()] = None) -> Response:
    try:
        claims = web.signer.verify(token, purpose=Purpose.UNSUBSCRIBE)
    except TokenError as exc:
        return web.token_error(exc)
    if claims.subscriber_id == PROOF_SUBSCRIBER_ID:
        return _proof(web)
    # A mail provider's one-click POST carries no cookie: the body itself is the intent,
    # and the signed link is the authority. The page's button is a form like any other.
    one_click = list_unsubscribe == ONE_CLICK
    if not one_click and not web.csrf_ok(request, csrf):
        return web.csrf_failed()
    client = web.client(request)

    def act(session) -> None:  # noqa: ANN001
        connection = session.connection()
        if votes.is_scanner(connection, client=client):
            votes.discard(connection, kind="unsubscribe", client=client, subscriber_id=claims.subscriber_id,
                          detail="one-click" if one_click else "button")
            return
        audience.unsubscribe(session, subscriber_id=claims.subscriber_id)

    await web.store.session(act, write=True)
    return web.message("You are unsubscribed", "No more issues will arrive. Sorry to see you go.",
                       headers=NO_STORE, link=("/", "Changed your mind? Subscribe again"))


def _proof(web: Web) -> Response:
    return web.message("This is a proof", "In a reader's email this link unsubscribes them at once, with one click "
                       "(their mail program may offer it too).",
                       "The links in a proof belong to no reader, so nothing changed.", headers=NO_STORE)
