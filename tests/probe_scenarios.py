"""Scenarios for the isolation probes in test_attacks.py. A Sandbox of their own loads
them, so the probes do not depend on the hidden tests (whose scenarios are theirs)."""


def probe(sub, **targets):
    """Whatever the probe submission found out, as plain data."""
    return sub.probe(**targets)
