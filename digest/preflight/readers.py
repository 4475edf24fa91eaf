"""Who would get mail: active readers, and how many of them are real (not sample addresses).

Whether real readers exist decides how strict the web check is (links must reach them) and
whether a sandbox folder is still honest about being one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.preflight.findings import OK, PROBLEM, Finding
from digest.preflight.names import SAMPLE_PATTERNS

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Readers:
    active: int
    real: int
    example: str | None  # one real address, to show which kind was found


def count_readers(engine: Engine) -> Readers:
    """Active subscribers, and those not on a reserved example/test domain (one query each)."""
    from sqlalchemy import and_, func, not_, or_, select

    from digest.models import Subscriber, SubscriberStatus

    active = Subscriber.status == SubscriberStatus.ACTIVE.value
    sample = or_(*(Subscriber.email_key.like(pattern) for pattern in SAMPLE_PATTERNS))
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(Subscriber).where(active)).scalar() or 0
        real = connection.execute(select(func.count()).select_from(Subscriber)
                                  .where(and_(active, not_(sample)))).scalar() or 0
        example = connection.execute(select(Subscriber.email).where(and_(active, not_(sample)))
                                     .order_by(Subscriber.id).limit(1)).scalar() if real else None
    return Readers(active=total, real=real, example=example)


def check_readers(readers: Readers, *, sandbox: bool) -> list[Finding]:
    """A sandbox with real readers is not a sandbox: that alone is a problem."""
    sample = readers.active - readers.real
    if sandbox and readers.real:
        return [Finding("sandbox", PROBLEM,
                        f"sandbox = true, but {readers.real} active reader(s) are real addresses "
                        f"(such as {readers.example}); a sandbox mails sample readers only: remove "
                        "`sandbox` and fill in the settings below", "sandbox")]
    if sandbox:
        return [Finding("sandbox", OK, f"sandbox = true: {sample} active reader(s), all sample addresses; "
                        "placeholders below are warnings, not problems", "sandbox")]
    return [Finding("readers", OK, f"{readers.active} active reader(s), {readers.real} of them real "
                    f"({sample} sample address(es))")]
