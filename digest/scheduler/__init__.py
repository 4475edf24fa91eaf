"""The scheduler: the feeds polled and the weekly issue sent at the right time, exactly once.

    timing    the schedule from settings (crontab meaning, one time zone) and the pure decision
              of what a job woken at `now` must do: run its slot, report it missed, or nothing
    runs      exactly once across processes: renewing leases, one JobRun row per job and slot
    sendable  which issues may go out (weekly or one-off) and their compare-and-set transitions
    booking   what `digest issue schedule` writes (without the ORM): a weekly or one-off send, or back to draft
    stages    the calls the jobs make into the pipeline (poll, readiness, queue, send, notice);
              `pipeline.PipelineStages` is the real one
    jobs      the jobs: poll, weekly-send, dispatch (one-off sends, unfinished sends, catch-up)
    notify    telling the editor: a log line, and an email when `editor` is set
    service   APScheduler 3 in the foreground, its job store in our database; signals
    listing   `digest schedule list`: what runs next, with or without a running scheduler

Modules are imported by the CLI commands that need them (APScheduler is not loaded by
`digest --help`); import them directly, e.g. `from digest.scheduler.jobs import Runtime`.
"""
