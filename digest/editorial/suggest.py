"""Pair suggestions: which new tools make a fair side-by-side, ranked, each with its reason.

Candidates are the shown tools (launches, and those the editor kept; see docs/launches.md)
first seen since the last sent issue (all tools when none was sent) that are in no comparison
yet. Two candidates make a pair when their categories are the same
or related (sharing a significant word, "code review" and "code generation"), or when one has
no category but their descriptions are close. Pairs already compared are never suggested.

Descriptions are compared with rapidfuzz: its Indel similarity over the sorted sets of content
words of name, tagline and description (each tool's own name removed, common words and plural
endings dropped), which is the Dice overlap of the two vocabularies: 0 when they share no word,
100 when they use the same words. Unlike a character-level ratio it has no noise floor between
unrelated texts. The score is that similarity plus 30 for the same category or 15 for a related
one. The editor still decides: this only ranks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digest.data.pair_candidates import CandidateTool, PairCatalogue

SAME_CATEGORY = 30
RELATED_CATEGORY = 15
UNCATEGORISED_MIN_SIMILARITY = 25
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset("""
a about across after all also an and any are as at be been before being both but by can do
does each every for from get gets has have how in into is it its just like lets make makes
more most new no not now of on one only or other our out over own per so than that the their
them then there these they this through to too up us use uses using via was way we what when
where which while who will with without you your yours ai tool tools app apps platform
""".split())
GENERIC_CATEGORY_WORDS = frozenset({"ai", "tool", "tools", "and", "app", "apps", "other", "misc"})


def words(text: str, *, drop: frozenset[str] = frozenset()) -> list[str]:
    """Content words of a text: lowercase, no stopwords, simple plural endings dropped."""
    found = []
    for word in _WORD.findall(text.lower()):
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word not in STOPWORDS and word not in drop and len(word) > 1:
            found.append(word)
    return found


def category_relation(a: str | None, b: str | None) -> str:
    """'same', 'related', 'unrelated' or 'uncategorised' (either has no category)."""
    if not a or not b:
        return "uncategorised"
    wa, wb = words(a), words(b)
    if wa == wb or " ".join(a.lower().split()) == " ".join(b.lower().split()):
        return "same"
    if (set(wa) & set(wb)) - GENERIC_CATEGORY_WORDS:
        return "related"
    return "unrelated"


@dataclass(frozen=True)
class Suggestion:
    tool_a: CandidateTool
    tool_b: CandidateTool
    score: float
    similarity: int
    category: str  # same | related | uncategorised
    shared: tuple[str, ...]

    @property
    def reason(self) -> str:
        if self.category == "same":
            first = f"same category ({self.tool_a.category})"
        elif self.category == "related":
            first = f"related categories ({self.tool_a.category} / {self.tool_b.category})"
        else:
            lacking = self.tool_a if not self.tool_a.category else self.tool_b
            first = f"no category on {lacking.slug}"
        text = f"{first}; descriptions {self.similarity}% similar"
        if self.shared:
            text += "; both mention " + ", ".join(self.shared)
        return text

    def to_json(self) -> dict[str, Any]:
        def tool(t: CandidateTool) -> dict[str, Any]:
            return {"id": t.id, "slug": t.slug, "name": t.name, "category": t.category,
                    "first_seen_at": t.first_seen_at}
        return {"a": tool(self.tool_a), "b": tool(self.tool_b), "score": round(self.score, 1),
                "similarity": self.similarity, "category": self.category,
                "shared_words": list(self.shared), "reason": self.reason}


@dataclass(frozen=True)
class SuggestionReport:
    since: datetime | None  # the last sent issue's send time; None: no issue was sent yet
    candidates: int
    pairs_scored: int
    suggestions: list[Suggestion]
    older: int = 0  # tools left out as found before the last sent issue (what --include-older adds)


def suggest_pairs(catalogue: PairCatalogue, *, limit: int | None = None,
                  include_paired: bool = False) -> SuggestionReport:
    """Ranked pair suggestions among the catalogue's tools (`digest.data.pair_candidates.read_catalogue`
    reads it: the tools found since the last sent issue, or all of them).

    `include_paired` also considers tools already in a comparison (never a pair already
    compared). Ties are broken by slug so the order is stable.
    Unrelated categories are never compared at all, which keeps a big week's catalogue fast.
    """
    tools, older = _candidates(catalogue, include_paired=include_paired)
    vocab = [words(" ".join((t.name, t.tagline or "", t.description or "")), drop=frozenset(words(t.name)))
             for t in tools]
    scored = _score_pairs(tools, vocab, catalogue.compared)
    if limit is not None:
        import heapq

        best = heapq.nsmallest(limit, scored)
    else:
        best = sorted(scored)
    found = []
    for negative, _, _, a, b, similarity, relation in best:
        common = set(vocab[a]) & set(vocab[b])
        shared = tuple(dict.fromkeys(w for w in vocab[a] if w in common))[:6]
        found.append(Suggestion(tools[a], tools[b], float(-negative), similarity, relation, shared))
    return SuggestionReport(since=catalogue.since, candidates=len(tools), pairs_scored=len(scored),
                            suggestions=found, older=older)


def _candidates(catalogue: PairCatalogue, *, include_paired: bool) -> tuple[list[CandidateTool], int]:
    """The catalogue's tools in no comparison (all of them with `include_paired`), and how many
    tools found before the last sent issue were left out."""
    paired = {tool_id for pair in catalogue.compared for tool_id in pair} if not include_paired else set()
    tools = [t for t in catalogue.tools if t.id not in paired]
    older = sum(1 for tool_id in catalogue.earlier if tool_id not in paired)
    return tools, older


Scored = tuple[float, str, str, int, int, int, str]  # -score, slug a, slug b, index a, index b, similarity, relation


def _score_pairs(tools: list[CandidateTool], vocab: list[list[str]], compared: set[frozenset[int]]) -> list[Scored]:
    """Every pair not compared yet whose categories are the same, related or missing (then only
    with close descriptions), scored."""
    from rapidfuzz import fuzz

    ids: dict[str, int] = {}
    codes = [sorted({ids.setdefault(w, len(ids)) for w in content}) for content in vocab]  # words as small ints
    groups: dict[str | None, list[int]] = {}
    for index, t in enumerate(tools):
        groups.setdefault(t.category, []).append(index)
    categories = list(groups)
    scored: list[Scored] = []
    for x, first in enumerate(categories):
        for second in categories[x:]:
            relation = category_relation(first, second)
            if relation == "unrelated":
                continue
            bonus = {"same": SAME_CATEGORY, "related": RELATED_CATEGORY}.get(relation, 0)
            members = groups[first] if first == second else groups[first] + groups[second]
            inside = first == second
            for i in members if inside else groups[first]:
                for j in (m for m in members if m > i) if inside else groups[second]:
                    a, b = (i, j) if i < j else (j, i)
                    if frozenset((tools[a].id, tools[b].id)) in compared:
                        continue
                    similarity = round(fuzz.ratio(codes[a], codes[b])) if codes[a] and codes[b] else 0
                    if relation == "uncategorised" and similarity < UNCATEGORISED_MIN_SIMILARITY:
                        continue
                    scored.append((-(similarity + bonus), tools[a].slug, tools[b].slug, a, b, similarity, relation))
    return scored
