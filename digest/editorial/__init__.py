"""Editorial: the editor's side of the newsletter, between the feeds and the render stage.

    lookup      tools, comparisons and issues by what the CLI names them (id, slug, number)
    pairs       comparisons of two tools: create, retitle, pricing read, delete
    reviews     one reviewer's ship/skip verdict and quote, with every rule checked
    scorecard   a comparison as TOML (REVIEWS.toml files and the editor's document)
    editing     `digest comparison edit`: $EDITOR on that TOML, re-opened on a mistake
    cards       a comparison as readers see it; figures from `digest.panel`
    catalogue   correcting tools: edit fields (then the editor's), keep or hide, merge twins
    issues      numbered editions, their comparisons in order, readiness
    suggest     ranked pair suggestions with reasons

Functions take a session and keyword arguments and raise the `digest.errors` tree; the caller
owns the transaction (`digest.db.session_scope(engine, write=True)`), so a refused command
writes nothing.
"""

from digest.editorial.cards import ComparisonCard, comparison_card, tool_record
from digest.editorial.catalogue import MergeReport, edit_tool, merge_tools, set_override
from digest.editorial.issues import (IssueView, Readiness, add_comparison, create_issue,
                                     delete_issue, issue_view, list_issues, move_comparison,
                                     previous_sent_issue, readiness, remove_comparison, require_ready,
                                     set_issue)
from digest.editorial.lookup import get_comparison, get_issue, get_tool
from digest.editorial.pairs import create_comparison, delete_comparison, update_comparison
from digest.editorial.reviews import MAX_QUOTE, record_review
from digest.editorial.scorecard import (ScorecardError, apply_scorecard, comparison_as_toml, parse_scorecard,
                                        read_scorecard_file, record_scorecard)
from digest.editorial.suggest import Suggestion, suggest_pairs

__all__ = [
    "MAX_QUOTE", "ComparisonCard", "IssueView", "MergeReport", "Readiness", "ScorecardError",
    "Suggestion", "add_comparison", "apply_scorecard", "comparison_as_toml", "comparison_card",
    "create_comparison",
    "create_issue", "delete_comparison", "delete_issue", "edit_tool", "get_comparison",
    "get_issue", "get_tool", "issue_view", "list_issues", "merge_tools", "move_comparison",
    "parse_scorecard", "previous_sent_issue", "read_scorecard_file", "readiness", "record_review", "record_scorecard", "remove_comparison",
    "require_ready", "set_issue", "set_override", "suggest_pairs", "tool_record", "update_comparison",
]
