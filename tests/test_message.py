"""Messages from rendered parts: valid MIME under the strict parser, links filled, lines short."""

from __future__ import annotations

import email
from email.policy import strict

import pytest

from digest.errors import DeliveryError
from digest.links import Placeholders, Personaliser

PLACEHOLDERS = Placeholders.fresh()
placeholder, vote_placeholder = PLACEHOLDERS, PLACEHOLDERS.vote
from digest.message import DkimSigner, MessageTemplate, message_id_for
from digest.tokens import Purpose, Signer

BASE = "https://news.example.org"


def template(html: str, text: str, **kwargs) -> MessageTemplate:
    return MessageTemplate(subject=kwargs.pop("subject", "Patchwise vs Lintern — who ships?"),
                           sender="Weekly AI Tool Verdicts <verdicts@example.org>",
                           html_body=html, text_body=text, list_id="Weekly AI Tool Verdicts <verdicts.example.org>",
                           unsubscribe_mailto="verdicts@example.org?subject=unsubscribe",
                           placeholders=kwargs.pop("placeholders", PLACEHOLDERS), **kwargs)


def values(subscriber_id: int = 5, email_address: str = "ann@example.com") -> dict[str, str]:
    return Personaliser(base_url=BASE, signer=Signer("k"), issue_number=3,
                        comparison_ids=[12]).values(subscriber_id, email_address)


HTML = ("<!doctype html><html lang=\"en\"><body>" + "<p>Filler words for a long line.</p>" * 80
        + f'<a href="{vote_placeholder(12, "a")}">Vote A</a><a href="{vote_placeholder(12, "b")}">Vote B</a>'
        + f'<p>Sent to {placeholder("email")}</p><a href="{placeholder("unsubscribe")}">Unsubscribe</a></body></html>')
TEXT = f"Café ☕ verdicts\n\nVote A: {vote_placeholder(12, 'a')}\nUnsubscribe: {placeholder('unsubscribe')}\n"


def test_personalised_message_parses_strictly_with_every_header() -> None:
    raw = template(HTML, TEXT).personalise(to="ann@example.com", values=values(),
                                           message_id=message_id_for(issue_number=3, delivery_id=9, domain="example.org"))
    message = email.message_from_bytes(raw, policy=strict)
    for header in ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
                   "List-Unsubscribe-Post", "MIME-Version"):
        assert message[header], header
    assert message["Subject"] == "Patchwise vs Lintern — who ships?"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = values()["unsubscribe"]
    assert f"<{unsubscribe}>" in message["List-Unsubscribe"] and "mailto:" in message["List-Unsubscribe"]
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()
    assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    assert "Café ☕" in text_part.get_content()
    body = html_part.get_content()
    assert values()["vote_12_a"] in body and values()["vote_12_b"] in body and unsubscribe in body
    assert "__digest_" not in raw.decode("utf-8")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_values_are_escaped_in_html_only() -> None:
    odd = values(email_address='o"brien&co@example.com')
    raw = template(HTML, TEXT + "You are " + placeholder("email") + "\n").personalise(
        to="x@example.com", values=odd, message_id="m@example.org")
    message = email.message_from_bytes(raw, policy=strict)
    text_part, html_part = message.get_payload()
    assert 'o"brien&co@example.com' in text_part.get_content()
    assert "o&quot;brien&amp;co@example.com" in html_part.get_content()


def test_each_subscriber_gets_their_own_verifiable_links() -> None:
    made = template(HTML, TEXT)
    first = made.personalise(to="a@example.com", values=values(1), message_id="1@x")
    second = made.personalise(to="b@example.com", values=values(2), message_id="2@x")
    assert first != second
    signer = Signer("k")
    token = values(2)["unsubscribe"].rsplit("/", 1)[1]
    assert token.encode() in second and signer.verify(token, purpose=Purpose.UNSUBSCRIBE).subscriber_id == 2


def test_missing_value_is_an_error() -> None:
    with pytest.raises(DeliveryError, match="vote_12_a"):
        template(HTML, TEXT).personalise(to="a@example.com", values={"unsubscribe": "u", "email": "e"},
                                         message_id="1@x")


def test_unfoldable_part_falls_back_to_base64() -> None:
    html = "<p>" + "x" * 5000 + f'</p><a href="{placeholder("unsubscribe")}">u</a>'
    raw = template(html, TEXT).personalise(to="a@example.com", values=values(), message_id="1@x")
    message = email.message_from_bytes(raw, policy=strict)
    html_part = message.get_payload()[1]
    assert html_part["Content-Transfer-Encoding"] == "base64"
    assert values()["unsubscribe"] in html_part.get_content()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_message_id_is_stable_per_delivery() -> None:
    assert message_id_for(issue_number=1, delivery_id=2, domain="d") == message_id_for(issue_number=1, delivery_id=2, domain="d")
    assert message_id_for(issue_number=1, delivery_id=2, domain="d") != message_id_for(issue_number=1, delivery_id=3, domain="d")


def test_dkim_signature_verifies() -> None:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    raw = template(HTML, TEXT).personalise(to="a@example.com", values=values(), message_id="1@x")
    signed = DkimSigner(domain="example.org", selector="news", private_key=private).sign(raw)
    assert signed.startswith(b"DKIM-Signature:")
    assert dkim.verify(signed, dnsfunc=lambda name, timeout=5: record if name == b"news._domainkey.example.org." else None)


def test_dot_safety_is_known_at_build_time() -> None:
    assert template(HTML, TEXT).dot_safe
    assert not template(HTML, TEXT + ".a line that starts with a dot\n").dot_safe
    starts_with_link = template(HTML, f"{placeholder('web')}\n{placeholder('unsubscribe')}\n")
    assert starts_with_link.dot_safe
    with pytest.raises(DeliveryError, match="start a line with a dot"):
        starts_with_link.personalise(to="a@example.com", values={**values(), "web": ".odd"}, message_id="1@x")
