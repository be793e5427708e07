"""Scenarios for the isolation probes in test_attacks.py. A Sandbox of their own loads
them, so the probes do not depend on the hidden tests (whose scenarios are theirs)."""


def probe(sub, **targets):
    """Whatever the probe submission found out, as plain data."""
    return sub.probe(**targets)


def scan_memory(sub, **targets):
    """For test_confinement.py: what the submission's memory scan found."""
    return sub.scan(**targets)


def peek_call(sub, **args):
    """For test_confinement.py: one call of a grouped run, and what the call could see."""
    return sub.peek(**args)


def hoard(sub, **targets):
    """For test_confinement.py: how many MB the submission held outside its address space."""
    return sub.hoard(**targets)
