"""Bounce and complaint webhooks: Amazon SES through SNS, and Mailgun.

POST only, no cookies, no CSRF (the caller is a machine): each call is believed only once its
signature verifies (`digest.bounces.webhooks`); anything else is refused with a 4xx and
changes nothing. A verified event is recorded once, by the ESP's event id.
"""

from __future__ import annotations


from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from digest.bounces.webhooks import WebhookRefused, apply_event, mailgun_event, ses_event
from digest.web.toolkit import NO_STORE, Web, WebDep

router = APIRouter()
SES_PATH = "/webhooks/ses"
MAILGUN_PATH = "/webhooks/mailgun"


def _answer(text: str, status: int = 200) -> Response:
    return PlainTextResponse(text + "\n", status_code=status, headers=NO_STORE)


@router.post(SES_PATH, summary="Amazon SES bounce and complaint notifications, through SNS (signature verified)")
async def ses(request: Request, web: WebDep) -> Response:
    body = await request.body()
    verifier = request.app.state.sns
    try:
        message = await run_in_threadpool(verifier.verify, body)
        if message["Type"] == "SubscriptionConfirmation":
            await run_in_threadpool(verifier.confirm, message)
            return _answer("subscription confirmed")
        if message["Type"] != "Notification":
            return _answer("ignored")
        parsed = ses_event(message)
    except WebhookRefused as refused:
        return _answer(refused.message, refused.status)
    return await _record(web, parsed)


@router.post(MAILGUN_PATH, summary="Mailgun failed and complained events (HMAC signature verified)")
async def mailgun(request: Request, web: WebDep) -> Response:
    body = await request.body()
    try:
        parsed = mailgun_event(body, web.settings.bounces.mailgun_signing_key)
    except WebhookRefused as refused:
        return _answer(refused.message, refused.status)
    return await _record(web, parsed)


async def _record(web: Web, parsed) -> Response:  # noqa: ANN001
    if parsed is None:
        return _answer("ignored")
    event, reference = parsed
    outcome = await web.store.session(
        lambda session: apply_event(session=session, signer=web.signer, bounces=web.settings.bounces,
                                    event=event, reference=reference), write=True)
    return _answer(outcome)
