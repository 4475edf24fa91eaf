"""Signed tokens: what verifies, and every way a link can be forged or misused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from digest.errors import TokenError
from digest.tokens import Purpose, Signer

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_round_trip_carries_ids_not_the_address() -> None:
    signer = Signer("secret")
    token = signer.sign(Purpose.VOTE, 42, subject_id=7, choice="b", now=NOW)
    claims = signer.verify(token, purpose=Purpose.VOTE, now=NOW)
    assert (claims.subscriber_id, claims.subject_id, claims.choice) == (42, 7, "b")
    assert len(token) == 36 and "@" not in base64.urlsafe_b64decode(token + "===").decode("latin-1")


def test_altered_token_is_refused() -> None:
    signer = Signer("secret")
    token = signer.sign(Purpose.UNSUBSCRIBE, 1)
    raw = bytearray(base64.urlsafe_b64decode(token + "==="))
    raw[5] ^= 1  # another subscriber id
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(TokenError) as raised:
        signer.verify(forged, purpose=Purpose.UNSUBSCRIBE)
    assert raised.value.reason == "invalid"


@pytest.mark.parametrize("garbage", ["", "abc", "!!!!", "A" * 36, "A" * 200])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(TokenError):
        Signer("secret").verify(garbage, purpose=Purpose.VOTE)


def test_other_secret_is_refused() -> None:
    token = Signer("one").sign(Purpose.VOTE, 1)
    with pytest.raises(TokenError, match="not valid"):
        Signer("two").verify(token, purpose=Purpose.VOTE)


def test_wrong_purpose_is_refused() -> None:
    signer = Signer("secret")
    token = signer.sign(Purpose.CONFIRM, 1, now=NOW)
    with pytest.raises(TokenError) as raised:
        signer.verify(token, purpose=Purpose.UNSUBSCRIBE, now=NOW)
    assert raised.value.reason == "wrong-purpose"


def test_expiry() -> None:
    signer = Signer("secret")
    token = signer.sign(Purpose.CONFIRM, 1, now=NOW)
    assert signer.verify(token, purpose=Purpose.CONFIRM, now=NOW + timedelta(days=6)).subscriber_id == 1
    with pytest.raises(TokenError) as raised:
        signer.verify(token, purpose=Purpose.CONFIRM, now=NOW + timedelta(days=8))
    assert raised.value.reason == "expired"


def test_unsubscribe_links_never_expire() -> None:
    signer = Signer("secret")
    token = signer.sign(Purpose.UNSUBSCRIBE, 9, now=NOW)
    assert signer.verify(token, purpose=Purpose.UNSUBSCRIBE, now=NOW + timedelta(days=3650)).expires_at is None


def test_no_secret_is_an_error() -> None:
    with pytest.raises(TokenError):
        Signer("")


def test_vote_links_share_one_signature_per_subscriber_and_issue() -> None:
    signer = Signer("secret")
    signed = signer.vote_token(42, 3, now=NOW)
    claims = signer.verify_vote(f"{signed}.12b", now=NOW)
    assert (claims.subscriber_id, claims.issue_number, claims.comparison_id, claims.choice) == (42, 3, 12, "b")


@pytest.mark.parametrize("suffix", ["", ".", ".12", ".12c", ".x1a", ".123456789012a", ".-1a"])
def test_malformed_vote_targets_are_refused(suffix: str) -> None:
    signer = Signer("secret")
    with pytest.raises(TokenError):
        signer.verify_vote(signer.vote_token(1, 1) + suffix)


def test_vote_signature_cannot_be_moved_to_another_subscriber() -> None:
    signer = Signer("secret")
    other = signer.sign(Purpose.UNSUBSCRIBE, 42)
    with pytest.raises(TokenError):
        signer.verify_vote(other + ".1a")
