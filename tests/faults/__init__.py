"""Fault injection: a relay scripted to fail in every way a relay does, and a sender killed at
random points. After each fault the same things must hold: every active reader received the
issue exactly once (duplicates only within the bound in docs/guarantees.md), no reader's bounce
count moved for a fault of the relay's, and the issue's status says what happened."""
