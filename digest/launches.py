"""Launch detection: is a feed entry an AI tool launch, and what is the tool called?

`judge()` reads an entry's title and summary with rules and small lexicons (no model, no
network, a few compiled regular expressions per entry, so it runs inside the parse workers)
and returns a Judgement: the decision, a short reason the editor can read, and the tool's
name, tagline, vendor, category (from the taxonomy below) and entry price.

The order of the rules is the explanation (docs/launches.md has the full table):
1. a feed marked `ai-launches` is a curated list: every entry is a launch;
2. post shapes that are never launches: Ask HN (question post), Tell HN (community post),
   hiring, funding news, company news, policy, events, case studies, roundups, articles,
   tutorials and research, product updates;
3. a launch needs a launch signal: Show HN / Launch HN, a launch verb ("Introducing",
   "launches", "is now generally available"), a `launches` feed, or a title that reads
   "Name: tagline";
4. a launch that is not about AI (no word of the AI lexicon) is "not about AI".
A post announcing two products ("Introducing A and B") becomes one tool, the first named:
one entry is one tool, so dedupe and links stay simple; the reason names the second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("mixed", "launches", "ai-launches")
_TOKEN = re.compile(r"[a-z0-9]+")


def _split_top(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return parts + [pattern[start:]]


def _stems(pattern: str) -> set[str]:
    """The literal words any match of `pattern` starts with, cut to 4 letters; "" when a match
    may start otherwise (the pattern must then always run)."""
    stems: set[str] = set()
    for alternative in _split_top(pattern):
        alternative = alternative.lstrip("^")
        while alternative.startswith("\\b"):
            alternative = alternative[2:]
        if alternative.startswith("(?:"):
            depth, end = 0, 0
            for end, char in enumerate(alternative):
                depth += char == "("
                depth -= char == ")"
                if depth == 0 and char == ")" and alternative[end - 1] != "\\":
                    break
            if alternative[end + 1:end + 2] in ("?", "*"):
                stems.add("")
            else:
                stems |= _stems(alternative[3:end])
            continue
        word = _TOKEN.match(alternative.lower())
        stem = word.group(0) if word else ""
        after = alternative[len(stem):len(stem) + 2]
        if stem and after[:1] in ("?", "*", "{"):
            stem = stem[:-1]  # "llms?": the last letter is optional
        elif stem and (after[:1] == " " or after in ("\\b", "\\s", "\\.")):
            stems.add("=" + stem)  # a whole word ("how \\w+", "a\\.i\\."): matched among the words
            continue
        stems.add(stem[:4])
    return stems


def _words(text: str) -> tuple[set[str], set[str]]:
    """The words of `text` (lowercase) and their first 1 to 4 letters, for _Prefilter."""
    tokens = set(_TOKEN.findall(text.lower()))
    found = {token[:4] for token in tokens}
    found.update([token[:3] for token in tokens], [token[:2] for token in tokens], [token[:1] for token in tokens])
    return tokens, found


class _Prefilter:
    """Which of several regular expressions can match a text, from its words' first letters:
    a handful of dict lookups per word instead of scanning the text with every pattern. The
    patterns stay the truth; this only skips those that cannot match."""

    def __init__(self, patterns: list[str]) -> None:
        self.always: set[int] = set()
        self.index: dict[str, set[int]] = {}  # first letters of a word -> patterns
        self.exact: dict[str, set[int]] = {}  # a whole word -> patterns
        for number, pattern in enumerate(patterns):
            for stem in _stems(pattern):
                if stem.startswith("="):
                    self.exact.setdefault(stem[1:], set()).add(number)
                elif stem:
                    self.index.setdefault(stem, set()).add(number)
                else:
                    self.always.add(number)
        self.keys = frozenset(self.index)
        self.exact_keys = frozenset(self.exact)

    def candidates(self, prefixes: set[str], words: set[str]) -> set[int]:
        """The patterns that may match a text with these words and `_words()` prefixes."""
        found = set(self.always)
        for key in prefixes & self.keys:
            found |= self.index[key]
        for key in words & self.exact_keys:
            found |= self.exact[key]
        return found


class _Lexicon:
    """Groups of words, each matched as `\\b(?:group)\\b`: plain words (an optional plural "s?"
    included) by a set lookup among the text's words, the rest of a group by its regular
    expression, run only when _Prefilter says it can match."""

    def __init__(self, groups: list[str]) -> None:
        self.plain: list[frozenset[str]] = []
        self.rest: list[re.Pattern[str] | None] = []
        sources = []
        for group in groups:
            plain, other = set(), []
            for alternative in _split_top(group):
                word = re.fullmatch(r"([a-z0-9]+)(s\?)?", alternative)
                if word:
                    plain.update((word.group(1), word.group(1) + "s") if word.group(2) else (word.group(1),))
                else:
                    other.append(alternative)
            self.plain.append(frozenset(plain))
            self.rest.append(re.compile(rf"\b(?:{'|'.join(other)})\b", re.IGNORECASE) if other else None)
            sources.append("|".join(other) if other else "zzzz-never")
        self.filter = _Prefilter(sources)

    def first(self, text: str, tokens: set[str], prefixes: set[str]) -> int | None:
        """The number of the first group that occurs in `text`, or None."""
        candidates = self.filter.candidates(prefixes, tokens)
        for number, plain in enumerate(self.plain):
            if not tokens.isdisjoint(plain):
                return number
            rest = self.rest[number]
            if rest is not None and number in candidates and rest.search(text):
                return number
        return None


# The taxonomy: category -> words that put a launch in it, most specific first.
TAXONOMY: tuple[tuple[str, str], ...] = (
    ("meetings", r"meetings?|calls? recordings?|note-?takers?|minutes|scribe for sales|sales calls"),
    ("legal", r"legal|contracts?|terms of service|lawyers?|clauses?"),
    ("health", r"health|clinical|therapists?|patients?|medical|doctors?"),
    ("finance", r"bookkeep\w*|invoices?|accounting|expenses?|bank feed|finance|payments?"),
    ("education", r"tutors?|students?|flashcards?|lectures?|teach\w*|homework|learners?"),
    ("hr", r"candidates?|recruit\w*|interviews?|hiring pipeline"),
    ("security", r"prompt injection|security|vulnerabilit\w*|guardrails?"),
    ("sales", r"sdr|cold emails?|crm|leads|outreach"),
    ("support", r"support (?:tickets?|inbox|calls?)|customer support|help ?cent(?:er|re)|tickets?|zendesk"),
    ("coding", r"code|coding|pull requests?|\bprs?\b|diffs?|repositor\w*|developers?|ide|terminal|"
               r"debug\w*|prompts?|unit tests?|commits?"),
    ("agents", r"agents?|agentic|automat\w*|books flights"),
    ("video", r"videos?|clips?|youtube\w*|text-to-video|b-roll|film\w*|ad spots"),
    ("voice", r"voices?|speech|transcri\w*|text to speech|tts|podcasts?|translat\w*|dub\w*"),
    ("audio", r"music|audio|songs?|sound"),
    ("image", r"images?|photos?|pictures?|illustrations?"),
    ("design", r"designs?|figma|wireframes?|storyboards?|graphics|ui|logos?|brand kit"),
    ("search", r"search|answer engine|answers? questions with (?:sources|citations)"),
    ("research", r"research papers?|papers|citations?|scientific"),
    ("data", r"sql|databases?|spreadsheets?|csv|charts?|pivot|data|analytics|dashboards?|pdfs?|documents?"),
    ("writing", r"writ\w*|essays?|drafts?|copy|emails?|inbox|grant"),
    ("infrastructure", r"gpus?|inference|serverless|fine-tun\w*|self-hosted llm|deploy\w*|serving"),
    ("models", r"models?|weights|llms?|api|embeddings?|open-weights?"),
    ("productivity", r"second brain|notes|tasks?|productivity|calendar|organis\w*|organiz\w*"),
)
_TAXONOMY = _Lexicon([words for _, words in TAXONOMY])
CATEGORIES = tuple(name for name, _ in TAXONOMY)

_AI_WORDS = (
    r"ai|a\.i\.|llms?|gpt\w*|models?|agents?|agentic|machine learning|ml|neural|generative|"
    r"generat(?:e|es|ed|ion)|chatbots?|copilots?|inference|prompts?|rag|embeddings?|fine-tun\w*|"
    r"vision-language|whisper|diffusion|text-to-\w+|speech|transcri\w*|voice agents?|clone your voice|"
    r"open-weights?|weights|mixture-of-experts|ai-native|semantic|natural language|plain english|"
    r"learns from|chat with|cited answers|drafts?|drafting|summar\w*|translat\w*|dub\w*|tutor|answer engine|intelligen\w*|smart|automatic\w*")
_AI = _Lexicon([_AI_WORDS])

_SHAPE = re.compile(r"^\s*(show|launch|ask|tell)\s+hn\s*[:\-–—]\s*", re.IGNORECASE)
_YC = re.compile(r"\s*\((?:YC\s*)?[WSFX]\d{2}\)", re.IGNORECASE)

# Post shapes that are never launches, checked in this order; (reason, pattern).
_NOT_LAUNCH_RULES: tuple[tuple[str, str], ...] = (
    ("hiring", r"\b(?:is hiring|we'?re hiring|who is hiring|hiring:|open roles|join our team|"
               r"seeking freelancer|careers at|now hiring)\b"),
    ("funding news", r"\b(?:raises?|raised|raising)\s+(?:a\s+)?(?:\$|€|£|\d)|\bseries [a-f]\b|\bseed round\b|"
                     r"\bvaluation\b|\bfunding round\b"),
    ("company news", r"\b(?:acquires?|to acquire|acquisition|acquired|partners? with|partnership|appoints|"
                     r"welcoming our new|new (?:ceo|cfo|cto)|opens an office|lays off|layoffs|soc 2|"
                     r"iso 27001|year in review|and \w+ partner)\b"),
    ("policy or safety post", r"\b(?:polic(?:y|ies)|regulat\w*|ai act|senate|lawmakers?|elections?|"
                              r"copyright|lobbying|probe|consultation|code of practice|our approach to|"
                              r"commitments?|misuse|safeguards)\b"),
    ("event", r"\b(?:webinar|conference|join us (?:at|on|for)|register now|meetup|livestream|summit|keynote)\b"),
    ("case study", r"\b(?:case study|customer story|how \w+(?: \w+)? (?:uses|used|cut|automated|built with))\b"),
    ("roundup", r"\b(?:this week in|last week in|weekly|roundup|round-up|newsletter|the best \w+(?: \w+)? "
                r"(?:apps|tools)|what we shipped|everything we shipped)\b"),
    # these two need a digit in the title (checked first, so they rarely run)
    ("roundup", r"\b\d+ (?:new )?(?:tools|launches|frameworks)\b"),
    ("roundup", r"[#\s]\d{2,4}:"),  # a newsletter's issue number: "Import AI 412:", "The Batch #212:"
    ("article or research", r"^(?:how (?:to|we|i)|why|what i learned|my notes|notes on|lessons|interview|"
                            r"the unreasonable|interpreting|scaling laws|benchmarking|fine-tuning|a look)\b|"
                            r"\b(?:tutorial|deep dive|step-by-step|research:|leaderboard|what changed|"
                            r"essay|write-up|blog post|analysis of|surveys? show|report:)\b|^report\b"),
    ("product update", r"\b(?:deprecat\w*|improved|improvements?|now supports|updates to|updates for|"
                       r"security updates|sunset\w*|breaking change)\b"),
)
_NOT_LAUNCH = tuple((reason, re.compile(pattern, re.IGNORECASE)) for reason, pattern in _NOT_LAUNCH_RULES)
_NOT_LAUNCH_FILTER = _Prefilter([pattern for _, pattern in _NOT_LAUNCH_RULES])
_DIGIT_RULES = frozenset({7, 8})  # the numbers of the two rules above that start with a digit
_DIGIT = re.compile(r"\d")
_SUMMARY_RULES = frozenset({"hiring", "funding news"})  # also read in the summary
# every hiring or funding match contains one of these: a summary without any skips both rules
_SUMMARY_HINTS = ("hiring", "roles", "join our", "freelancer", "careers", "rais", "series ", "seed round",
                  "valuation", "funding round")
_MAKER_WORDS = frozenset({"product update", "roundup", "policy or safety post", "company news", "event", "case study"})

_LEAD_VERB = re.compile(
    r"^(?:introducing|announcing|meet|welcome|welcoming|releasing|launching|say hello to|presenting|"
    r"unveiling|today we(?:'re| are) launching|we(?:'re| are) launching)\s+", re.IGNORECASE)
_LEAD_WORDS = frozenset({"introducing", "announcing", "meet", "welcome", "welcoming", "releasing", "launching", "say",
                         "presenting", "unveiling", "today", "we're", "we"})  # first words _LEAD_VERB can match
_NEWS_VERB = re.compile(
    r"^(?P<who>.+?)\s+(?:launches|launched|unveils|debuts|releases|introduces|announces|rolls out|ships)\s+"
    r"(?P<what>.+)$", re.IGNORECASE)
_AVAILABLE = re.compile(
    r"^(?P<what>.+?)\s+(?:is|are)\s+(?:now\s+)?(?:generally available|available|live|out|here|in public preview)\b.*$",
    re.IGNORECASE)
_LAUNCH_WORDS_RULE = (r"launching today|now available|available today|public beta|open beta|"
                      r"research preview|generally available|just launched|is live")
_LAUNCH_WORDS = re.compile(rf"\b(?:{_LAUNCH_WORDS_RULE})\b", re.IGNORECASE)
_LAUNCH_WORDS_FILTER = _Prefilter([_LAUNCH_WORDS_RULE])
_NEWS_VERBS = frozenset({"laun", "unve", "debu", "rele", "intr", "anno", "roll", "ship"})  # word prefixes
_SEPARATORS = (" – ", " — ", " - ", ": ", " | ", " · ")
_ARTICLE = re.compile(r"^(?:the|a|an|our|new)\s+", re.IGNORECASE)
_VERSION_V = re.compile(r"\s+v\d+(?:\.\d+)*$", re.IGNORECASE)
_VERSION_DOTTED = re.compile(r"\s+\d+\.\d+(?:\.\d+)*$")
_SUBJECT = re.compile(r"^(?:ai\s+)?(?:startup|company|lab)\s+", re.IGNORECASE)
_NAME_FROM_TEXT = re.compile(
    r"^(?P<name>[A-Z][\w.\-]*(?:\s[A-Z][\w.\-]*){0,2})\s+(?:is|lets|turns|helps|reads|makes|gives)\b")
_TWO = re.compile(r"^(?P<a>[A-Z0-9][^,]*?)\s+(?:and|&)\s+(?P<b>[A-Z0-9].*)$")
_NAME_WORD = re.compile(r"^(?:[A-Z0-9][\w.\-+]*|[a-z]+[A-Z][\w.\-]*|[a-z][\w\-]*\.(?:ai|io|fm|app|dev|so|sh))$")
_LOWER_OK = frozenset({"of", "for", "and", "code", "review", "ai"})

_PRICE_RULES = (
    r"\b(?:open[- ]source|mit licen[sc]ed|apache 2\.0|apache-2\.0|gpl|self-hostable|weights on the hub|"
    r"open-weights?)\b",
    r"\b(?:freemium|free tier|free plan|free to start|free for individuals|\d+ (?:free )?minutes a month)\b",
    r"(?:[$€£]\s?\d+(?:\.\d+)?\s*(?:/|per |a )\s*(?:mo|month|user|seat|year)|\bpaid plans?\b|"
    r"\bsubscription\b|\bpricing starts\b|\bper seat\b)",
    r"\b(?:(?<!royalty )(?<!royalty-)free(?! tier| plan| to start| trial)|no cost|at no charge)\b",
)
_OPEN_SOURCE, _FREEMIUM, _PAID, _FREE = (re.compile(rule, re.IGNORECASE) for rule in _PRICE_RULES)
_PRICE_FILTER = _Prefilter(list(_PRICE_RULES))
_CURRENCY = re.compile(r"[$€£]")
_FREEMIUM_WORDS = frozenset({"free", "minu"})  # word prefixes, as prefixes() gives them
_PAID_WORDS = frozenset({"paid", "subs", "pric", "seat"})
_FREE_WORDS = frozenset({"free", "cost", "char"})


@dataclass(frozen=True)
class Judgement:
    """The decision on one entry and what was read from it."""

    launch: bool  # an AI tool launch: shown in the editor's default views
    reason: str  # a few words the editor can read: "hiring", "launch: Show HN product post"
    name: str
    tagline: str = ""
    vendor: str | None = None
    category: str | None = None
    price: str = "unknown"


def judge(title: str, summary: str = "", *, kind: str = "mixed", vendor_hint: str | None = None,
          publisher: str | None = None, find_category: bool = True, find_price: bool = True) -> Judgement:
    """The decision, reason and extracted fields for one entry's clean title and summary.

    `kind` is the feed's kind (see KINDS): `ai-launches` trusts every entry as an AI launch,
    `launches` every entry as a launch (AI relevance is still judged), `mixed` judges both.
    `find_category` / `find_price` False skip those (the entry's tags already say them).
    """
    title = " ".join(title.split())
    paragraph = summary.split("\n", 1)[0]
    summary = " ".join(summary.split())
    shape_match = _SHAPE.match(title) if "hn" in title[:12].lower() else None
    shape = shape_match.group(1).lower() if shape_match else None
    rest = title[shape_match.end():] if shape_match else title
    rest = (_YC.sub("", rest) if "(" in rest else rest).strip()
    title_words, title_tokens = _words(rest)
    words_of_summary: list[tuple[set[str], set[str]]] = []

    def all_words() -> tuple[set[str], set[str]]:
        """Words and prefixes of title and summary, computed once, only when a rule needs them."""
        if not words_of_summary:
            summary_words, summary_tokens = _words(summary)
            words_of_summary.append((title_words | summary_words, title_tokens | summary_tokens))
            words_of_summary.append((summary_words, summary_tokens))
        return words_of_summary[0]
    name, tagline, signal, second = _name_and_tagline(rest, summary, kind=kind, shape=shape,
                                                      title_tokens=title_tokens, all_words=all_words)
    tagline = tagline or _first_sentence(paragraph)
    text = f"{rest} {summary}"
    category = None
    if find_category:
        all_words()
        summary_words, summary_tokens = words_of_summary[1]
        head_words, head_tokens = _words(f"{name} {tagline}")
        category = _category(f"{name} {tagline} {summary}", head_words | summary_words, head_tokens | summary_tokens)
    price = _price(text, *all_words()) if find_price else "unknown"
    vendor = publisher or vendor_hint or _vendor_from_news(rest, title_tokens)
    launch, reason = _decide(title, rest, summary, kind=kind, shape=shape, signal=signal,
                             title_words=title_words, title_tokens=title_tokens, all_words=all_words)
    if launch:
        return Judgement(launch=True, reason=reason + (f"; also announces {second}" if second else ""),
                         name=name, tagline=tagline, vendor=vendor, category=category, price=price)
    if reason != "not about AI":
        # not a launch at all: the title as written (without a Show/Launch HN prefix) reads best
        whole = title[shape_match.end():] if shape_match and shape in ("show", "launch") else title
        name, tagline = whole or name, _first_sentence(paragraph)
    # "not about AI" is still a launch, of a product with its own name
    return Judgement(launch=False, reason=reason, name=name, tagline=tagline, vendor=vendor,
                     category=category, price=price)


def _decide(title: str, rest: str, summary: str, *, kind: str, shape: str | None, signal: str,
            title_words: set[str], title_tokens: set[str],
            all_words: Callable[[], tuple[set[str], set[str]]]) -> tuple[bool, str]:
    """Whether the entry is an AI tool launch, and the reason: the feed's kind, the post's
    shape, the not-a-launch rules (hiring, funding, ...), the launch signal, then AI relevance."""
    if kind == "ai-launches":
        return True, "launch: curated AI launch feed"
    if shape == "ask":
        return False, "question post"
    if shape == "tell":
        return False, "community post"
    in_title = _NOT_LAUNCH_FILTER.candidates(title_tokens, title_words)
    if not _DIGIT.search(rest):
        in_title -= _DIGIT_RULES
    else:
        if title_tokens.isdisjoint(("tool", "laun", "fram")):
            in_title.discard(7)
        if ":" not in rest:
            in_title.discard(8)
    lowered = summary.lower()
    summary_may = any(hint in lowered for hint in _SUMMARY_HINTS)  # hiring or funding words at all
    for number, (reason, pattern) in enumerate(_NOT_LAUNCH):
        if (number in in_title and pattern.search(rest)) or \
                (reason in _SUMMARY_RULES and summary_may and pattern.search(summary)):
            if shape in ("show", "launch") and reason in _MAKER_WORDS:
                continue  # a maker's own post: those words describe the product
            return False, reason
    if not signal:
        return False, "not a launch: news or article"
    if _AI.first(rest, title_words, title_tokens) is None and _AI.first(f"{rest} {summary}", *all_words()) is None:
        return False, "not about AI"
    return True, signal


def _name_and_tagline(rest: str, summary: str, *, kind: str, shape: str | None, title_tokens: set[str],
                      all_words: Callable[[], tuple[set[str], set[str]]]) -> tuple[str, str, str, str | None]:
    """(name, tagline, launch signal or "", second product or None) from a title without its
    Show/Launch HN prefix and batch tag."""
    signal = ""
    if shape == "show":
        signal = "launch: Show HN product post"
    elif shape == "launch":
        signal = "launch: Launch HN (a startup's launch)"
    head, tagline = rest, ""
    lead = _LEAD_VERB.match(rest) if rest[:12].split(" ", 1)[0].lower() in _LEAD_WORDS else None
    news = None if lead or title_tokens.isdisjoint(_NEWS_VERBS) else _NEWS_VERB.match(rest)
    available = None if lead or news or title_tokens.isdisjoint(("is", "are")) else _AVAILABLE.match(rest)
    if lead:
        signal = signal or f"launch: announced ({lead.group(0).strip().lower()})"
        head, tagline = _split(rest[lead.end():], commas=True)
    elif news and shape is None:
        signal = "launch: news of a launch"
        head, tagline = _split(news.group("what"), commas=True)
    elif available and shape is None:
        signal = "launch: now available"
        head, tagline = available.group("what"), ""
    else:
        head, tagline = _split(rest, commas=False)
        if not signal and tagline and _looks_like_name(head):
            signal = "launch: product name + tagline"
    if not signal and kind == "launches":
        signal = "launch: launch feed"
    if not signal and _LAUNCH_WORDS_FILTER.candidates(all_words()[1], all_words()[0]) and _LAUNCH_WORDS.search(summary) \
            and _looks_like_name(head):
        signal = "launch: product name + launch words"
    second = None
    if signal and (lead or news):
        two = _TWO.match(head)
        if two and _looks_like_name(two.group("a")) and _looks_like_name(two.group("b")):
            head, second = two.group("a"), two.group("b").strip()
    name = _clean_name(head)
    if shape == "show" and not tagline and len(name.split()) > 4:
        from_text = _NAME_FROM_TEXT.match(summary)
        if from_text:  # "Show HN: Open-source alternative to X" and the summary names it
            name, tagline = from_text.group("name"), rest
    return name, tagline, signal, second


def _split(text: str, *, commas: bool) -> tuple[str, str]:
    for separator in _SEPARATORS + ((", ",) if commas else ()):
        head, found, tail = text.partition(separator)
        if found and head.strip() and tail.strip() and len(head) <= 80:
            return head.strip(), tail.strip()
    return text.strip(), ""


def _looks_like_name(text: str) -> bool:
    """A short run of capitalised or product-shaped words ("Helix Code", "Transcribe.fm")."""
    words = text.split()
    if not 1 <= len(words) <= 5:
        return False
    return _NAME_WORD.match(words[0]) is not None and all(
        _NAME_WORD.match(word) or word.lower() in _LOWER_OK for word in words[1:])


def _clean_name(head: str) -> str:
    name = _ARTICLE.sub("", head.strip().strip("\"'“”‘’").strip())
    name = _VERSION_V.sub("", name)
    if _VERSION_DOTTED.search(name) and not re.search(r"\bmodels?\b", name, re.IGNORECASE):
        stripped = _VERSION_DOTTED.sub("", name)
        if len(stripped.split()) == 1:  # "Framecraft 2.0" is Framecraft; "Helix 3.5" stays a model
            name = stripped
    return name.strip(" ,;:-–—") or head.strip()


def _vendor_from_news(rest: str, title_tokens: set[str]) -> str | None:
    news = None if title_tokens.isdisjoint(_NEWS_VERBS) else _NEWS_VERB.match(rest)
    if not news:
        return None
    who = _SUBJECT.sub("", news.group("who").strip())
    return who if _looks_like_name(who) and len(who.split()) <= 3 else None


def _first_sentence(text: str) -> str:
    """The first sentence of a paragraph, for a tagline when the title has none."""
    text = " ".join(text.split())
    ends = [found for found in (text.find(". "), text.find("! "), text.find("? ")) if found >= 0]
    return (text[:min(ends) + 1] if ends else text).strip()[:300]


def category_of(text: str) -> str | None:
    """The first taxonomy category whose words occur in `text`, or None."""
    return _category(text, *_words(text))


def _category(text: str, words: set[str], tokens: set[str]) -> str | None:
    number = _TAXONOMY.first(text, words, tokens)
    return None if number is None else CATEGORIES[number]


def price_of(text: str) -> str:
    """The entry price the text states: open-source, freemium, paid, free, else unknown."""
    return _price(text, *_words(text))


def _price(text: str, words: set[str], tokens: set[str]) -> str:
    candidates = _PRICE_FILTER.candidates(tokens, words) - {1, 2, 3}  # those three start with a lookbehind or digit
    if not tokens.isdisjoint(_FREEMIUM_WORDS):
        candidates.add(1)
    if not tokens.isdisjoint(_PAID_WORDS) or _CURRENCY.search(text):
        candidates.add(2)
    if not tokens.isdisjoint(_FREE_WORDS):
        candidates.add(3)
    if 0 in candidates and _OPEN_SOURCE.search(text):
        return "open-source"
    free = 3 in candidates and _FREE.search(text)
    paid = 2 in candidates and _PAID.search(text)
    if (1 in candidates and _FREEMIUM.search(text)) or (free and paid):
        return "freemium"
    if paid:
        return "paid"
    if free:
        return "free"
    return "unknown"
