"""Bounds that both the settings and the CLI's options enforce, in a module with no imports so
that declaring a command's options does not load the settings machinery."""

MAX_SEND_WORKERS = 64  # a thread and an SMTP connection each; more only queue at the relay
MAX_SEND_RATE = 1_000_000.0  # messages per second; far beyond any relay, and finite
