"""`digest issue report N`: how an issue did, on real parts.

Issue 1 goes out through a real aiosmtpd sink, bounces and a complaint come back through a
real Maildir read by `digest bounces`, readers vote and unsubscribe through the library the
web app uses (one vote from a marked scanner is set aside), people sign up during the week,
then issue 2 goes out. The report shows what a reader of it would check.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from lxml import etree, html as lxml_html

import bounce_corpus as corpus
from bounce_helpers import RETURN_PATH, configure, drop, make_maildir, send_issue
from delivery_helpers import add_subscribers
from digest.db import session_scope
from digest.models import Issue, IssueComparison
from digest.data.votes import cast_vote, mark_scanner
from digest.web.subscription import unsubscribe

READERS = [f"reader{i}@reader.example" for i in range(1, 7)]
SCANNER = "198.51.100.7"


def _id(engine, email: str) -> int:
    from digest.subscribers import get_subscriber

    with session_scope(engine) as session:
        return get_subscriber(session, email).id


def _comparison(engine, number: int) -> int:
    from sqlmodel import select

    with session_scope(engine) as session:
        return session.exec(select(IssueComparison.comparison_id).join(Issue, Issue.id == IssueComparison.issue_id)
                            .where(Issue.number == number)).first()


def _vote(engine, email: str, comparison: int, choice: str, *, client: str = "203.0.113.5") -> bool:
    from datetime import timedelta

    with session_scope(engine, write=True) as session:
        connection = session.connection()
        if client == SCANNER:
            mark_scanner(connection, client=SCANNER, window=timedelta(hours=1))
        return cast_vote(connection, client=client, subscriber_id=_id(engine, email), comparison_id=comparison,
                         choice=choice)


def _leave(engine, email: str) -> None:
    with session_scope(engine, write=True) as session:
        unsubscribe(session, subscriber_id=_id(engine, email))


@pytest.fixture
def week(cli, home: Path, engine) -> Path:
    """Issue 1 sent, bounced, voted on and left; sign-ups; then issue 2 sent and one more leaves."""
    maildir = make_maildir(home / "bounces")
    configure(home, f'[bounces]\nreturn_path = "{RETURN_PATH}"\nmaildir = "bounces"\nsoft_limit = 2')
    sent = send_issue(home, engine, READERS)
    drop(maildir, corpus.postfix_dsn(sent[READERS[0]]))
    drop(maildir, corpus.postfix_dsn(sent[READERS[1]], status="4.2.2", serial="5AbC2"))
    drop(maildir, corpus.yahoo_arf(sent[READERS[2]]))
    assert cli("bounces").exit_code == 0

    comparison = _comparison(engine, 1)
    assert _vote(engine, READERS[3], comparison, "a")
    assert _vote(engine, READERS[4], comparison, "a")
    assert _vote(engine, READERS[5], comparison, "b")
    assert not _vote(engine, READERS[1], comparison, "b", client=SCANNER)
    _leave(engine, READERS[3])
    add_subscribers(engine, ["new1@reader.example", "new2@reader.example"])
    send_issue(home, engine, [], number=2)
    _leave(engine, READERS[4])
    add_subscribers(engine, ["new3@reader.example"])
    return maildir


def _json(cli, *args: str) -> dict:
    result = cli("issue", "report", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_report_shows_what_the_issue_did(cli, week) -> None:
    report = _json(cli, "1")
    one = report["issue"]
    assert (one["number"], one["status"], one["sent"]) == (1, "sent", True)
    assert (one["queued"], one["delivered"], one["waiting"], one["failed"]) == (6, 6, 0, 0)
    assert (one["hard_bounces"], one["soft_bounces"], one["complaints"]) == (1, 1, 1)
    assert one["unsubscribes"] == 1  # reader4 left after issue 1; reader5 after issue 2 counts there
    assert one["signups"] == 2
    assert one["losses"] == 3
    assert one["bounce_reasons"] == {"5.1.1 no such mailbox": 1, "4.2.2 mailbox full": 1}
    [votes] = one["votes"]
    assert (votes["tool_a"], votes["votes_a"], votes["tool_b"], votes["votes_b"]) == ("Tool 0A", 2, "Tool 0B", 1)
    assert (votes["counted"], votes["set_aside"], votes["set_aside_share"]) == (3, 1, 0.25)
    assert report["previous"] == []


def test_the_previous_issues_stand_beside_it(cli, week) -> None:
    report = _json(cli, "2")
    two, [one] = report["issue"], report["previous"]
    assert one["number"] == 1 and one["complaints"] == 1
    # issue 2 went to the readers still on the list: not the bounced, complained or departed ones
    assert (two["queued"], two["delivered"]) == (5, 5)
    assert (two["unsubscribes"], two["signups"], two["hard_bounces"]) == (1, 1, 0)
    assert set(two) == set(one)
    text = cli("issue", "report", "2")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert lines[0].startswith("issue 2:")
    assert re.search(r"#1\s+#2$", lines[1])
    row = next(line for line in lines if line.startswith("complaints"))
    assert row.split()[-2:] == ["1", "0"]
    assert any("Tool 0A 0, Tool 0B 0" in line for line in lines)


def test_html_report_is_one_offline_page_with_charts(cli, home, week) -> None:
    target = home / "out" / "report-1.html"
    result = cli("issue", "report", "1", "--html", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert str(target) in result.stdout
    text = target.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    etree.fromstring(text.removeprefix("<!DOCTYPE html>").encode())  # well-formed: it parses as strict XML
    page = lxml_html.fromstring(text)
    assert page.findtext(".//title") == "Issue 1: how it did"
    svgs = page.findall(".//svg")
    assert len(svgs) == 3
    labels = [t.text_content() for t in page.findall(".//svg//text")]
    assert {"Tool 0A", "Tool 0B", "#1 sign-ups", "#1 losses", "5.1.1 no such mailbox",
            "complaint (marked as spam)"} <= set(labels)
    assert all(len(svg.findall(".//rect")) >= 2 for svg in svgs)
    # nothing fetched: no script, no stylesheet link, no image, no URL anywhere
    assert page.findall(".//script") == page.findall(".//link") == page.findall(".//img") == []
    assert not re.search(r"https?://|//[a-z]", text, flags=re.IGNORECASE)
    default = cli("issue", "report", "1", "--html")
    assert default.exit_code == 0, default.output
    assert (home / "outbox" / "1" / "report.html").is_file()


def test_names_are_text_in_the_page_never_markup(cli, home, engine, week) -> None:
    from digest.models import Tool
    from sqlmodel import select

    with session_scope(engine, write=True) as session:
        tool = session.exec(select(Tool).where(Tool.slug == "tool-1-0-a")).one()
        tool.name = '<script>alert(1)</script><img src="http://evil.example/x">'
        session.add(tool)
    target = home / "r.html"
    assert cli("issue", "report", "1", "--html", "--output", str(target)).exit_code == 0
    page = lxml_html.fromstring(target.read_text(encoding="utf-8"))
    assert page.findall(".//script") == page.findall(".//img") == []
    assert '<script>alert(1)</script><img src="http://evil.example/x">' in page.text_content()


def test_a_draft_issue_reports_zeros_and_says_why(cli, home, engine) -> None:
    from delivery_helpers import make_ready_issue
    from digest.config import load_settings

    make_ready_issue(engine, load_settings(home), number=1)
    report = _json(cli, "1")["issue"]
    assert (report["status"], report["sent"], report["queued"], report["delivered"]) == ("draft", False, 0, 0)
    assert report["votes"][0]["counted"] == 0
    text = cli("issue", "report", "1")
    assert text.exit_code == 0 and "not sent yet" in text.stdout
    target = home / "draft.html"
    assert cli("issue", "report", "1", "--html", "--output", str(target)).exit_code == 0
    page = lxml_html.fromstring(target.read_text(encoding="utf-8"))
    assert "nothing has been sent yet" in page.text_content()
    assert "No issue has gone out yet." in page.text_content()


@pytest.mark.parametrize(("args", "says"), [
    (["7"], "no issue 7"), (["abc"], "'abc' is not a number"), (["0"], "'0' is not a number"),
    (["1", "--output", "x.html"], "--output goes with --html"), (["1", "--previous", "-1"], "--previous"),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, says) -> None:
    result = cli("issue", "report", *args)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error:") and says in line


GOLDEN = Path(__file__).with_name("golden") / "issue-report.json"
QUEUED_AT = re.compile(r'"queued_at": "[^"]+"|Queued \d{4}-\d\d-\d\d \d\d:\d\d UTC')


def test_every_option_prints_what_the_orm_version_printed(cli, home, week) -> None:
    """`digest issue report` (plain, --json, --previous, --html) of a sent issue, the one after
    it and a draft: the same output, byte for byte, as when it read through SQLModel (recorded
    from that version, on both backends; the queue times' digits, which are the clock's, masked).
    UPDATE_GOLDEN=1 rewrites the file on purpose."""
    assert cli("issue", "new", "--subject", "Next week").exit_code == 0
    printed = {}
    for args in (("1",), ("2",), ("3",), ("1", "--json"), ("2", "--json"), ("3", "--json"),
                 ("2", "--previous", "0", "--json"), ("3", "--previous", "1"), ("3", "--previous", "0")):
        result = cli("issue", "report", *args)
        assert result.exit_code == 0, result.output
        printed[" ".join(("issue report", *args))] = QUEUED_AT.sub(lambda m: re.sub(r"\d", "N", m[0]), result.stdout)
    for number in ("1", "3"):
        target = home / f"report-{number}.html"
        assert cli("issue", "report", number, "--html", "--output", str(target)).exit_code == 0
        printed[f"issue report {number} --html"] = QUEUED_AT.sub(lambda m: re.sub(r"\d", "N", m[0]),
                                                                 target.read_text(encoding="utf-8"))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(printed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert printed == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_read_model_names_the_models_values() -> None:
    """digest.data.issue_figures and digest.report compare statuses and kinds as text, without
    importing the models: these are the models' values."""
    from digest.data import issue_figures
    from digest.models import BounceKind, DeliveryStatus, SubscriberStatus

    assert (issue_figures.SENT, issue_figures.UNSUBSCRIBED) == (DeliveryStatus.SENT, SubscriberStatus.UNSUBSCRIBED)
    assert {"sent", "queued", "failed", "skipped"} == {s.value for s in DeliveryStatus}
    assert {"hard", "soft", "complaint"} <= {k.value for k in BounceKind}
