"""Where an email's links point, and the placeholders that stand for them until send time.

An issue is rendered once; the per-subscriber parts (vote links, the unsubscribe link, the
subscriber's address) are placeholders such as `__digest_<nonce>_vote_12_a__` that the sender
replaces by plain substitution. This module is the contract between render (which writes
placeholders), the sender (which fills them) and the web app (which serves the paths below).

Every render draws a fresh random nonce (`Placeholders.fresh`, 128 bits) and only placeholders
carrying that nonce are ever filled: text that came from a feed or an editor was written before
the nonce existed, so it cannot name a placeholder, whatever it says (`__digest_unsubscribe__`
in a tagline stays those characters). The nonce travels with the parts (`render.json` beside
the rendered files, `manifest.json` once frozen). Parts written before nonces existed use the
bare `__digest_NAME__` form (`LEGACY`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping

from digest import wording
from digest.errors import ConfigError, RenderError
from digest.tokens import Purpose, Signer

# The web app's routes for links in emails (digest.web serves exactly these).
VOTE_PATH = "/vote/{token}"
UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
CONFIRM_PATH = "/confirm/{token}"
ISSUE_PATH = "/issues/{number}"
WEB_TOKEN_PARAM = "t"  # `/issues/N?t=TOKEN`: the email's web-version link, good before the archive has N
CANARY_PATH = "/p/{number}"  # an invisible link in each email that only scanners fetch
ARCHIVE_PATH = "/issues/"
SUBSCRIBE_PATH = "/"

# Longest URL a placeholder may expand to; keeps substituted lines under SMTP's 998-octet cap.
MAX_LINK_LENGTH = 200
MAX_BASE_URL_LENGTH = 120

UNSUBSCRIBE = "unsubscribe"
# Proofs and sample.eml sign their links for this id, which no subscriber has (ids start at 1):
# the links verify, so the web app can show the editor what a reader would see, and act on no one.
PROOF_SUBSCRIBER_ID = 0
WEB = "web"
EMAIL = "email"


_NONCE = re.compile(r"[0-9a-f]{32}")


def vote_name(comparison_id: int, choice: str) -> str:
    return f"vote_{comparison_id}_{choice}"


class Placeholders:
    """The placeholders of one render: `__digest_<nonce>_<name>__`, and how to find them.

    Make one with `fresh()` per render; rebuild it from the stored `nonce` to read parts back.
    The empty nonce is `LEGACY`, the bare form of parts rendered before nonces existed.
    """

    __slots__ = ("nonce", "prefix", "pattern")

    def __init__(self, nonce: str) -> None:
        if nonce and not _NONCE.fullmatch(nonce):
            raise ValueError(f"not a placeholder nonce: {nonce!r}")
        self.nonce = nonce
        self.prefix = f"__digest_{nonce}_" if nonce else "__digest_"
        self.pattern = re.compile(re.escape(self.prefix) + r"([a-z0-9_]+?)__")

    @classmethod
    def fresh(cls) -> Placeholders:
        return cls(secrets.token_hex(16))

    def __call__(self, name: str) -> str:
        return f"{self.prefix}{name}__"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Placeholders) and other.nonce == self.nonce

    def __hash__(self) -> int:
        return hash(self.nonce)

    def __repr__(self) -> str:
        return f"Placeholders({self.nonce!r})"

    def vote(self, comparison_id: int, choice: str) -> str:
        return self(vote_name(comparison_id, choice))

    def is_vote(self, text: str) -> bool:
        match = self.pattern.fullmatch(text)
        return match is not None and match.group(1).startswith("vote_")

    def names_in(self, text: str) -> set[str]:
        """Every placeholder name used in a rendered part."""
        return set(self.pattern.findall(text))


LEGACY = Placeholders("")


def known_names(comparison_ids: Iterable[int]) -> set[str]:
    """Every placeholder an issue with these comparisons may use: what the sender can fill."""
    return {UNSUBSCRIBE, WEB, EMAIL} | {vote_name(c, x) for c in comparison_ids for x in "ab"}


def check_parts(parts: Mapping[str, str], *, placeholders: Placeholders, comparison_ids: Iterable[int]) -> set[str]:
    """The placeholder names `parts` (text by part name) use. RenderError when one names a link
    the sender cannot fill for this issue, or a part offers no unsubscribe link."""
    known = known_names(comparison_ids)
    used: set[str] = set()
    for part, text in parts.items():
        names = placeholders.names_in(text)
        unknown = names - known
        if unknown:
            raise RenderError(f"{part} has an unknown link {wording.plural('placeholder', len(unknown))} "
                              f"{', '.join(sorted(unknown))}", hint=f"the sender fills only {', '.join(sorted(known))}")
        if UNSUBSCRIBE not in names:
            raise RenderError(f"{part} has no unsubscribe link",
                              hint="every email must let the reader leave with one click")
        used |= names
    return used


def issue_url(base_url: str, number: int) -> str:
    return base_url + ISSUE_PATH.format(number=number)


def web_version_url(base_url: str, number: int, signer: Signer) -> str:
    """The email's "view in your browser" link: the issue's page with a signed `web` token, so
    that it opens while the issue is still going out, before the public archive lists it.

    The token names the issue and no subscriber: it lets whoever holds the email read that one
    issue, tells the site nothing about the reader, and is signed once per issue, not per message.
    """
    token = signer.sign(Purpose.WEB, PROOF_SUBSCRIBER_ID, subject_id=number)
    return f"{issue_url(base_url, number)}?{WEB_TOKEN_PARAM}={token}"


def canary_url(base_url: str, number: int) -> str:
    return base_url + CANARY_PATH.format(number=number)


class Personaliser:
    """Builds one subscriber's placeholder values for one issue: signed links and address.

    Made once per issue and send run (it precomputes URL prefixes), then called per message.
    """

    def __init__(self, *, base_url: str, signer: Signer, issue_number: int,
                 comparison_ids: Iterable[int]) -> None:
        if len(base_url) > MAX_BASE_URL_LENGTH:
            raise ConfigError(f"longer than {MAX_BASE_URL_LENGTH} characters", key="base_url")
        self._signer = signer
        self._vote_prefix = base_url + VOTE_PATH.format(token="")
        self._unsubscribe_prefix = base_url + UNSUBSCRIBE_PATH.format(token="")
        self._web = web_version_url(base_url, issue_number, signer)
        self._issue_number = issue_number
        self._votes = [(vote_name(cid, "a"), f".{cid}a", vote_name(cid, "b"), f".{cid}b")
                       for cid in comparison_ids]

    def unsubscribe_url(self, subscriber_id: int) -> str:
        return self._unsubscribe_prefix + self._signer.sign(Purpose.UNSUBSCRIBE, subscriber_id)

    def values(self, subscriber_id: int, email: str) -> dict[str, str]:
        """Every placeholder's value for one subscriber: two signatures, however many votes."""
        vote = self._vote_prefix + self._signer.vote_token(subscriber_id, self._issue_number)
        values = {UNSUBSCRIBE: self.unsubscribe_url(subscriber_id), WEB: self._web, EMAIL: email}
        for name_a, suffix_a, name_b, suffix_b in self._votes:
            values[name_a] = vote + suffix_a
            values[name_b] = vote + suffix_b
        return values
