"""Preflight: is this newsletter folder ready to mail real readers?

`digest check` runs every check and prints one finding per line; `issue queue`, `send` and
the scheduler's sends call `require_ready`, which runs the offline checks and refuses
(NotReadyError, exit 2) while any of them finds a problem. One module per kind of check:

    identity    sender, reply_to, editor, postal_address: no placeholders
    weburl      base_url: public https once real readers exist
    secretkey   the signing key: present, not the demo's
    readers     who is active, and whether a sandbox folder really mails sample readers only
    smtp        smtp.url (offline), then a real session: connect, EHLO, STARTTLS, AUTH
    mailauth    SPF, DMARC and the DKIM key in DNS (network)

`sandbox = true` in digest.toml marks a demo or test folder that mails sample readers only:
placeholders there are warnings. `digest init` never sets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.preflight.findings import OK, PROBLEM, WARNING, Finding, Report

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from digest.config import Settings

def run_checks(*, settings: Settings, engine: Engine, offline: bool = False) -> Report:
    """Every check, in a fixed order; network ones (SMTP session, DNS) unless `offline`."""
    from digest.preflight.identity import check_identity
    from digest.preflight.readers import check_readers, count_readers
    from digest.preflight.secretkey import check_secret_key
    from digest.preflight.smtp import check_smtp_settings
    from digest.preflight.weburl import check_base_url

    report = Report(sandbox=settings.sandbox, offline=offline)
    readers = count_readers(engine)
    report.add(*check_readers(readers, sandbox=settings.sandbox))
    report.add(*check_identity(settings))
    report.add(check_base_url(settings, real_readers=readers.real))
    report.add(*check_secret_key(settings))
    report.add(*check_smtp_settings(settings))
    if not offline:
        from digest.preflight.mailauth import check_mail_auth
        from digest.preflight.smtp import check_smtp_session

        report.add(check_smtp_session(settings))
        report.add(*check_mail_auth(settings))
    return report


def require_ready(*, settings: Settings, engine: Engine, action: str, skip: bool = False) -> Report:
    """The offline checks before `action` mails readers; NotReadyError (exit 2) naming each
    problem. With `skip` (the editor's explicit --skip-check) the report is returned whatever it
    holds: the caller tells (prints or logs) each problem it goes ahead despite."""
    from digest.errors import NotReadyError

    report = run_checks(settings=settings, engine=engine, offline=True)
    problems = [f"{f.check}: {f.message}" for f in report.problems]
    if not problems:
        return report
    if skip:
        return report
    raise NotReadyError(f"{action} refused: this folder is not ready for real readers "
                        f"({len(problems)} problem{'s' if len(problems) > 1 else ''}: " + "; ".join(problems) + ")",
                        problems=problems,
                        hint="fix them (`digest check` lists every finding), or pass --skip-check to go ahead anyway")


__all__ = ["OK", "PROBLEM", "WARNING", "Finding", "Report", "require_ready", "run_checks"]
