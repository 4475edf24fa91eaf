"""The demo's last stage: every stage in one screen, with paths and counts, and how to open the email."""

from __future__ import annotations

from pathlib import Path

from digest.demo.bounces import report_first_issue
from digest.demo.context import DemoContext


def summarise(ctx: DemoContext) -> None:
    """Say what each stage did, then where issue 2's email is (or how to keep it next time)."""
    outbox = ctx.need_settings().outbox_dir
    first, last = (ctx.issues[0], ctx.issues[-1]) if ctx.issues else (1, 1)
    new_tools = ctx.polls[0].new_tools if ctx.polls else 0
    lines = [
        ("feeds", f"{len(ctx.feed_names)} sample feeds on {ctx.feeds_base_url}/, {new_tools} tools found"),
        ("editorial", f"{len(ctx.comparisons)} comparisons reviewed by the panel, issues "
                      f"{', '.join(str(n) for n in ctx.issues)}"),
        (f"issue {first}", f"{len(ctx.inbox)} messages delivered to the demo SMTP server; sent parts frozen in "
                           f"{outbox / str(first) / 'frozen'}/"),
    ]
    if ctx.votes:
        tool_a, tool_b = ctx.votes["tools"]
        lines.append(("votes", f"{ctx.votes['a'] + ctx.votes['b']} counted through the web app "
                               f"({tool_a} {ctx.votes['a']}, {tool_b} {ctx.votes['b']}), "
                               f"{ctx.votes['set_aside']} set aside (a mail scanner)"))
    if ctx.bounces:
        lines.append(("bounces", "; ".join(f"{r['email']} {r['status']} ({(r['reason'] or '').partition(':')[0]}, "
                                           f"issue {r['issue']})" for r in ctx.bounces)))
    if first in ctx.issues:
        lines.append(("report", report_first_issue(ctx, first)))
    if last in ctx.renders and last != first:
        view = ctx.renders[last].rendered.view
        said = f"; last week: {view.last_week.recaps[0].headline}" if view.last_week else ""
        lines.append((f"issue {last}", f"rendered in {outbox / str(last)}/{said}"))
    ctx.say("")
    ctx.say("summary")
    for label, text in lines:
        ctx.say(f"  {label:<10} {text}")
    _say_how_to_open(ctx, last, outbox / str(last) / "email.html")


def _say_how_to_open(ctx: DemoContext, last: int, email: Path) -> None:
    if ctx.keep or ctx.serve:
        until = "" if ctx.keep else " (until the demo stops)"
        ctx.say(f"open issue {last}'s email in a browser{until}: {email.as_uri()}")
        ctx.say(f"  or its web version and text part: digest --home {ctx.home} issue preview {last}")
    else:
        ctx.say(f"to open the emails in a browser afterwards: digest demo --keep DIR, then open "
                f"DIR/outbox/{last}/email.html (or: digest --home DIR issue preview {last})")
