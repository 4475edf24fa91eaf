"""What a check found: one `Finding` per line of `digest check`, gathered in a `Report`.

Levels: `ok` (checked and fine), `warning` (worth a look, never blocks a send) and `problem`
(mailing real readers now would embarrass the newsletter or break the law or the links:
`issue queue`, `send` and the scheduler refuse while there is one).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

OK, WARNING, PROBLEM = "ok", "warning", "problem"


@dataclass(frozen=True)
class Finding:
    """One thing checked: `check` names it (`sender`, `dmarc`), `setting` what to change."""

    check: str
    level: str
    message: str
    setting: str | None = None

    def line(self) -> str:
        return f"{self.level:<7} {self.check}: {self.message}"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Report:
    """Every finding of one run, in the order the checks ran."""

    sandbox: bool = False
    offline: bool = False
    findings: list[Finding] = field(default_factory=list)

    def add(self, *findings: Finding) -> None:
        self.findings.extend(findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level == PROBLEM]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def ready(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        problems, warnings = len(self.problems), len(self.warnings)
        counts = f"{_plural(problems, 'problem')}, {_plural(warnings, 'warning')}"
        scope = " (offline: SMTP and DNS not checked)" if self.offline else ""
        if problems:
            return f"{counts}: not ready for real readers{scope}"
        if self.sandbox:
            return f"{counts}: ready as a sandbox (sample readers only){scope}"
        return f"{counts}: ready for real readers{scope}"

    def to_json(self) -> dict:
        return {"ready": self.ready, "sandbox": self.sandbox, "offline": self.offline,
                "problems": len(self.problems), "warnings": len(self.warnings),
                "findings": [f.to_json() for f in self.findings]}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def placeholder_level(sandbox: bool) -> str:
    """A placeholder is a problem, except in a sandbox folder (sample readers only)."""
    return WARNING if sandbox else PROBLEM
