"""The demo's render stages: issue 1 into outbox/1/, then issue 2 with last week's community verdict.

They live here rather than in `digest.render` because they speak the demo's language (a
`DemoContext`, lines for `ctx.say`); render itself knows nothing of the demo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest import wording
from digest.demo.context import DemoContext

if TYPE_CHECKING:
    from digest.render import RenderReport


def render_issue(ctx: DemoContext, number: int = 1) -> RenderReport:
    """`digest issue render N`: issue `number` into outbox/<number>/, saying where the files are."""
    from digest.render import HTML_BUDGET, render_to_outbox

    report = render_to_outbox(settings=ctx.need_settings(), issue_number=number)
    rendered = report.rendered
    folder = report.files["email.html"].parent
    ctx.say(f"digest issue render {number}: {wording.count(len(rendered.view.comparisons), 'comparison')}, email "
            f"{rendered.html_size / 1000:.0f} KB of the {HTML_BUDGET / 1000:.0f} KB budget, in {folder}/")
    for message in report.warnings:
        ctx.say(f"  warning: {message}")
    for name, path in report.files.items():
        ctx.say(f"  {name:<11} {path}")
    ctx.renders[number] = report
    return report


def render_first(ctx: DemoContext) -> None:
    """Render issue 1: email, text part, web page and a sample message in outbox/1/."""
    render_issue(ctx, 1)


def render_second(ctx: DemoContext) -> None:
    """Render issue 2, with last week's community verdict on issue 1."""
    report = render_issue(ctx, ctx.issues[-1] if ctx.issues else 2)
    last_week = report.rendered.view.last_week
    if last_week is None:
        ctx.say("  (no last week: issue 1 has not gone out)")
        return
    ctx.say(f"  {last_week.heading.lower()} (issue {last_week.number}):")
    for recap in last_week.recaps:
        ctx.say(f"    {recap.headline}. {recap.detail}")
