"""The streams rule of digest/cli/output.py: results on stdout, progress and notes on stderr,
and --quiet silences what `say` prints on both while what was asked for still comes out."""

from __future__ import annotations

import json


def test_the_desk_prints_the_id_on_stdout_and_confirms_on_stderr(cli) -> None:
    made = cli("issue", "new", "--subject", "Two robot reviewers")
    assert (made.exit_code, made.stdout) == (0, "1\n")
    assert made.stderr == "issue 1: draft, 0 comparisons, not ready (1 missing)\n"
    quiet = cli("--quiet", "issue", "new", "--subject", "Another")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "2\n", "")


def test_a_report_of_what_was_done_is_a_result_and_quiet_silences_it(cli) -> None:
    added = cli("subscribers", "add", "ann@example.com")
    assert (added.exit_code, added.stdout, added.stderr) == (0, "added: ann@example.com (active)\n", "")
    quiet = cli("--quiet", "subscribers", "add", "bob@example.com")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    listed = cli("--quiet", "subscribers", "list", "--json")
    assert [r["email"] for r in json.loads(listed.stdout)] == ["ann@example.com", "bob@example.com"]
