"""The untrusted side: a pre-started zygote forks confined workers that run scenarios."""

from autograder.sandbox.client import Outcome, Sandbox, SandboxError

__all__ = ["Outcome", "Sandbox", "SandboxError"]
