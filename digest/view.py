"""The view model of an issue: everything the email, the text part and the web page show.

Built once per render from the issue's rows and the figures of `digest.panel`, then handed to
every template. Templates compute nothing: every label, percentage, bar width, sentence and
link is decided here, so the HTML, the plain text and the web page can never disagree.

An issue after the first also reports last week's community verdict: how readers voted on
the comparisons of the previous issue that went out (`LastWeek`), next to the panel's verdict.

Links depend on the medium. In the email, per-subscriber links are placeholders from
`digest.links` (vote, unsubscribe, web version, the reader's address), filled in at send time
by plain substitution; in the web version (the archive page) there are no per-subscriber
links at all: vote buttons become a pointer to the email, the footer drops the personal part.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from digest import links
from digest.panel import ComparisonFigures, ReviewFact, ToolFigures, comparison_figures

EMAIL = "email"
WEB = "web"

PENDING_LABEL = "Review pending"
_STANCE_LABELS = {
    "favours-a": "Ships {a}, skips {b}",
    "favours-b": "Ships {b}, skips {a}",
    "ship-both": "Ships both",
    "skip-both": "Skips both",
    "incomplete": "Not reviewed both yet",
}


# --- the raw data a view is built from ------------------------------------------------------

@dataclass(frozen=True)
class ToolData:
    id: int
    name: str
    tagline: str
    description: str
    category: str | None
    vendor: str | None
    price: str  # EntryPrice value
    url: str | None


@dataclass(frozen=True)
class ReviewData:
    reviewer: str
    side: str  # a | b
    verdict: str  # ship | skip
    quote: str


@dataclass(frozen=True)
class ComparisonData:
    id: int
    title: str
    pricing_read: str
    a: ToolData
    b: ToolData
    reviews: tuple[ReviewData, ...]
    votes_a: int = 0
    votes_b: int = 0
    figures: ComparisonFigures | None = None  # from the editorial card; computed when absent


@dataclass(frozen=True)
class PreviousIssueData:
    """The previous issue readers got, its comparisons with their votes as they stand."""

    number: int
    subject: str
    comparisons: tuple[ComparisonData, ...]


@dataclass(frozen=True)
class IssueData:
    number: int
    subject: str
    preheader: str
    intro: str
    status: str
    date: datetime | None
    comparisons: tuple[ComparisonData, ...]
    missing: tuple[str, ...] | None = None  # editorial readiness; None: derive from the reviews
    last_week: PreviousIssueData | None = None


# --- the view model ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Bar:
    """One horizontal bar: a label, its figure, and the filled share as a CSS width."""

    label: str
    figure: str  # "75%" or "—"
    side: str  # a | b
    fill: str | None  # CSS width of the filled part, "75%"; None when empty
    rest: str | None  # CSS width of the rest, "25%"; None when full
    text: str  # the bar and its figure in plain text, "[###############-----]  75%"


@dataclass(frozen=True)
class ToolCard:
    side: str  # a | b
    letter: str  # A | B
    name: str
    tagline: str
    description: tuple[str, ...]  # paragraphs
    category: str
    vendor: str
    price: str  # the entry price label
    url: str | None
    ship: str  # panel ship %, "75%" or "—"
    community: str  # community vote %, "40%" or "—"
    ships: str  # "3 of 4 reviewers ship it"
    vote_url: str | None  # None on the web page
    vote_label: str  # "Vote Patchwise"
    leads: bool  # the panel's pick


@dataclass(frozen=True)
class Cell:
    """One reviewer's take on one tool: the badge and the quote (empty while pending)."""

    tool: str  # the tool's name, for the stacked (phone) layout
    verdict: str  # ship | skip | pending
    badge: str  # Ship | Skip | Review pending
    quote: tuple[str, ...]  # paragraphs


@dataclass(frozen=True)
class ScorecardRow:
    reviewer: str  # display name
    remit: str
    a: Cell
    b: Cell
    stance: str  # favours-a | favours-b | ship-both | skip-both | incomplete
    stance_label: str


@dataclass(frozen=True)
class ComparisonView:
    id: int
    anchor: str  # "c12": the fragment the web page uses for this comparison
    position: str  # "Comparison 1 of 3"
    title: str
    a: ToolCard
    b: ToolCard
    verdict: str  # a | b | split | pending
    verdict_headline: str
    verdict_detail: str
    pricing_read: tuple[str, ...]
    panel_bars: tuple[Bar, Bar]
    community_bars: tuple[Bar, Bar] | None  # None before the first vote
    community_note: str
    split_summary: str
    rows: tuple[ScorecardRow, ...]
    quotes_on_web: bool  # trimmed for size: the quotes are on the web page only
    scorecard_url: str  # the web page's scorecard of this comparison
    ready: bool


@dataclass(frozen=True)
class Recap:
    """How readers voted on one comparison of the previous issue, beside the panel's verdict."""

    title: str
    headline: str  # "Readers picked Patchwise", "Readers split evenly", "No reader votes"
    detail: str  # the figures in a sentence, and whether the panel agreed
    side: str  # a | b | split | none: the community's pick, for the colour of the box
    bars: tuple[Bar, Bar] | None  # None without votes
    url: str  # the previous issue's web page, at this comparison


@dataclass(frozen=True)
class LastWeek:
    number: int
    subject: str
    heading: str  # "Last week the community said"
    url: str  # the previous issue's web page
    recaps: tuple[Recap, ...]


@dataclass(frozen=True)
class Links:
    web_version: str | None  # "view in your browser"; None on the web page itself
    archive: str
    subscribe: str
    unsubscribe: str | None
    canary: str | None  # exactly one invisible link per email, for mail scanners only
    reader: str | None  # the reader's address (a placeholder), for why-you-get-this


@dataclass(frozen=True)
class Footer:
    postal_address: str
    why: str  # why you get this; in the email it ends with "with the address", the reader's follows
    cadence: str  # how often, and how to leave
    sender_name: str


@dataclass(frozen=True)
class Logo:
    """The masthead's image: shown beside the name, never instead of it."""

    url: str
    width: int
    height: int
    alt: str


def logo_view(settings) -> Logo | None:
    logo = settings.logo
    if not logo.url:
        return None
    return Logo(url=logo.url, width=logo.width, height=logo.height, alt=logo.alt or settings.name)


@dataclass(frozen=True)
class Site:
    """What every web page's layout shows (web/base.html.j2), issue page or not."""

    name: str
    tagline: str
    lang: str
    home: str
    archive: str
    subscribe: str
    postal_address: str
    logo: Logo | None = None


def site_view(settings) -> Site:
    base = settings.base_url
    return Site(name=settings.name, tagline=settings.tagline, lang=settings.language, home=base + "/",
                archive=base + links.ARCHIVE_PATH, subscribe=base + links.SUBSCRIBE_PATH,
                postal_address=settings.postal_address, logo=logo_view(settings))


@dataclass(frozen=True)
class IssueView:
    medium: str  # email | web: where the issue is read
    lang: str
    newsletter: str
    tagline: str
    number: int
    kicker: str  # "Issue 3 · 2 June 2025"
    subject: str
    preheader: str
    intro: tuple[str, ...]
    comparisons: tuple[ComparisonView, ...]
    links: Links
    footer: Footer
    ready: bool
    warnings: tuple[str, ...]  # what is missing before the issue can be sent
    placeholders: links.Placeholders  # this render's link placeholders (a fresh nonce per view)
    last_week: LastWeek | None = None  # the previous issue's community verdict
    logo: Logo | None = None  # the masthead's image; the name is shown either way

    @property
    def trimmed(self) -> bool:
        return any(c.quotes_on_web for c in self.comparisons)


# --- building ---------------------------------------------------------------------------------

def paragraphs(text: str) -> tuple[str, ...]:
    """Text split at blank lines, each paragraph's lines joined with single spaces."""
    blocks = text.replace("\r\n", "\n").split("\n\n")
    return tuple(" ".join(block.split()) for block in blocks if block.strip())


def _price_label(value: str) -> str:
    """EntryPrice(value).label, "Unknown" for a value that is none (without importing the models)."""
    from digest.prices import LABELS

    return LABELS.get(value, LABELS["unknown"])


_TEXT_BAR = 20


def _bar(label: str, side: str, pct: int | None, figure: str) -> Bar:
    share = pct or 0
    filled = (share * _TEXT_BAR + 50) // 100
    return Bar(label=label, figure=figure, side=side, fill=f"{share}%" if share else None,
               rest=f"{100 - share}%" if share < 100 else None,
               text="[" + "#" * filled + "-" * (_TEXT_BAR - filled) + "] " + figure.rjust(4))


def _ships(figures: ToolFigures) -> str:
    if figures.reviews == 0:
        return "No reviews yet"
    noun = "reviewer" if figures.reviews == 1 else "reviewers"
    return f"{figures.ships} of {figures.reviews} {noun} ship it"


def _card(tool: ToolData, side: str, figures: ToolFigures, *, leads: bool, vote_url: str | None) -> ToolCard:
    return ToolCard(
        side=side, letter=side.upper(), name=tool.name, tagline=tool.tagline,
        description=paragraphs(tool.description), category=tool.category or "Uncategorised",
        vendor=tool.vendor or "", price=_price_label(tool.price), url=tool.url,
        ship=figures.ship_label, community=figures.community_label, ships=_ships(figures),
        vote_url=vote_url, vote_label=f"Vote {tool.name}", leads=leads,
    )


def _verdict(figures: ComparisonFigures, a: str, b: str) -> tuple[str, str]:
    fa, fb = figures.a, figures.b
    if figures.verdict == "pending":
        return "Verdict pending", "The panel has not reviewed both tools yet."
    if figures.verdict == "split":
        return "Split decision", (f"Both tools get {fa.ship_label} of the panel's ship votes: read the scorecard "
                                  "and pick for your team.")
    winner, loser = (a, b) if figures.verdict == "a" else (b, a)
    high, low = (fa, fb) if figures.verdict == "a" else (fb, fa)
    return (f"The panel ships {winner}",
            f"{winner} wins the panel {high.ship_label} to {low.ship_label} over {loser}.")


def _split_summary(figures: ComparisonFigures, names: dict[str, str]) -> str:
    split = [names.get(key, key) for key in figures.split_reviewers]
    complete = [s for s in figures.stances if s.stance != "incomplete"]
    if not complete:
        return "No reviewer has reviewed both tools yet."
    if not split:
        return f"All {len(complete)} reviewers who reviewed both agree on both tools."
    if len(split) == 1:
        return f"{split[0]} is the only reviewer who ships one and skips the other."
    if len(split) == len(complete):
        return f"All {len(split)} reviewers ship one and skip the other: the panel is split down the middle."
    return f"{', '.join(split[:-1])} and {split[-1]} ship one and skip the other."


def _community(figures: ComparisonFigures, a: str, b: str) -> tuple[tuple[Bar, Bar] | None, str]:
    total = figures.total_votes
    if total == 0:
        return None, "No reader votes yet: yours can be the first."
    bars = (_bar(a, "a", figures.a.community_pct, figures.a.community_label),
            _bar(b, "b", figures.b.community_pct, figures.b.community_label))
    noun = "vote" if total == 1 else "votes"
    return bars, f"{total:,} reader {noun} so far."


def _cell(tool: str, review: ReviewData | None) -> Cell:
    if review is None:
        return Cell(tool=tool, verdict="pending", badge=PENDING_LABEL, quote=())
    return Cell(tool=tool, verdict=review.verdict, badge=review.verdict.capitalize(),
                quote=paragraphs(review.quote))


def _figures(data: ComparisonData, settings) -> ComparisonFigures:
    return data.figures or comparison_figures(
        [ReviewFact(r.reviewer, r.side, r.verdict) for r in data.reviews],
        votes_a=data.votes_a, votes_b=data.votes_b, panel=[r.key for r in settings.panel])


def _recap(data: ComparisonData, *, settings, url: str) -> Recap:
    figures = _figures(data, settings)
    a, b = data.a.name, data.b.name
    fa, fb = figures.a, figures.b
    total = figures.total_votes
    if total == 0:
        return Recap(title=data.title, headline="No reader votes", detail=f"Nobody voted on {a} vs {b}.",
                     side="none", bars=None, url=url)
    bars = (_bar(a, "a", fa.community_pct, fa.community_label), _bar(b, "b", fb.community_pct, fb.community_label))
    if fa.votes == fb.votes:
        side, headline = "split", "Readers split evenly"
        detail = f"{a} and {b} got {fa.votes:,} {'vote' if fa.votes == 1 else 'votes'} each."
    else:
        side = "a" if fa.votes > fb.votes else "b"
        (winner, high), (loser, low) = ((a, fa), (b, fb)) if side == "a" else ((b, fb), (a, fa))
        headline = f"Readers picked {winner}"
        detail = (f"{winner} won {high.community_label} of {total:,} reader {'vote' if total == 1 else 'votes'}, "
                  f"{loser} {low.community_label}.")
    if figures.verdict in ("a", "b"):
        (pick, high), (other, low) = ((a, fa), (b, fb)) if figures.verdict == "a" else ((b, fb), (a, fa))
        if figures.verdict == side:
            detail += f" The panel agreed: it shipped {pick} {high.ship_label} to {low.ship_label}."
        else:
            detail += f" The panel had picked {pick}, {high.ship_label} to {low.ship_label}."
    elif figures.verdict == "split":
        detail += " The panel was split."
    return Recap(title=data.title, headline=headline, detail=detail, side=side, bars=bars, url=url)


def _last_week(data: PreviousIssueData | None, *, settings) -> LastWeek | None:
    if data is None or not data.comparisons:
        return None
    url = links.issue_url(settings.base_url, data.number)
    return LastWeek(number=data.number, subject=data.subject, heading="Last week the community said", url=url,
                    recaps=tuple(_recap(c, settings=settings, url=f"{url}#c{c.id}") for c in data.comparisons))


def _comparison(data: ComparisonData, *, index: int, count: int, settings, medium: str,
                web_link: str, placeholders: links.Placeholders) -> ComparisonView:
    names = {r.key: r.name for r in settings.panel}
    remits = {r.key: r.remit for r in settings.panel}
    figures = _figures(data, settings)
    a, b = data.a.name, data.b.name
    email = medium == EMAIL
    card_a = _card(data.a, "a", figures.a, leads=figures.verdict == "a",
                   vote_url=placeholders.vote(data.id, "a") if email else None)
    card_b = _card(data.b, "b", figures.b, leads=figures.verdict == "b",
                   vote_url=placeholders.vote(data.id, "b") if email else None)
    by_key = {(r.reviewer, r.side): r for r in data.reviews}
    rows = tuple(
        ScorecardRow(reviewer=names.get(s.reviewer, s.reviewer.replace("-", " ").title()),
                     remit=remits.get(s.reviewer, ""),
                     a=_cell(a, by_key.get((s.reviewer, "a"))), b=_cell(b, by_key.get((s.reviewer, "b"))),
                     stance=s.stance, stance_label=_STANCE_LABELS[s.stance].format(a=a, b=b))
        for s in figures.stances
    )
    headline, detail = _verdict(figures, a, b)
    community_bars, community_note = _community(figures, a, b)
    anchor = f"c{data.id}"
    return ComparisonView(
        id=data.id, anchor=anchor, position=f"Comparison {index} of {count}", title=data.title,
        a=card_a, b=card_b, verdict=figures.verdict, verdict_headline=headline, verdict_detail=detail,
        pricing_read=paragraphs(data.pricing_read),
        panel_bars=(_bar(a, "a", figures.a.ship_pct, figures.a.ship_label),
                    _bar(b, "b", figures.b.ship_pct, figures.b.ship_label)),
        community_bars=community_bars, community_note=community_note,
        split_summary=_split_summary(figures, names), rows=rows, quotes_on_web=False,
        scorecard_url=f"{web_link}#{anchor}",
        ready=not any(cell.verdict == "pending" for row in rows for cell in (row.a, row.b)),
    )


def missing_reviews(view: IssueView) -> list[str]:
    """One line per review still missing, in issue order; empty when every panel review is in.

    For issue data that does not come from the database (tests, the benchmark); an issue
    loaded by `load_issue_data` carries the editorial readiness instead.
    """
    found = []
    for comparison in view.comparisons:
        for row in comparison.rows:
            for cell in (row.a, row.b):
                if cell.verdict == "pending":
                    found.append(f"{comparison.position}: {row.reviewer} has not reviewed {cell.tool}")
    return found


def view_from_data(data: IssueData, *, settings, medium: str = EMAIL,
                   placeholders: links.Placeholders | None = None) -> IssueView:
    """The view of an issue for one medium (`EMAIL` or `WEB`), from its loaded data.

    The email's per-subscriber links are placeholders with a fresh nonce, unless `placeholders`
    is given (tests that compare two views); the web view has none.
    """
    if medium not in (EMAIL, WEB):
        raise ValueError(f"unknown medium {medium!r}")
    placeholders = placeholders or links.Placeholders.fresh()
    base = settings.base_url
    issue_url = links.issue_url(base, data.number)
    email = medium == EMAIL
    web_link = placeholders(links.WEB) if email else issue_url
    count = len(data.comparisons)
    comparisons = tuple(
        _comparison(c, index=i, count=count, settings=settings, medium=medium, web_link=web_link,
                    placeholders=placeholders)
        for i, c in enumerate(data.comparisons, start=1)
    )
    host = urlsplit(base).hostname or base
    if email:
        why = f"You get this email because you subscribed to {settings.name} at {host} with the address"
        cadence = "One issue a week. Leave with one click: no login, no questions."
    else:
        why = f"{settings.name} is a weekly email: two new AI tools, one panel, one verdict."
        cadence = f"Subscribe at {host} to get the next issue and vote on it."
    kicker = f"Issue {data.number}"
    if data.date is not None:
        kicker += f" \u00b7 {data.date.day} {data.date:%B %Y}"
    view = IssueView(
        medium=medium, lang=settings.language, newsletter=settings.name, tagline=settings.tagline,
        number=data.number, kicker=kicker, subject=data.subject,
        preheader=data.preheader or (comparisons[0].title if comparisons else data.subject),
        intro=paragraphs(data.intro), comparisons=comparisons,
        links=Links(
            web_version=web_link if email else None,
            archive=base + links.ARCHIVE_PATH,
            subscribe=base + links.SUBSCRIBE_PATH,
            unsubscribe=placeholders(links.UNSUBSCRIBE) if email else None,
            canary=links.canary_url(base, data.number) if email else None,
            reader=placeholders(links.EMAIL) if email else None,
        ),
        footer=Footer(postal_address=settings.postal_address, why=why, cadence=cadence, sender_name=settings.name),
        ready=False, warnings=(), placeholders=placeholders,
        last_week=_last_week(data.last_week, settings=settings), logo=logo_view(settings),
    )
    if data.missing is not None:
        problems = list(data.missing)
    else:
        problems = missing_reviews(view)
        if not comparisons:
            problems.insert(0, "the issue has no comparison yet")
    return dataclasses.replace(view, ready=not problems, warnings=tuple(problems))


def quotes_to_web(view: IssueView, *, keep: int) -> IssueView:
    """The view with the quotes of every comparison after the first `keep` moved to the web page.

    The badges (who ships what) stay in the email; the quotes are a link away. Used by the
    render to stay under the clipping budget.
    """
    comparisons = tuple(
        c if i < keep else dataclasses.replace(c, quotes_on_web=True)
        for i, c in enumerate(view.comparisons)
    )
    return dataclasses.replace(view, comparisons=comparisons)


# --- loading from the database ---------------------------------------------------------------

def read_issue_data(*, db, settings, issue_number: int | str) -> IssueData:
    """The issue's data, read through `digest.data.comparison_cards` (no ORM: what
    `digest issue render` and queueing use; SQLAlchemy alone costs more than the rest of a
    render). The cards and readiness are built by `digest.editorial.card_view` and
    `issue_view`, as `digest issue show` builds them, so the data equals `load_issue_data`'s.
    Raises NotFoundError when there is no such issue, ValidationError for a bad number.
    """
    from digest.data.comparison_cards import issue_rows, previous_sent_number
    from digest.editorial.card_view import build_card
    from digest.editorial.issue_view import assess
    from digest.errors import NotFoundError
    from digest.ids import parse_id

    def cards(rows) -> tuple:  # noqa: ANN001
        return tuple(build_card(comparison=r.comparison, tool_a=r.tool_a, tool_b=r.tool_b, reviews=r.reviews,
                                votes=r.votes, issue=r.issue, panel=settings.panel) for r in rows)

    number = parse_id(issue_number, "issue")
    issue, rows = issue_rows(db, number)
    if issue is None:
        raise NotFoundError(f"no issue {number}", hint="`digest issue list` shows the issues")
    readiness = assess(issue, [(r.comparison, (r.tool_a, r.tool_b), r.reviews) for r in rows], settings.panel)
    previous_number = previous_sent_number(db, number)
    previous, previous_cards = issue_rows(db, previous_number) if previous_number is not None else (None, [])
    return issue_data(issue=issue, cards=cards(rows), missing=readiness.missing, previous=previous,
                      previous_cards=cards(previous_cards))


def load_issue_data(*, session, settings, issue_number: int | str) -> IssueData:
    """The issue's data, comparisons in issue order, through the editorial stage's ORM loaders
    (for callers that hold a Session: the web app).

    The figures are the editorial cards' own (`digest.panel` via `comparison_card`) and the
    readiness is `digest.editorial.readiness`, so the email says what `digest issue show`
    says. Raises NotFoundError when there is no such issue, ValidationError for a bad number.
    """
    from digest.editorial import get_issue, issue_detail, previous_sent_issue

    issue = get_issue(session, issue_number)
    state = issue_detail(session=session, issue=issue, panel=settings.panel)
    previous = previous_sent_issue(session, issue)
    previous_cards = () if previous is None else issue_detail(session=session, issue=previous,
                                                              panel=settings.panel).cards
    return issue_data(issue=issue, cards=state.cards, missing=state.readiness.missing, previous=previous,
                      previous_cards=previous_cards)


def issue_data(*, issue, cards, missing, previous=None, previous_cards=()) -> IssueData:  # noqa: ANN001
    """IssueData from an issue (ORM row or record), its editorial cards in order, its readiness's
    missing reviews, and the previous issue that went out with its cards: the one place both
    loaders build it."""
    last_week = None
    if previous is not None:
        last_week = PreviousIssueData(number=previous.number, subject=previous.subject,
                                      comparisons=tuple(_comparison_data(card) for card in previous_cards))
    return IssueData(number=issue.number, subject=issue.subject, preheader=issue.preheader,
                     intro=issue.intro, status=issue.status, date=issue.sent_at or issue.scheduled_at,
                     comparisons=tuple(_comparison_data(card) for card in cards),
                     missing=tuple(m.message for m in missing), last_week=last_week)


def _comparison_data(card) -> ComparisonData:  # noqa: ANN001 - an editorial ComparisonCard
    comparison = card.comparison
    reviews = tuple(ReviewData(reviewer=line.reviewer.key, side=side, verdict=review.verdict, quote=review.quote)
                    for line in card.scorecard for side, review in (("a", line.a), ("b", line.b))
                    if review is not None)
    return ComparisonData(id=comparison.id, title=comparison.title, pricing_read=comparison.pricing_read,
                          a=_tool_data(card.a.tool), b=_tool_data(card.b.tool), reviews=reviews,
                          votes_a=card.figures.a.votes, votes_b=card.figures.b.votes, figures=card.figures)


def _tool_data(tool) -> ToolData:
    return ToolData(id=tool.id, name=tool.name, tagline=tool.tagline, description=tool.description,
                    category=tool.category, vendor=tool.vendor, price=tool.price, url=tool.url)


def build_view(*, session, settings, issue_number: int | str, medium: str = EMAIL) -> IssueView:
    """The view of issue `issue_number` for `medium` (`EMAIL` or `WEB`); NotFoundError when it does not exist."""
    return view_from_data(load_issue_data(session=session, settings=settings, issue_number=issue_number),
                          settings=settings, medium=medium)

