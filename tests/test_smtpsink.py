"""The loopback sink: the whole-DATA reader (for benchmarks) gets what aiosmtpd's own gets."""

from __future__ import annotations

import smtplib

import pytest

from digest.smtpsink import start_sink

BODIES = [
    b"Subject: plain\r\n\r\nhello\r\n",
    b"Subject: dots\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nafter a lone dot\r\nend.\r\n",
    b"Subject: big\r\n\r\n" + b"".join(b"%06d " % i + b"x" * 70 + b"\r\n" for i in range(3000)),  # ~230 KB
    b"Subject: x\r\n\r\n",
]


@pytest.mark.parametrize("whole_data", [False, True])
def test_messages_arrive_byte_for_byte(whole_data: bool) -> None:
    with start_sink(whole_data=whole_data) as sink:
        client = smtplib.SMTP("127.0.0.1", sink.port)
        for body in BODIES:
            client.sendmail("a@example.com", ["b@example.com"], body)
        client.quit()
        assert sink.wait_for(len(BODIES))
        assert [m.data for m in sink.messages] == BODIES
        assert sink.messages[0].recipients == ("b@example.com",)
