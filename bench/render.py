"""Benchmark: render a three-comparison issue end to end, against MJML for Node in the same run.

    .venv/bin/python bench/render.py [--runs 60] [--skip-node]

Ours: the median in-process time of `Renderer.message_parts` on the sample issue (three
comparisons, four reviewers, ~120-word quotes): the view model, Jinja, mjml-python, CSS
inlining, minifying, the checks (scripts, canary, placeholders, budgets) and the plain-text
part, which is what an issue's message needs. `Renderer.render` (the web page as well, as
`digest issue render` writes it) is printed too. The template environment is built once
beforehand, as a long-running sender or web app would.

Peer: the official MJML for Node (npm package `mjml`, installed by this script into
bench/.node/ with npm), kept in one long-running node process (bench/mjml_server.js) that
renders the very MJML our templates produced. Its figure is the time of the mjml2html call
measured inside node (MJML's render step alone, which includes its own inlining of
`mj-style inline`); the round trip through the pipe is printed too. Ours and node's renders
alternate in blocks of ten, so that on a shared machine both are measured under the same
load; our CPU time (process_time) is printed next to the wall-clock median.

Also printed: each stage of our pipeline alone, and both inliners behind the one seam
(css-inline, the default, and premailer), so the choice of inliner is made with numbers.
Targets: our email pipeline <= 20 ms median, and faster than MJML for Node's render step.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / ".node"
SERVER = HERE / "mjml_server.js"
TARGET_MS = 20.0


def median_ms(function, runs: int) -> float:
    for _ in range(3):
        function()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def ensure_mjml_for_node() -> None:
    if (NODE_DIR / "node_modules" / "mjml" / "package.json").is_file():
        return
    if shutil.which("npm") is None:
        raise SystemExit("npm is not installed; run with --skip-node or install node and npm")
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    print("installing MJML for Node into bench/.node/ (npm install mjml) ...", file=sys.stderr)
    subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--loglevel=error", "mjml"],
                   check=True)


def node_version() -> str:
    package = json.loads((NODE_DIR / "node_modules" / "mjml" / "package.json").read_text())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return f"mjml {package['version']} on node {node}"


class NodeMjml:
    """MJML for Node in one long-running process (bench/mjml_server.js), one render per call."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(["node", str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)

    def render(self, mjml: str) -> tuple[float, float, int]:
        """(render ms inside node, round trip ms, bytes of HTML)."""
        start = time.perf_counter()
        self.process.stdin.write(json.dumps({"mjml": mjml}) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        trip = (time.perf_counter() - start) * 1000
        if "error" in answer:
            raise SystemExit(f"MJML for Node failed: {answer['error']}")
        return answer["ms"], trip, answer["bytes"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def alternating(ours, node: NodeMjml, mjml: str, runs: int, block: int = 10) -> dict[str, float]:
    """Ours and node's render in alternating blocks of `block` runs each.

    On a shared machine both then see the same load over the run; blocks (rather than strict
    alternation) keep node's background work (its garbage collector) out of our timings.
    """
    for _ in range(5):  # warm-up: caches, node's JIT and MJML's lazy requires
        ours()
        node.render(mjml)
    wall, cpu, inside, trips = [], [], [], []
    size = 0
    while len(wall) < runs:
        for _ in range(block):
            start, start_cpu = time.perf_counter(), time.process_time()
            ours()
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        for _ in range(block):
            ms, trip, size = node.render(mjml)
            inside.append(ms)
            trips.append(trip)
    return {"ours": statistics.median(wall), "ours_min": min(wall), "ours_cpu": statistics.median(cpu),
            "node": statistics.median(inside), "node_min": min(inside), "trip": statistics.median(trips),
            "bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="timed runs per figure (median reported)")
    parser.add_argument("--skip-node", action="store_true", help="do not run MJML for Node")
    args = parser.parse_args()

    from digest.config import Settings
    from digest.inline import CSS_INLINE, PREMAILER, inline_css
    from digest.render import DEFAULT_INLINER, Renderer, _render, mjml_to_html, split_inline_css
    from digest.demo.sample import sample_issue_data
    from digest.view import EMAIL, WEB, view_from_data

    home = Path(tempfile.mkdtemp(prefix="digest-bench-"))
    settings = Settings(home=home, secret_key="bench", base_url="https://news.example.org")
    data = sample_issue_data(comparisons=3)
    renderer = Renderer(settings)

    def message() -> None:  # what the sender needs: the email view, its HTML and its text part
        renderer.message_parts(view_from_data(data, settings=settings, medium=EMAIL))

    def whole() -> None:  # and the web page too, as `digest issue render` does
        renderer.render(view_from_data(data, settings=settings, medium=EMAIL),
                        view_from_data(data, settings=settings, medium=WEB))

    view = view_from_data(data, settings=settings, medium=EMAIL)
    mjml = _render(renderer.env, "issue.mjml.j2", view=view)
    rest, css = split_inline_css(mjml)
    raw_html = mjml_to_html(rest)
    rendered = renderer.render(view, view_from_data(data, settings=settings, medium=WEB))

    runs = args.runs
    stages = {
        "view models (email + web)": lambda: (view_from_data(data, settings=settings, medium=EMAIL),
                                              view_from_data(data, settings=settings, medium=WEB)),
        "Jinja -> MJML": lambda: _render(renderer.env, "issue.mjml.j2", view=view),
        "mjml-python (MJML -> HTML)": lambda: mjml_to_html(rest),
        f"inline: {CSS_INLINE}": lambda: inline_css(raw_html, css, engine=CSS_INLINE),
        f"inline: {PREMAILER}": lambda: inline_css(raw_html, css, engine=PREMAILER),
        "text part": lambda: renderer.text(view),
    }
    ours = median_ms(message, runs)
    print(f"issue: 3 comparisons, 4 reviewers, {len(mjml.encode()) / 1000:.1f} KB of MJML -> "
          f"{len(rendered.html.encode()) / 1000:.1f} KB email.html, {len(rendered.text.encode()) / 1000:.1f} KB "
          f"email.txt, {len(rendered.web.encode()) / 1000:.1f} KB web.html")
    print(f"runs per figure: {runs} (median)\n")
    print(f"ours, email pipeline ({DEFAULT_INLINER}): view, Jinja, MJML, inlining, text part, checks")
    print(f"  alone                            {ours:8.2f} ms   target <= {TARGET_MS:.0f} ms: "
          f"{'met' if ours <= TARGET_MS else 'MISSED'}")
    print(f"  with the web page too            {median_ms(whole, runs):8.2f} ms")
    for name, function in stages.items():
        print(f"  {name:<32} {median_ms(function, runs):8.2f} ms")
    slow = Renderer(settings, inliner=PREMAILER)
    with_premailer = median_ms(lambda: slow.message_parts(view_from_data(data, settings=settings, medium=EMAIL)),
                               max(runs // 3, 5))
    print(f"ours, email pipeline with {PREMAILER} instead: {with_premailer:8.2f} ms   target <= {TARGET_MS:.0f} ms: "
          f"{'met' if with_premailer <= TARGET_MS else 'missed'}")

    if args.skip_node:
        return
    ensure_mjml_for_node()
    node = NodeMjml()
    try:
        figures = alternating(message, node, mjml, runs)
    finally:
        node.close()
    print(f"\nsame run, in alternating blocks with MJML for Node ({node_version()}, long-running process, same MJML):")
    print(f"  ours, email pipeline            {figures['ours']:8.2f} ms median, {figures['ours_min']:.2f} ms best, "
          f"{figures['ours_cpu']:.2f} ms CPU")
    print(f"  node, render step inside node   {figures['node']:8.2f} ms median, {figures['node_min']:.2f} ms best "
          f"({figures['bytes'] / 1000:.1f} KB of HTML)")
    print(f"  node, round trip through pipe   {figures['trip']:8.2f} ms median")
    ratio = figures["node"] / figures["ours"]
    print(f"\nratio: MJML for Node's render step / our email pipeline = {ratio:.1f}x "
          f"({'ours faster' if ratio > 1 else 'NODE FASTER'}); target <= {TARGET_MS:.0f} ms: "
          f"{'met' if figures['ours'] <= TARGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
