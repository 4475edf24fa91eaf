"""The demo's delivery stage on a folder where earlier stages left a rendered issue 1."""

from __future__ import annotations

from delivery_helpers import make_ready_issue, parse, write_parts
from digest.demo import DemoRun
from digest.demo_send import SAMPLE_READERS, stage_send


def test_stage_send_delivers_issue_1_to_the_sample_readers(home, engine, settings) -> None:
    write_parts(settings, 1, make_ready_issue(engine, settings, comparisons=2))
    lines: list[str] = []
    run = DemoRun(home=home, say=lines.append, settings=settings)
    try:
        stage_send(run)
    finally:
        run.close()
    assert sorted(m.recipients[0] for m in run.inbox) == sorted(SAMPLE_READERS)
    assert all(parse(m.data)["List-Unsubscribe-Post"] for m in run.inbox)
    assert any("4 sent, 0 failed" in line and "issue 1 is sent" in line for line in lines)
    assert sum("arrived for" in line and "4 signed vote links" in line for line in lines) == 4
