"""A sample issue with original content, for tests and the render, send and million benchmarks.

Three comparisons of six invented tools, reviewed by the default panel with quotes of about
120 words each: the size of a real issue, so budgets and timings measured on it mean
something. `sample_issue_data` gives the plain data (no database); `add_sample_issue` writes
the same issue into a database through the tables, for the CLI and end-to-end tests.
It sits in the demo package, above render: nothing in the library imports it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from digest.view import ComparisonData, IssueData, ReviewData, ToolData

TOOLS = (
    ToolData(1, "Patchwise", "Code review that reads the whole repository, not just the diff",
             "Patchwise reviews pull requests with the context of the entire codebase: it indexes "
             "the repository, follows call sites across modules and comments only where a change "
             "breaks an assumption made somewhere else. Teams connect it to their forge in a few "
             "minutes and can tune how talkative it is per directory. The free tier covers public "
             "repositories; private ones are billed per active contributor.",
             "Developer tools", "Patchwise Labs", "freemium", "https://patchwise.example/"),
    ToolData(2, "Lintern", "An AI intern that fixes lint failures and opens the pull request",
             "Lintern watches continuous integration for lint and type-check failures, writes the "
             "fix in a branch and opens a pull request with an explanation of every change. It "
             "never pushes to the main branch and stops after three attempts, leaving a note for "
             "a human. Pricing is a flat monthly fee per repository, with a two-week trial.",
             "Developer tools", "Lintern Inc.", "paid", "https://lintern.example/"),
    ToolData(3, "Minutely", "Meeting notes that become tickets before the call ends",
             "Minutely joins video calls, writes a running summary and turns each agreed action "
             "into a ticket in the team's tracker, assigned and dated, while the meeting is still "
             "going. Participants can veto a ticket from the chat. Notes stay in the vendor's "
             "cloud for ninety days unless an administrator shortens that window.",
             "Productivity", "Minutely", "freemium", "https://minutely.example/"),
    ToolData(4, "Recapture", "Searchable memory of every call, on your own servers",
             "Recapture records, transcribes and indexes calls on infrastructure the customer "
             "runs, then answers questions across months of conversations with citations to the "
             "exact minute. It ships as a container image with a small web interface and needs a "
             "single graphics card for transcription at the speed of a normal team.",
             "Productivity", "Recapture Collective", "open-source", "https://recapture.example/"),
    ToolData(5, "Tessellate", "Vector search that lives inside your Postgres",
             "Tessellate is a Postgres extension that adds approximate nearest-neighbour indexes "
             "tuned for filtered queries, so retrieval can join against the tables an application "
             "already has. It builds indexes concurrently, respects row-level security and reports "
             "recall estimates next to query plans.",
             "Data infrastructure", "Tessellate Project", "open-source", "https://tessellate.example/"),
    ToolData(6, "Quarry", "A managed retrieval API with evaluation built in",
             "Quarry hosts document ingestion, chunking, embedding and search behind one API, and "
             "runs a nightly evaluation of answer quality against questions the customer curates. "
             "Dashboards show which documents are never retrieved and which queries regress after "
             "a model change. Usage is billed per thousand queries with a monthly minimum.",
             "Data infrastructure", "Quarry Systems", "paid", "https://quarry.example/"),
)

PAIRS = (
    (0, 1, "Patchwise vs Lintern: who should touch your pull requests?",
     "Patchwise is cheap to start and scales with headcount, so a ten-person team pays little and a "
     "two-hundred-person one feels it. Lintern's flat fee per repository favours monorepos and punishes "
     "teams with many small services."),
    (2, 3, "Minutely vs Recapture: notes in the cloud or memory on your servers?",
     "Minutely's free plan is generous for small teams, and the paid plan is priced per seat. Recapture "
     "costs nothing to license, but the graphics card and the hours to run it are a real line item."),
    (4, 5, "Tessellate vs Quarry: retrieval you host or retrieval you rent?",
     "Tessellate is free and runs on the database you already pay for. Quarry's monthly minimum is "
     "modest, but per-query billing makes costs move with traffic, which finance teams notice."),
)

# Sentence banks per reviewer; {tool} is the tool under review, {other} the one it faces.
_BANKS = {
    "builder": (
        "The primitive in {tool} is easy to name, and that is rarer than it sounds in this category.",
        "I set it up on a medium-sized repository in under an hour, and the defaults were sensible enough that I changed only two of them.",
        "The documentation shows real requests and real failures, which tells me the team has used its own product in anger.",
        "Where it stumbles is configuration: the settings that matter are spread across three screens and one file.",
        "Compared with {other}, the integration surface is smaller, so there is less to learn and less to break.",
        "Error messages say what happened and what to do next, and that alone saves an afternoon a month.",
        "I would still want an export path before I let it own anything my team depends on every day.",
        "If the next release keeps the surface this small, it becomes the default I reach for.",
    ),
    "skeptic": (
        "Three well-funded companies announced something similar this quarter, so {tool} has to win on execution rather than novelty.",
        "The failure mode I worry about is quiet drift: it works in the demo and degrades slowly on messy, real data.",
        "The vendor publishes no numbers on accuracy, and a claim without a method is a slogan, not a result.",
        "Against {other}, the risk profile is different rather than lower, because the trust boundary sits somewhere else.",
        "What kills this in a year is not a rival product but a platform owner shipping the feature for free.",
        "Still, the team answered hard questions in public, and they admitted a limitation before anyone found it.",
        "I would run it on one project for a month and measure before committing a whole department.",
        "That caution is the whole point of a panel, and it is why my verdict comes with conditions.",
    ),
    "buyer": (
        "The budget that pays for {tool} already exists in most teams, which removes the hardest part of any purchase.",
        "Pricing is readable on one page, and I could estimate a year of spend without booking a sales call.",
        "Lock-in is moderate: the data leaves in a documented format, but the workflows built around it do not.",
        "Compared with {other}, the total cost is lower for small teams and converges once usage grows.",
        "Procurement will ask about data retention and subprocessors, and the answers are already published.",
        "The trial is long enough to measure real savings rather than first impressions.",
        "I would negotiate an annual price cap before rolling it out beyond one department.",
        "If the savings hold for a quarter, renewal is an easy conversation with finance.",
    ),
    "futurist": (
        "The bet behind {tool} is that this job moves from people to software within three years, and I think that bet is sound.",
        "For it to matter, the models underneath must keep getting cheaper faster than they get better, which has held so far.",
        "The second-order effect is interesting: when this is cheap, teams will do the task far more often than they do today.",
        "Set beside {other}, it is early rather than late, which is a risk and an advantage at the same time.",
        "The dependency that must not break is access to the customer's own data, and regulation could narrow it.",
        "If it works, this becomes plumbing that nobody talks about, which is the best outcome for any tool.",
        "I expect the category to consolidate, and the survivors will be the ones with the cleanest interfaces.",
        "On balance it points where the trend is going, even if the current version is only a first step.",
    ),
}

# Verdicts per comparison: reviewer -> (verdict on A, verdict on B).
_VERDICTS = (
    {"builder": ("ship", "ship"), "skeptic": ("ship", "skip"), "buyer": ("ship", "ship"), "futurist": ("ship", "skip")},
    {"builder": ("ship", "skip"), "skeptic": ("skip", "ship"), "buyer": ("ship", "skip"), "futurist": ("skip", "ship")},
    {"builder": ("ship", "skip"), "skeptic": ("ship", "skip"), "buyer": ("skip", "ship"), "futurist": ("ship", "ship")},
)


def sample_quote(reviewer: str, tool: str, other: str, *, seed: int, sentences: int = 6) -> str:
    """A reviewer's quote of `sentences` sentences (about 20 words each) from its bank."""
    bank = _BANKS[reviewer]
    picked = [bank[(seed + i) % len(bank)] for i in range(sentences)]
    return " ".join(s.format(tool=tool, other=other) for s in picked)


def sample_issue_data(*, number: int = 1, comparisons: int = 3, sentences: int = 6,
                      reviewers: tuple[str, ...] = ("builder", "skeptic", "buyer", "futurist"),
                      votes: bool = True) -> IssueData:
    """The sample issue as plain data; more comparisons than three repeat the pairs."""
    items = []
    for index in range(comparisons):
        a_index, b_index, title, pricing = PAIRS[index % len(PAIRS)]
        a, b = TOOLS[a_index], TOOLS[b_index]
        verdicts = _VERDICTS[index % len(_VERDICTS)]
        reviews = []
        for r_index, reviewer in enumerate(reviewers):
            bank = reviewer if reviewer in _BANKS else tuple(_BANKS)[r_index % len(_BANKS)]
            va, vb = verdicts.get(reviewer, ("ship", "skip"))
            reviews.append(ReviewData(reviewer, "a", va, sample_quote(bank, a.name, b.name, seed=index * 2 + r_index,
                                                                      sentences=sentences)))
            reviews.append(ReviewData(reviewer, "b", vb, sample_quote(bank, b.name, a.name, seed=index * 2 + r_index + 3,
                                                                      sentences=sentences)))
        items.append(ComparisonData(
            id=index + 1, title=title if index < len(PAIRS) else f"{title} (round {index // len(PAIRS) + 1})",
            pricing_read=pricing, a=a, b=b, reviews=tuple(reviews),
            votes_a=(37, 12, 0)[index % 3] if votes else 0, votes_b=(21, 30, 0)[index % 3] if votes else 0,
        ))
    return IssueData(
        number=number, subject="Patchwise vs Lintern, and two more verdicts",
        preheader="Code review, meeting memory and retrieval: the panel picks a side three times.",
        intro=("Three pairs this week, each tested by the panel on real work. Code review bots "
               "meet the linters that fix themselves, meeting notes go up against a memory you host, "
               "and vector search inside Postgres faces a retrieval service you rent.\n\n"
               "Vote for the one you would ship with: the community tally appears in next week's issue."),
        status="draft", date=datetime(2025, 6, 3, 9, 0, tzinfo=UTC), comparisons=tuple(items),
    )


def add_sample_issue(*, session, data: IssueData | None = None) -> int:
    """Write `data` (default: the sample issue) into the database as new rows; its issue number.

    Tools are created afresh (slugs suffixed when taken), comparisons and reviews follow the
    data, votes are cast by generated subscribers. The session is flushed, not committed.
    """
    from sqlmodel import select

    from digest.models import (Comparison, Issue, IssueComparison, Review, Subscriber, Tool, Vote)

    data = data or sample_issue_data()
    made: dict[int, int] = {}

    def tool_id(tool: ToolData) -> int:
        if tool.id in made:
            return made[tool.id]
        slug = base = tool.name.lower().replace(" ", "-")[:100] or "tool"
        suffix = 1
        while session.exec(select(Tool).where(Tool.slug == slug)).first() is not None:
            suffix += 1
            slug = f"{base}-{suffix}"
        row = Tool(slug=slug, name=tool.name, tagline=tool.tagline, description=tool.description,
                   category=tool.category, vendor=tool.vendor, price=tool.price, url=tool.url)
        session.add(row)
        session.flush()
        made[tool.id] = row.id
        return row.id

    issue = Issue(number=data.number, subject=data.subject, preheader=data.preheader, intro=data.intro,
                  status=data.status, scheduled_at=data.date)
    session.add(issue)
    session.flush()
    voters: list[int] = []
    for position, item in enumerate(data.comparisons):
        a_id, b_id = tool_id(item.a), tool_id(item.b)
        comparison = Comparison(tool_a_id=a_id, tool_b_id=b_id, title=item.title, pricing_read=item.pricing_read)
        session.add(comparison)
        session.flush()
        session.add(IssueComparison(issue_id=issue.id, comparison_id=comparison.id, position=position))
        for review in item.reviews:
            session.add(Review(comparison_id=comparison.id, tool_id=a_id if review.side == "a" else b_id,
                               reviewer=review.reviewer, verdict=review.verdict, quote=review.quote))
        needed = item.votes_a + item.votes_b
        while len(voters) < needed:
            subscriber = Subscriber(email=f"voter{len(voters)}@example.org", email_key=f"voter{len(voters)}@example.org",
                                    status="active")
            session.add(subscriber)
            session.flush()
            voters.append(subscriber.id)
        for i in range(needed):
            session.add(Vote(comparison_id=comparison.id, subscriber_id=voters[i],
                             choice="a" if i < item.votes_a else "b"))
    session.flush()
    return issue.number
