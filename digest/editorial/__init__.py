"""Editorial: the editor's side of the newsletter, between the feeds and the render stage.

    lookup      tools, comparisons and issues by what the CLI names them (id, slug, number)
    pairs       comparisons of two tools: create, retitle, pricing read, delete
    reviews     one reviewer's ship/skip verdict and quote, with every rule checked
    scorecard   a comparison as TOML (REVIEWS.toml files and the editor's document)
    editing     `digest comparison edit`: $EDITOR on that TOML, re-opened on a mistake
    cards       a comparison as readers see it; figures from `digest.panel`
    corrections correcting a tool: edit fields (then the editor's), keep or hide it
    catalogue   merging twins the deduplication missed
    assembly    numbered editions: new, their fields, their comparisons in order (no ORM)
    issues      an issue's readiness and views
    suggest     ranked pair suggestions with reasons

Functions take a session and keyword arguments and raise the `digest.errors` tree; the caller
owns the transaction (`digest.db.session_scope(engine, write=True)`), so a refused command
writes nothing. `suggest`, `corrections` and `assembly` are the exceptions: suggest scores the
plain records that `digest.data.pair_candidates` reads, the other two run on a `digest.data`
Database in the caller's write transaction, so none of them loads the ORM.
"""

# The names below are imported on first use: `digest issue list` needs only `issues`, and
# importing every submodule (scorecard, suggest, catalogue, ...) cost every editor command.
_HOMES = {  # each public name's submodule (PEP 562's module __getattr__ below)
    **dict.fromkeys(("ComparisonCard", "comparison_card", "tool_record"), "cards"),
    **dict.fromkeys(("MergeReport", "merge_tools"), "catalogue"),
    **dict.fromkeys(("edit_tool", "set_override"), "corrections"),
    **dict.fromkeys(("IssueDetail", "Readiness", "issue_detail", "list_issues", "previous_sent_issue", "readiness",
                     "require_ready"), "issues"),
    **dict.fromkeys(("add_comparison", "create_issue", "delete_issue", "move_comparison", "remove_comparison",
                     "set_issue"), "assembly"),
    **dict.fromkeys(("get_comparison", "get_issue", "get_tool"), "lookup"),
    **dict.fromkeys(("update_comparison",), "pairs"),
    **dict.fromkeys(("MAX_QUOTE", "record_review"), "reviews"),
    **dict.fromkeys(("ScorecardError", "apply_scorecard", "comparison_as_toml", "parse_scorecard", "read_scorecard_file",
                     "record_scorecard"), "scorecard"),
    **dict.fromkeys(("Suggestion", "suggest_pairs"), "suggest"),
}


def __getattr__(name: str):  # noqa: ANN202
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'digest.editorial' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"digest.editorial.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "MAX_QUOTE", "ComparisonCard", "IssueDetail", "MergeReport", "Readiness", "ScorecardError",
    "Suggestion", "add_comparison", "apply_scorecard", "comparison_as_toml", "comparison_card",
    "create_issue", "delete_issue", "edit_tool", "get_comparison",
    "get_issue", "get_tool", "issue_detail", "list_issues", "merge_tools", "move_comparison",
    "parse_scorecard", "previous_sent_issue", "read_scorecard_file", "readiness", "record_review", "record_scorecard", "remove_comparison",
    "require_ready", "set_issue", "set_override", "suggest_pairs", "tool_record", "update_comparison",
]
