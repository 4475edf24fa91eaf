"""The root of `digest --help` as data: the help text, the root options' help and the top-level
commands with the first paragraph of their help, in the order the help lists them.

`digest.cli.fast` prints the root help from this table without importing the fifteen command
modules or typer; `digest.cli.root` declares the root options with these same texts, and
tests/test_cli_fast.py keeps COMMANDS in step with the commands' own declarations (names,
order, help, hidden) and the two helps identical at every terminal width.
"""

from __future__ import annotations

ROOT_HELP = "digest: poll AI-launch feeds, compare two tools side by side, and send the weekly issue."
HOME_HELP = "The newsletter folder (default: $DIGEST_HOME or the current directory)."
VERBOSE_HELP = "Debug logs, and tracebacks on errors."
QUIET_HELP = "Only errors and the requested output."
VERSION_HELP = "Print the version and exit."

COMMANDS: tuple[tuple[str, str], ...] = (
    ("init", "Create or upgrade the newsletter folder: settings, feeds, key file and database."),
    ("check", "Check the folder is ready for real readers: one line per finding, ok, warning or problem."),
    ("poll", "Fetch the feeds of feeds.toml and store the tools they announce."),
    ("pair", "Pair two tools in a new comparison and print its id."),
    ("review", "Record or replace one reviewer's verdict on one tool, or a whole scorecard from a file."),
    ("suggest", "Suggest pairs among the tools found since the last sent issue, ranked, with reasons."),
    ("panel", "List the panel: each reviewer's key (what reviews name), display name and remit."),
    ("send", "Deliver the queued issues over SMTP (DIGEST_SMTP_URL), each reader once."),
    ("bounces", "Read new messages in the bounce mailbox ([bounces] maildir or imap_host) once."),
    ("scheduler", "Run the scheduled jobs in the foreground until stopped (SIGTERM or Ctrl-C)."),
    ("serve", "Run the web app until stopped: vote and unsubscribe links land here, and the archive lives here."),
    ("demo", "Run the whole weekly loop offline on bundled sample feeds, and report each step."),
    ("tools", "Browse and correct the catalogue of tools found in the feeds."),
    ("comparison", "Show, edit and delete comparisons (pairs of tools and their scorecards)."),
    ("issue", "Assemble, check and send numbered issues."),
    ("subscribers", "The audience: add, import, list, remove and export subscribers."),
    ("schedule", "See what the scheduler will run, and when."),
    ("set-aside", "Votes, confirmations and unsubscribes not counted because a mail scanner made them."),
)
