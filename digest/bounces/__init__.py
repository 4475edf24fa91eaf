"""Bounces and complaints coming back: the return mailbox and ESP webhooks.

    parse     what a message is (RFC 3464 DSN, RFC 5965 ARF, flufl.bounce for the rest)
    match     which delivery it is about, from the signed tag digest put in the message
    record    recording an event once and what it does to the reader
    mailbox   the Maildir and IMAP sources
    run       `digest bounces`: one read of the mailbox
    webhooks  Amazon SES (through SNS, signature verified) and Mailgun (HMAC) events
"""

from digest.bounces.record import Event, record_event
from digest.bounces.run import BounceReport, event_from_message, read_bounces

__all__ = ["BounceReport", "Event", "event_from_message", "read_bounces", "record_event"]
