"""Sign-up with double opt-in, confirmation, and RFC 8058 one-click unsubscribe.

A proof's unsubscribe link (signed for `PROOF_SUBSCRIBER_ID`) says what it would do for a
reader and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from digest.errors import ValidationError
from digest.links import CONFIRM_PATH, SUBSCRIBE_PATH, UNSUBSCRIBE_PATH
from digest.ratelimit import hit
from digest.web import subscription
from digest.web.toolkit import NO_STORE, ConfirmLink, UnsubscribeLink, Web, WebDep
from digest.web.issue_page import recorded_entries
from digest.web.queries import sent_issues

router = APIRouter()
ONE_CLICK = "One-Click"
SIGNUP_PATH = "/subscribe"


@router.get(SUBSCRIBE_PATH, response_class=HTMLResponse, summary="The landing page: pitch, latest issue, sign-up form")
async def landing(request: Request, web: WebDep) -> Response:
    latest = await web.store.read(lambda connection: recorded_entries(web.settings, sent_issues(connection, limit=1)))
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
        request_ = await web.store.session(lambda session: subscription.request_signup(session, email=email or ""),
                                           write=True)
    except ValidationError:
        return web.message("That does not look like an email address", "Please check it and try again.",
                           status=400, headers=NO_STORE, link=("/", "Back to the form"))
    if request_.send_confirmation:
        background.add_task(web.mailer, to=request_.email, link=web.confirm_link(request_.subscriber_id),
                            unsubscribe=web.unsubscribe_link(request_.subscriber_id))
    # The same answer whether or not the address was known: nothing here tells them apart.
    # It is true either way: an active address gets no link and stays as it is.
    return web.message("Check your inbox",
                       "Unless this address is subscribed already, we are sending it a confirmation link; "
                       "no issue arrives until you click it. If it is subscribed already, nothing changes.",
                       headers=NO_STORE)


@router.get(CONFIRM_PATH, response_class=HTMLResponse, summary="Show the confirm button of a confirmation link")
async def confirm_page(link: ConfirmLink, request: Request, web: WebDep) -> Response:
    return web.form_page(request, "site/confirm.html", headers=NO_STORE, action=CONFIRM_PATH.format(token=link.token))


@router.post(CONFIRM_PATH, response_class=HTMLResponse, summary="Confirm a subscription")
async def confirm(link: ConfirmLink, request: Request, web: WebDep,
                  csrf: Annotated[str | None, Form()] = None) -> Response:
    from datetime import UTC, datetime

    claims = link.claims
    if not web.csrf_ok(request, csrf):
        return web.csrf_failed()
    client = web.client(request)
    requested_at = datetime.fromtimestamp(claims.subject_id * 60, UTC)

    outcome = await web.store.session(
        lambda session: subscription.confirm(session, subscriber_id=claims.subscriber_id, requested_at=requested_at,
                                         client=client), write=True)
    return _confirmed(web, outcome)


def _confirmed(web: Web, outcome: subscription.ConfirmOutcome) -> Response:
    """The page for what the confirmation did; each says only what happened."""
    Outcome = subscription.ConfirmOutcome
    if outcome is Outcome.STALE:
        return web.message("This link has been used up", "The address left the list after this link was sent, "
                           "so it no longer confirms anything: you are not subscribed.",
                           "To come back, sign up again and use the new link.", status=400, headers=NO_STORE,
                           link=("/", "Sign up again"))
    if outcome is Outcome.MISSING:
        return web.message("This link no longer works", "The sign-up it confirms is no longer on record, "
                           "so nothing changed. Please sign up again.", status=400, headers=NO_STORE,
                           link=("/", "Sign up again"))
    if outcome is Outcome.SET_ASIDE:
        return web.message("Not confirmed yet", "This click came from a network address that recently opened "
                           "links automatically, as mail scanners do, so it was kept for the editor to review "
                           "instead of being carried out. You are not subscribed yet.",
                           "Please try the link again later, or from another network.", status=202,
                           headers=NO_STORE)
    if outcome is Outcome.ALREADY:
        return web.message("You are subscribed", "You had confirmed already: nothing changed. "
                           "The next issue will be in your inbox.", headers=NO_STORE,
                           link=("/issues/", "Read the past issues"))
    return web.message("You are subscribed", "The next issue will be in your inbox. Welcome aboard.",
                       headers=NO_STORE, link=("/issues/", "Read the past issues"))


@router.get(UNSUBSCRIBE_PATH, response_class=HTMLResponse, summary="Show the unsubscribe button")
async def unsubscribe_page(link: UnsubscribeLink, request: Request, web: WebDep) -> Response:
    if link.proof:
        return _proof(web)
    # The packaged page's button posts the one-click body itself, so leaving needs no cookie and
    # no script; the form token is still offered to a folder's own older template that posts it.
    return web.form_page(request, "site/unsubscribe.html", headers=NO_STORE,
                         action=UNSUBSCRIBE_PATH.format(token=link.token))


@router.post(UNSUBSCRIBE_PATH, response_class=HTMLResponse,
             summary="Unsubscribe at once (RFC 8058 one-click, or the page's button)")
async def unsubscribe(link: UnsubscribeLink, request: Request, web: WebDep,
                      list_unsubscribe: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
                      csrf: Annotated[str | None, Form()] = None) -> Response:
    """Leaving always works: the signed link is the authority and the one-click body the intent
    (RFC 8058), so no cookie, script, scanner mark or rate limit stands in the way. A POST with
    neither that body nor a form token (from a page of an older version) changes nothing."""
    if link.proof:
        return _proof(web)
    if list_unsubscribe != ONE_CLICK and not web.csrf_ok(request, csrf):
        return web.message("Nothing changed", "This request did not say it was an unsubscribe "
                           "(RFC 8058 asks for the body List-Unsubscribe=One-Click).",
                           "Open the link from the email and press the button.", status=403, headers=NO_STORE)
    outcome = await web.store.session(
        lambda session: subscription.unsubscribe(session, subscriber_id=link.claims.subscriber_id), write=True)
    return _unsubscribed(web, outcome)


def _unsubscribed(web: Web, outcome: subscription.UnsubscribeOutcome) -> Response:
    """The page for what the unsubscribe did; each says only what happened."""
    Outcome = subscription.UnsubscribeOutcome
    again = ("/", "Changed your mind? Subscribe again")
    if outcome is Outcome.MISSING:
        return web.message("This link no longer works", "The subscriber it was made for is no longer on the list, "
                           "so there was nothing to unsubscribe.", status=404, headers=NO_STORE)
    if outcome is Outcome.ALREADY:
        return web.message("You are unsubscribed", "You had already left this list: nothing changed, "
                           "and no issues will arrive.", headers=NO_STORE, link=again)
    if outcome is Outcome.CANCELLED:
        return web.message("Sign-up cancelled", "This address will not be subscribed and will get no issues; "
                           "the confirmation link no longer works.", headers=NO_STORE, link=again)
    return web.message("You are unsubscribed", "No more issues will be sent to you (one already on its way "
                       "may still arrive). Sorry to see you go.", headers=NO_STORE, link=again)


def _proof(web: Web) -> Response:
    return web.message("This is a proof", "In a reader's email this link unsubscribes them at once, with one click "
                       "(their mail program may offer it too).",
                       "The links in a proof belong to no reader, so nothing changed.", headers=NO_STORE)
