"""The view model: figures from the panel math, labels, bars, links per medium (email or web), DB loading."""

from __future__ import annotations

import dataclasses
import email
from email.policy import default as default_policy
from pathlib import Path

import httpx
import pytest
from render_helpers import make_settings

from digest import links
from digest.db import session_scope
from digest.errors import ConfigError, NotFoundError, RenderError, UsageError
from digest.preview import PreviewServer, has_display, open_in_browser
from digest.render import OUTPUT_FILES, render_to_outbox
from digest.demo.sample import add_sample_issue, sample_issue_data
from digest.view import (EMAIL, WEB, IssueData, PreviousIssueData, build_view, load_issue_data, quotes_to_web,
                         read_issue_data, view_from_data)


@pytest.fixture
def loose(tmp_path: Path):
    return make_settings(tmp_path)


def test_figures_labels_and_bars_come_from_the_panel_math(loose) -> None:
    view = view_from_data(sample_issue_data(), settings=loose)
    first, second, third = view.comparisons
    assert (first.a.ship, first.b.ship, first.verdict) == ("100%", "50%", "a")
    assert first.a.leads and not first.b.leads
    assert first.a.ships == "4 of 4 reviewers ship it"
    bar_a, bar_b = first.panel_bars
    assert (bar_a.fill, bar_a.rest, bar_a.text) == ("100%", None, "[" + "#" * 20 + "] 100%")
    assert (bar_b.fill, bar_b.rest, bar_b.text) == ("50%", "50%", "[" + "#" * 10 + "-" * 10 + "]  50%")
    assert [b.figure for b in first.community_bars] == ["64%", "36%"]
    assert second.verdict_headline == "Split decision" and second.a.ship == second.b.ship == "50%"
    assert third.community_bars is None and third.community_note.startswith("No reader votes yet")
    assert [r.stance_label for r in first.rows] == ["Ships both", "Ships Patchwise, skips Lintern",
                                                    "Ships both", "Ships Patchwise, skips Lintern"]
    assert first.rows[0].remit.startswith("developer experience")
    assert view.ready and view.warnings == ()
    assert view.kicker == "Issue 1 · 3 June 2025"


def test_email_view_links_are_placeholders_and_web_view_has_none(loose) -> None:
    data = sample_issue_data()
    email_view = view_from_data(data, settings=loose, medium=EMAIL)
    web_view = view_from_data(data, settings=loose, medium=WEB)
    assert email_view.comparisons[0].a.vote_url == email_view.placeholders.vote(1, "a")
    assert email_view.links.unsubscribe == email_view.placeholders("unsubscribe")
    assert email_view.links.canary == links.canary_url(loose.base_url, 1)
    assert "__digest_" not in repr(web_view)
    assert web_view.links.canary is None and web_view.comparisons[0].a.vote_url is None
    assert web_view.comparisons[0].scorecard_url == links.issue_url(loose.base_url, 1) + "#c1"


def test_quotes_move_to_the_web_from_the_last_comparison(loose) -> None:
    view = view_from_data(sample_issue_data(), settings=loose)
    assert [c.quotes_on_web for c in quotes_to_web(view, keep=1).comparisons] == [False, True, True]
    assert not quotes_to_web(view, keep=3).trimmed


def test_empty_issue_is_not_ready(loose) -> None:
    data = dataclasses.replace(sample_issue_data(), comparisons=())
    view = view_from_data(data, settings=loose)
    assert not view.ready and view.warnings == ("the issue has no comparison yet",)


def test_loading_from_the_database_gives_back_the_same_issue(engine, settings) -> None:
    data = sample_issue_data()
    with session_scope(engine, write=True) as session:
        number = add_sample_issue(session=session, data=data)
    with session_scope(engine) as session:
        loaded = load_issue_data(session=session, settings=settings, issue_number=number)
        view = build_view(session=session, settings=settings, issue_number=number)
    assert [c.title for c in loaded.comparisons] == [c.title for c in data.comparisons]
    for got, want in zip(loaded.comparisons, data.comparisons):
        assert (got.a.name, got.b.name, got.votes_a, got.votes_b) == (want.a.name, want.b.name, want.votes_a, want.votes_b)
        assert sorted((r.reviewer, r.side, r.verdict, r.quote) for r in got.reviews) == \
            sorted((r.reviewer, r.side, r.verdict, r.quote) for r in want.reviews)
    assert view.ready and view.comparisons[0].a.community == "64%"
    with session_scope(engine) as session, pytest.raises(NotFoundError, match="no issue 99"):
        load_issue_data(session=session, settings=settings, issue_number=99)


def test_render_reads_the_same_issue_as_the_orm_and_renders_the_same_parts(engine, settings) -> None:
    """`digest issue render` reads through digest.data (`read_issue_data`, no ORM): the same
    IssueData as the ORM loader, hence the same MJML, HTML, text and web page, for a sent issue,
    a partly reviewed draft with last week's votes, and an empty draft."""
    from digest.data.engine import connect
    from digest.render import Renderer

    sent = dataclasses.replace(sample_issue_data(number=1), status="sent")
    draft = sample_issue_data(number=2, votes=False, reviewers=("builder", "skeptic", "buyer", "futurist", "gone"))
    partial = dataclasses.replace(draft, comparisons=tuple(dataclasses.replace(c, reviews=c.reviews[i:])
                                                           for i, c in enumerate(draft.comparisons)))
    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session, data=sent)
        add_sample_issue(session=session, data=partial)
        add_sample_issue(session=session, data=dataclasses.replace(sample_issue_data(number=3), comparisons=()))
    renderer = Renderer(settings)
    placeholders = links.Placeholders("0" * 32)

    def parts(data: IssueData) -> tuple:
        rendered = renderer.render(view_from_data(data, settings=settings, medium=EMAIL, placeholders=placeholders),
                                   view_from_data(data, settings=settings, medium=WEB))
        return rendered.mjml, rendered.html, rendered.text, rendered.web, rendered.warnings, rendered.html_size

    read = {}
    for number in (1, 2, 3):
        with session_scope(engine) as session:
            orm = load_issue_data(session=session, settings=settings, issue_number=number)
        with connect(settings) as db, db.transaction():
            read[number] = read_issue_data(db=db, settings=settings, issue_number=str(number))
        assert read[number] == orm
        assert parts(read[number]) == parts(orm)
    assert read[1].missing == () and read[1].last_week is None and read[1].comparisons[0].votes_a == 37
    assert len(read[2].missing) == 2 and read[2].last_week.number == 1  # the first slot lacks nothing
    assert any(r.reviewer == "gone" for r in read[2].comparisons[0].reviews)
    assert read[3].missing == ("no comparisons yet (add one with `digest issue add`)",) and not read[3].comparisons
    with connect(settings) as db, pytest.raises(NotFoundError, match="no issue 99"):
        read_issue_data(db=db, settings=settings, issue_number=99)


def test_render_to_outbox_writes_the_sample_readers_email_beside_the_templates(engine, settings, tmp_path) -> None:
    with session_scope(engine, write=True) as session:
        number = add_sample_issue(session=session)
    report = render_to_outbox(settings=settings, issue_number=number)
    folder = settings.outbox_dir / str(number)
    assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)
    assert report.files["email.template.html"].read_text() == report.rendered.html
    assert report.files["email.template.txt"].read_text() == report.rendered.text
    # email.html and email.txt are what the sample reader's client shows: sample.eml's parts, no placeholder
    for name, kind in (("email.html", "html"), ("email.txt", "plain")):
        shown = report.files[name].read_text()
        assert "__digest_" not in shown
        sample = email.message_from_bytes(report.files["sample.eml"].read_bytes(), policy=default_policy)
        assert shown == sample.get_body(preferencelist=(kind,)).get_content().replace("\r\n", "\n")
    assert settings.base_url + "/vote/" in report.files["email.html"].read_text()
    message = email.message_from_bytes(report.files["sample.eml"].read_bytes(), policy=default_policy)
    assert message["Subject"] == report.rendered.subject and message.is_multipart()
    assert report.to_json()["files"]["web.html"]["bytes"] == len(report.rendered.web.encode())
    other = render_to_outbox(settings=settings, issue_number=number, out_dir=tmp_path / "elsewhere")
    assert other.files["email.txt"].parent == tmp_path / "elsewhere"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no temporary file left behind"


def test_sample_needs_a_secret_key(engine, settings) -> None:
    with session_scope(engine, write=True) as session:
        number = add_sample_issue(session=session)
    keyless = dataclasses.replace(settings, secret_key="")
    with pytest.raises(ConfigError, match="no secret key"):
        render_to_outbox(settings=keyless, issue_number=number)


def test_preview_server_serves_the_rendered_files_on_loopback(tmp_path: Path) -> None:
    for name in OUTPUT_FILES:
        (tmp_path / name).write_text(f"contents of {name}", encoding="utf-8")
    server = PreviewServer(tmp_path)
    server.start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=server.url, timeout=5) as client:
            home = client.get("/")
            assert home.status_code == 200 and home.text == "contents of web.html"
            assert home.headers["content-type"].startswith("text/html")
            assert client.get("/email.txt").text == "contents of email.txt"
            assert client.get("/sample.eml").status_code == 404
            assert client.get("/../digest.toml").status_code == 404
    finally:
        server.close()


def test_preview_refuses_other_addresses_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="loopback"):
        PreviewServer(tmp_path, host="0.0.0.0")
    with pytest.raises(RenderError, match="nothing to preview"):
        PreviewServer(tmp_path)


def test_browser_from_environment_opens_the_page(tmp_path: Path) -> None:
    seen = tmp_path / "seen"
    script = tmp_path / "fake-browser"
    script.write_text(f'#!/bin/sh\necho "$1" > "{seen}"\n', encoding="utf-8")
    script.chmod(0o755)
    assert open_in_browser("file:///tmp/web.html", {"BROWSER": f"{script} %s"})
    assert seen.read_text().strip() == "file:///tmp/web.html"
    assert not open_in_browser("file:///tmp/web.html", {})  # no $BROWSER and no display: serve instead
    assert not has_display({}) and has_display({"DISPLAY": ":0"})
    with pytest.raises(RenderError, match="BROWSER"):
        open_in_browser("file:///x", {"BROWSER": str(tmp_path / "no-such-browser")})


def test_demo_stage_renders_issue_one_and_says_where(engine, settings) -> None:
    from digest.demo import DemoContext
    from digest.demo.render import render_first

    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session)
    said: list[str] = []
    render_first(DemoContext(home=settings.home, say=said.append, settings=settings))
    folder = settings.outbox_dir / "1"
    assert said[0].startswith("digest issue render 1: 3 comparisons") and str(folder) in said[0]
    for name in OUTPUT_FILES:
        assert (folder / name).is_file() and any(line.endswith(str(folder / name)) for line in said)


# --- last week the community said ------------------------------------------------------------

def _with_last_week(previous: IssueData) -> IssueData:
    return dataclasses.replace(sample_issue_data(number=2, votes=False), last_week=PreviousIssueData(
        number=previous.number, subject=previous.subject, comparisons=previous.comparisons))


def _votes(data: IssueData, index: int, a: int, b: int) -> IssueData:
    comparisons = list(data.comparisons)
    comparisons[index] = dataclasses.replace(comparisons[index], votes_a=a, votes_b=b)
    return dataclasses.replace(data, comparisons=tuple(comparisons))


def test_last_week_reports_how_readers_voted_beside_the_panels_verdict(loose) -> None:
    view = view_from_data(_with_last_week(sample_issue_data()), settings=loose)
    last = view.last_week
    assert (last.number, last.heading, last.url) == (1, "Last week the community said", links.issue_url(loose.base_url, 1))
    agreed, split_panel, unvoted = last.recaps
    assert (agreed.headline, agreed.side) == ("Readers picked Patchwise", "a")
    assert agreed.detail == ("Patchwise won 64% of 58 reader votes, Lintern 36%. "
                             "The panel agreed: it shipped Patchwise 100% to 50%.")
    assert [bar.figure for bar in agreed.bars] == ["64%", "36%"] and agreed.url.endswith("/issues/1#c1")
    assert (split_panel.headline, split_panel.side) == ("Readers picked Recapture", "b")
    assert split_panel.detail.endswith("The panel was split.")
    assert (unvoted.headline, unvoted.bars, unvoted.side) == ("No reader votes", None, "none")
    assert unvoted.detail == "Nobody voted on Tessellate vs Quarry."


def test_last_week_says_when_readers_and_the_panel_disagree_or_readers_tie(loose) -> None:
    previous = _votes(_votes(sample_issue_data(), 0, 1, 2), 2, 5, 5)
    disagreed, _, tied = view_from_data(_with_last_week(previous), settings=loose).last_week.recaps
    assert disagreed.headline == "Readers picked Lintern"
    assert disagreed.detail == "Lintern won 67% of 3 reader votes, Patchwise 33%. The panel had picked Patchwise, 100% to 50%."
    assert (tied.headline, tied.side) == ("Readers split evenly", "split")
    assert tied.detail.startswith("Tessellate and Quarry got 5 votes each.")


def test_the_first_issue_has_no_last_week(loose) -> None:
    assert view_from_data(sample_issue_data(), settings=loose).last_week is None


def test_last_week_is_the_latest_earlier_issue_that_went_out(engine, settings) -> None:
    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session, data=dataclasses.replace(sample_issue_data(number=1), status="sent"))
        add_sample_issue(session=session, data=sample_issue_data(number=2, votes=False))  # a draft: skipped
        add_sample_issue(session=session, data=sample_issue_data(number=3, votes=False))
    with session_scope(engine) as session:
        third = load_issue_data(session=session, settings=settings, issue_number=3)
        assert load_issue_data(session=session, settings=settings, issue_number=1).last_week is None
        assert load_issue_data(session=session, settings=settings, issue_number=2).last_week.number == 1
    assert third.last_week.number == 1
    assert [(c.votes_a, c.votes_b) for c in third.last_week.comparisons] == [(37, 21), (12, 30), (0, 0)]
