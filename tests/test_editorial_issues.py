"""Issues: numbering, assembling, readiness, and the lock once an issue is sending or sent."""

from __future__ import annotations

import pytest

from editorial_support import add_tools, as_json, refused, review_all, sql


@pytest.fixture
def comparisons(cli, home) -> list[int]:
    add_tools(home)
    for a, b in (("patchwise", "lintern"), ("minutely", "recapper"), ("pixelmuse", "voxly")):
        assert cli("pair", a, b).exit_code == 0
    return [1, 2, 3]


def order(cli, number: int = 1) -> list[int]:
    return [c["id"] for c in as_json(cli("issue", "show", str(number), "--json"))["comparisons"]]


def test_new_prints_sequential_numbers_never_reused(cli, home, comparisons) -> None:
    first = cli("issue", "new", "--subject", "First")
    assert first.exit_code == 0 and first.stdout == "1\n"
    assert cli("issue", "new", "--subject", "Second").stdout == "2\n"
    assert cli("issue", "delete", "2").exit_code == 0
    assert cli("issue", "new", "--subject", "Third").stdout == "3\n"
    assert [i["number"] for i in as_json(cli("issue", "list", "--json"))] == [3, 1]


def test_a_refused_new_issue_does_not_use_up_a_number(cli, home, comparisons) -> None:
    assert refused(cli, home, "issue", "new", "--subject", "X", "--comparison", "9").startswith("error: no comparison 9")
    assert refused(cli, home, "issue", "new", "--subject", " ").startswith("error: the subject is empty")
    assert cli("issue", "new", "--subject", "Real").stdout == "1\n"


def test_new_with_comparisons_preheader_and_intro(cli, comparisons) -> None:
    result = cli("issue", "new", "--subject", "Robots review code", "--comparison", "2", "--comparison", "1",
                 "--preheader", "Two pairs this week", "--intro", "-", input="Hello readers.\n\nTwo pairs.\n")
    assert result.exit_code == 0, result.output
    shown = as_json(cli("issue", "show", "1", "--json"))
    assert (shown["subject"], shown["preheader"], shown["intro"]) == ("Robots review code", "Two pairs this week",
                                                                      "Hello readers.\n\nTwo pairs.")
    assert [c["id"] for c in shown["comparisons"]] == [2, 1]
    assert [c["position"] for c in shown["comparisons"]] == [1, 2]
    assert shown["status"] == "draft" and shown["number"] == 1 and shown["id"]


def test_add_remove_and_move(cli, home, comparisons) -> None:
    assert cli("issue", "new", "--subject", "S").exit_code == 0
    for c in ("1", "2", "3"):
        assert cli("issue", "add", "1", c).exit_code == 0
    assert order(cli) == [1, 2, 3]
    assert cli("issue", "move", "1", "3", "--to", "1").exit_code == 0
    assert order(cli) == [3, 1, 2]
    assert cli("issue", "move", "1", "3", "--to", "3").exit_code == 0
    assert order(cli) == [1, 2, 3]
    assert cli("issue", "remove", "1", "2").exit_code == 0
    assert order(cli) == [1, 3]
    assert cli("issue", "add", "1", "2", "--position", "1").exit_code == 0
    assert order(cli) == [2, 1, 3]
    assert [c["id"] for c in as_json(cli("comparison", "list", "--json"))] == [3, 2, 1]


def test_assembly_refusals(cli, home, comparisons) -> None:
    assert cli("issue", "new", "--subject", "One", "--comparison", "1").exit_code == 0
    assert cli("issue", "new", "--subject", "Two").exit_code == 0
    assert refused(cli, home, "issue", "add", "1", "1").startswith("error: comparison 1 is already in this issue")
    message = refused(cli, home, "issue", "add", "2", "1")
    assert message == "error: comparison 1 is already in issue 1 (hint: remove it there first: digest issue remove 1 1)"
    assert refused(cli, home, "issue", "add", "7", "2").startswith("error: no issue 7")
    assert refused(cli, home, "issue", "add", "x", "2").startswith("error: issue 'x' is not a number")
    assert refused(cli, home, "issue", "add", "1", "2", "--position", "5").startswith(
        "error: position 5 is out of range: the issue has 2 comparisons (positions 1 to 2)")
    assert refused(cli, home, "issue", "remove", "1", "3").startswith("error: comparison 3 is not in issue 1")
    assert refused(cli, home, "issue", "move", "1", "1", "--to", "0").startswith("error: position 0 is out of range")
    assert refused(cli, home, "issue", "set", "1").startswith("error: nothing to change")
    assert refused(cli, home, "issue", "set", "1", "--subject", "s" * 301).startswith(
        "error: the subject is 301 characters; the limit is 300")
    assert refused(cli, home, "issue", "new", "--subject", "Dup", "--comparison", "2", "--comparison", "2").startswith(
        "error: comparison 2 is given twice")
    assert refused(cli, home, "issue", "list", "--status", "lost").startswith("error: --status 'lost' is not one of")


def test_set_subject_preheader_and_intro(cli, comparisons) -> None:
    assert cli("issue", "new", "--subject", "Old").exit_code == 0
    result = cli("issue", "set", "1", "--subject", "New subject", "--preheader", "Peek", "--intro", "Hi.")
    assert result.exit_code == 0
    assert result.stderr == "issue 1: changed subject, changed preheader, changed intro\n"
    shown = as_json(cli("issue", "show", "1", "--json"))
    assert (shown["subject"], shown["preheader"], shown["intro"]) == ("New subject", "Peek", "Hi.")
    assert cli("issue", "set", "1", "--preheader", "").exit_code == 0
    assert as_json(cli("issue", "show", "1", "--json"))["preheader"] == ""


@pytest.mark.parametrize("value", ["New\r\nBcc: everyone@example.com", "New\nsubject", "New\rsubject",
                                   "New\u2028subject", "New\x00subject"])
def test_a_subject_or_preheader_with_a_line_break_is_refused(cli, home, comparisons, value: str) -> None:
    assert cli("issue", "new", "--subject", "Old", "--preheader", "Peek").exit_code == 0
    for option in ("--subject", "--preheader"):
        what = option.strip("-")
        assert refused(cli, home, "issue", "set", "1", option, value) == \
            f"error: the {what} contains a line break or control character; it must be one line"
        assert refused(cli, home, "issue", "new", "--subject", "S", option, value).startswith(f"error: the {what} ")
    shown = as_json(cli("issue", "show", "1", "--json"))
    assert (shown["subject"], shown["preheader"]) == ("Old", "Peek")
    assert cli("issue", "set", "1", "--subject", "Tabs\tare fine").exit_code == 0


def test_readiness_says_exactly_what_is_missing(cli, home, comparisons) -> None:
    assert cli("issue", "new", "--subject", "S").exit_code == 0
    empty = as_json(cli("issue", "show", "1", "--json"))
    assert empty["ready"] is False
    assert [m["message"] for m in empty["missing"]] == ["no comparisons yet (add one with `digest issue add`)"]

    assert cli("issue", "add", "1", "1").exit_code == 0
    review_all(cli, 1, "patchwise", "lintern", "SSSS", "SK--")
    shown = as_json(cli("issue", "show", "1", "--json"))
    assert shown["ready"] is False
    assert [(m["comparison"], m["reviewer"], m["tools"]) for m in shown["missing"]] == [
        (1, "buyer", ["lintern"]), (1, "futurist", ["lintern"])]
    assert shown["missing"][0]["message"] == "comparison 1 (Patchwise vs Lintern): buyer has not reviewed lintern"
    text = " ".join(cli("issue", "show", "1").stdout.split())
    assert "Issue 1 · draft · not ready" in text
    assert "Missing before it is ready: - comparison 1 (Patchwise vs Lintern): buyer has not reviewed lintern" in text

    review_all(cli, 1, "patchwise", "lintern", "----", "--SK")
    shown = as_json(cli("issue", "show", "1", "--json"))
    assert shown["ready"] is True and shown["missing"] == []
    assert "comparison 1 has no pricing read" in shown["notes"]
    assert "Issue 1 · draft · ready" in cli("issue", "show", "1").stdout

    assert cli("issue", "add", "1", "2").exit_code == 0
    shown = as_json(cli("issue", "show", "1", "--json"))
    assert shown["ready"] is False
    assert shown["missing"][0]["message"] == ("comparison 2 (Minutely vs Recapper): builder has not reviewed "
                                              "minutely or recapper")
    listed = as_json(cli("issue", "list", "--json"))
    assert listed == [{**listed[0], "number": 1, "status": "draft", "ready": False, "missing": 4,
                       "comparisons": [1, 2], "subject": "S"}]


def test_ready_issue_listed_as_ready(cli, comparisons) -> None:
    review_all(cli, 3, "pixelmuse", "voxly", "SSSS", "KKKK")
    assert cli("issue", "new", "--subject", "Images and voices", "--comparison", "3").exit_code == 0
    listing = cli("issue", "list")
    assert listing.exit_code == 0
    assert "Images and voices" in listing.stdout and "yes" in listing.stdout
    assert as_json(cli("issue", "list", "--json", "--status", "draft"))[0]["ready"] is True
    assert as_json(cli("issue", "list", "--json", "--status", "sent")) == []


@pytest.mark.parametrize("status", ["sending", "sent"])
def test_a_sending_or_sent_issue_cannot_be_changed(cli, home, comparisons, status) -> None:
    assert cli("issue", "new", "--subject", "Gone", "--comparison", "1").exit_code == 0
    sql(home, "UPDATE issue SET status = ? WHERE number = 1", status)
    expected = f"error: issue 1 is {status}; a sending or sent issue cannot be changed"
    for args in (("issue", "add", "1", "2"), ("issue", "remove", "1", "1"), ("issue", "move", "1", "1", "--to", "1"),
                 ("issue", "set", "1", "--subject", "New"), ("issue", "delete", "1")):
        assert refused(cli, home, *args, code=1).startswith(expected), args
    assert as_json(cli("issue", "show", "1", "--json"))["status"] == status


def test_show_missing_issue_and_empty_list(cli, home, comparisons) -> None:
    assert refused(cli, home, "issue", "show", "1").startswith("error: no issue 1")
    assert cli("issue", "list").stdout.startswith("no issues yet")
    assert as_json(cli("issue", "list", "--json")) == []


def test_concurrent_new_issues_get_distinct_sequential_numbers(cli, home) -> None:
    import subprocess
    import sys

    runs = [subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "issue", "new",
                              "--subject", f"Racer {n}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for n in range(4)]
    printed = []
    for run in runs:
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        printed.append(int(out))
    assert sorted(printed) == [1, 2, 3, 4]
    assert sorted(i["number"] for i in as_json(cli("issue", "list", "--json"))) == [1, 2, 3, 4]


def test_issue_list_reads_the_same_summaries_as_the_orm(cli, home, comparisons, settings, engine) -> None:
    """`issue list` reads through digest.data.issue_list (no ORM): the same issues, order,
    comparisons and missing counts as editorial.list_issues, for every status filter."""
    from digest.data.engine import connect
    from digest.data.issue_list import list_issues as listed_without_orm
    from digest.db import session_scope
    from digest.editorial import list_issues

    review_all(cli, 3, "pixelmuse", "voxly", "SSSS", "KKKK")
    review_all(cli, 1, "patchwise", "lintern", "S-S-", "K---")
    for args in (("--subject", "Empty"), ("--subject", "Two", "--comparison", "2", "--comparison", "1"),
                 ("--subject", "Ready", "--comparison", "3")):
        assert cli("issue", "new", *args).exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent', sent_at = created_at WHERE number = 3")
    for status in ("draft", "sent", "scheduled", None):
        with session_scope(engine) as session:
            expected = [s.to_json() for s in list_issues(session=session, panel=settings.panel, status=status)]
        with connect(settings) as db, db.transaction():
            assert [s.to_json() for s in listed_without_orm(db, panel=settings.panel, status=status)] == expected
    assert [(s["number"], s["comparisons"], s["missing"]) for s in expected] == [(3, [3], 0), (2, [2, 1], 7),
                                                                                 (1, [], 1)]


def test_issue_list_knows_every_status_in_the_models_order() -> None:
    from digest.data.issue_list import STATUSES
    from digest.models import IssueStatus

    assert STATUSES == tuple(s.value for s in IssueStatus)


def test_issue_show_reads_the_same_detail_as_the_orm(cli, home, comparisons, settings, engine) -> None:
    """`issue show` reads through digest.data.comparison_cards (no ORM): its JSON is
    editorial.issue_detail's, for an empty, a partly reviewed and a sent issue."""
    import json

    from digest.cli.output import _default
    from digest.db import session_scope
    from digest.editorial import get_issue, issue_detail

    review_all(cli, 3, "pixelmuse", "voxly", "SSSS", "KKKK")
    review_all(cli, 1, "patchwise", "lintern", "S-S-", "K---")
    assert cli("comparison", "set", "3", "--pricing-read", "Both free.").exit_code == 0
    for args in (("--subject", "Empty"), ("--subject", "Two", "--comparison", "2", "--comparison", "1",
                                          "--preheader", "P", "--intro", "I"), ("--subject", "Ready", "--comparison", "3")):
        assert cli("issue", "new", *args).exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent', sent_at = created_at WHERE number = 3")
    for number in (1, 2, 3):
        with session_scope(engine) as session:
            detail = issue_detail(session=session, issue=get_issue(session, number), panel=settings.panel)
            expected = json.loads(json.dumps(detail.to_json(), default=_default))
        assert as_json(cli("issue", "show", str(number), "--json")) == expected
    assert [len(as_json(cli("issue", "show", str(n), "--json"))["missing"]) for n in (1, 2, 3)] == [1, 7, 0]


def test_concurrent_adds_keep_positions_dense_and_a_comparison_in_one_issue(cli, home, comparisons) -> None:
    """Editors adding at once: four comparisons into one issue end at positions 1 to 4, and one
    comparison put into four issues at once lands in exactly one of them."""
    import subprocess
    import sys

    for a, b in (("stubby", "patchwise"), ("stubby", "minutely"), ("stubby", "voxly")):
        assert cli("pair", a, b).exit_code == 0
    for n in range(5):
        assert cli("issue", "new", "--subject", f"Issue {n + 1}").exit_code == 0
    argvs = [("1", str(c)) for c in (1, 2, 3, 4)] + [(str(i), "5") for i in (2, 3, 4, 5)]
    runs = [subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "issue", "add", *argv],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for argv in argvs]
    codes = [run.wait(timeout=60) for run in runs]
    for run in runs:
        run.communicate()
    assert codes[:4] == [0, 0, 0, 0] and sorted(codes[4:]) == [0, 2, 2, 2]
    slots = sql(home, "SELECT i.number, s.comparison_id, s.position FROM issuecomparison s "
                      "JOIN issue i ON i.id = s.issue_id ORDER BY i.number, s.position")
    assert sorted(c for n, c, _ in slots if n == 1) == [1, 2, 3, 4]
    assert [p for n, _, p in slots if n == 1] == [1, 2, 3, 4]
    assert [c for n, c, _ in slots if n != 1] == [5]


@pytest.mark.postgresql_only  # SQLite's write lock (BEGIN IMMEDIATE) already serialises every editor
def test_an_add_waits_for_an_editor_placing_the_same_comparison_elsewhere(cli, home, comparisons, engine) -> None:
    """Editor A holds comparison 1's row (FOR UPDATE, as `issue add` takes it) while placing it
    in issue 1; editor B's `issue add 2 1` waits for A instead of reading "in no issue" under
    READ COMMITTED, and once A commits B is refused: the comparison is in one issue only."""
    import subprocess
    import sys

    from sqlalchemy import text

    for subject in ("A's", "B's"):
        assert cli("issue", "new", "--subject", subject).exit_code == 0
    with engine.connect() as editor_a:
        editor_a.execute(text("SELECT id FROM comparison WHERE id = 1 FOR UPDATE"))
        editor_a.execute(text("INSERT INTO issuecomparison (issue_id, comparison_id, position) "
                              "SELECT id, 1, 1 FROM issue WHERE number = 1"))
        b = subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "issue", "add", "2", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with engine.connect() as watcher:
            while b.poll() is None and not watcher.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")).scalar():
                watcher.rollback()  # pg_stat_activity is read once per transaction
        editor_a.commit()
    out, err = b.communicate(timeout=60)
    assert b.returncode == 2, (out, err)
    assert "error: comparison 1 is already in issue 1" in err
    assert sql(home, "SELECT comparison_id FROM issuecomparison") == [(1,)]
