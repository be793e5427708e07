"""The untrusted side: a pre-started zygote forks one confined worker per scenario."""

from autograder.sandbox.client import Outcome, Sandbox, SandboxError

__all__ = ["Outcome", "Sandbox", "SandboxError"]
