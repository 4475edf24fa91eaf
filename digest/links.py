"""Where an email's links point, and the placeholders that stand for them until send time.

An issue is rendered once; the per-subscriber parts (vote links, the unsubscribe link, the
subscriber's address) are placeholders such as `__digest_vote_12_a__` that the sender replaces
by plain substitution. This module is the contract between render (which writes placeholders),
the sender (which fills them) and the web app (which serves the paths below).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from digest.errors import ConfigError
from digest.tokens import Purpose, Signer

# The web app's routes for links in emails (digest.web serves exactly these).
VOTE_PATH = "/vote/{token}"
UNSUBSCRIBE_PATH = "/unsubscribe/{token}"
CONFIRM_PATH = "/confirm/{token}"
ISSUE_PATH = "/issues/{number}"
CANARY_PATH = "/p/{number}"  # an invisible link in each email that only scanners fetch
ARCHIVE_PATH = "/issues/"
SUBSCRIBE_PATH = "/"

PLACEHOLDER = re.compile(r"__digest_([a-z0-9_]+?)__")
# Longest URL a placeholder may expand to; keeps substituted lines under SMTP's 998-octet cap.
MAX_LINK_LENGTH = 200
MAX_BASE_URL_LENGTH = 120

UNSUBSCRIBE = "unsubscribe"
# Proofs and sample.eml sign their links for this id, which no subscriber has (ids start at 1):
# the links verify, so the web app can show the editor what a reader would see, and act on no one.
PROOF_SUBSCRIBER_ID = 0
WEB = "web"
EMAIL = "email"


def placeholder(name: str) -> str:
    return f"__digest_{name}__"


def vote_name(comparison_id: int, choice: str) -> str:
    return f"vote_{comparison_id}_{choice}"


def vote_placeholder(comparison_id: int, choice: str) -> str:
    return placeholder(vote_name(comparison_id, choice))


def is_vote_placeholder(text: str) -> bool:
    return text.startswith("__digest_vote_") and PLACEHOLDER.fullmatch(text) is not None


def names_in(text: str) -> set[str]:
    """Every placeholder name used in a rendered part."""
    return set(PLACEHOLDER.findall(text))


def issue_url(base_url: str, number: int) -> str:
    return base_url + ISSUE_PATH.format(number=number)


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
        self._web = issue_url(base_url, issue_number)
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
