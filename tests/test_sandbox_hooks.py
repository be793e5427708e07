"""The sandbox knows a homework only by what it is given: the modules its zygote preloads,
the secret folders, and what the homework's scenarios module asks its guard to keep
(GUARDED_MODULES, GUARDED_CLASSES, _save_state/_restore_state: autograder/sandbox/guard.py).
Checked here with homeworks of a few lines in the standard library, through the real
sandbox; the course's homework (torch) is checked by the attack suite (test_attacks.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.sandbox import Sandbox, SandboxError
from autograder.sandbox.child import load_scenarios
from autograder.sandbox.client import IMPORT_ONLY

SCENARIOS = textwrap.dedent('''
    import decimal
    import json
    import statistics
    import string

    GUARDED_MODULES = (statistics,)


    class _Box:
        def size(self):
            return 1


    GUARDED_CLASSES = (_Box,)
    DEFAULT_BOX = _Box  # an upper-case constant: never a scenario, though callable and ours


    def _save_state():
        return decimal.getcontext().prec


    def _restore_state(saved):
        decimal.getcontext().prec = saved


    def tamper(sub):
        box = _Box()
        said = sub.tamper(box)
        return {"said": said, "class": type(box).__name__, "size": box.size(),
                "added": hasattr(_Box, "extra"), "json": json.dumps([1]),
                "mean": statistics.mean([1, 3]), "prec": decimal.getcontext().prec,
                "unguarded": string.capwords("a b")}


    def modules(sub):
        import sys
        return sorted(name for name in ("numpy", "torch") if name in sys.modules)
''')

TAMPER = textwrap.dedent('''
    import decimal
    import json
    import statistics
    import string


    class Liar:
        def size(self):
            return 99


    def tamper(box):
        json.dumps = lambda *a, **k: "patched"       # a preloaded module: always guarded
        statistics.mean = lambda data: 0             # named in GUARDED_MODULES
        string.capwords = lambda s: "patched"        # guarded by nobody: the control
        type(box).extra = "added"                    # GUARDED_CLASSES: an added name goes
        type(box).size = lambda self: -1             # and a replaced one comes back
        decimal.getcontext().prec = 3                # state saved by _save_state
        box.__class__ = Liar                         # the argument's class swapped
        return "done"
''')


def _homework(folder: Path, scenarios: str = SCENARIOS) -> tuple[Path, Path]:
    (folder / "scenarios.py").write_text(scenarios)
    (folder / "tamper.py").write_text(TAMPER)
    return folder / "scenarios.py", folder / "tamper.py"


def test_the_guard_keeps_what_the_scenarios_module_names(tmp_path):
    """After the call, everything the homework's hooks cover is as before, the argument's
    class included; a module nobody guards keeps the patch (so the check can fail)."""
    scenarios, submission = _homework(tmp_path)
    with Sandbox(scenarios, preload=("json",)) as sandbox:
        outcome = sandbox.run(submission, "tamper", "tamper")
    assert outcome.ok, outcome
    assert outcome.value == {"said": "done", "class": "_Box", "size": 1, "added": False,
                             "json": "[1]", "mean": 2, "prec": 28, "unguarded": "patched"}


def test_a_homework_without_torch_never_loads_it(tmp_path):
    """The zygote imports what the homework preloads, and nothing of another homework."""
    scenarios, submission = _homework(tmp_path)
    with Sandbox(scenarios, preload=("numpy",)) as sandbox:
        outcome = sandbox.run(submission, "tamper", "modules")
    assert outcome.ok, outcome
    assert outcome.value == ["numpy"]


def test_scenarios_are_the_public_functions_only(tmp_path):
    """Not the hooks, not a constant or a module, not a private class or helper."""
    scenarios, _ = _homework(tmp_path)
    assert set(load_scenarios(scenarios)) == {"tamper", "modules", IMPORT_ONLY}


@pytest.mark.parametrize("hook, words", [
    ("GUARDED_MODULES = ('statistics',)", "GUARDED_MODULES must be a tuple or list of modules"),
    ("GUARDED_CLASSES = _Box", "GUARDED_CLASSES must be a tuple or list of classes"),
    ("del _restore_state", "_save_state and _restore_state go together"),
])
def test_a_wrong_hook_stops_the_sandbox_with_a_message_that_names_it(tmp_path, hook, words):
    scenarios, submission = _homework(tmp_path, SCENARIOS + "\n" + hook + "\n")
    with Sandbox(scenarios) as sandbox, pytest.raises(SandboxError, match=words):
        sandbox.run(submission, "tamper", "tamper")


def test_a_preload_that_does_not_import_is_named(tmp_path):
    scenarios, submission = _homework(tmp_path)
    with Sandbox(scenarios, preload=("no_such_module_here",)) as sandbox, \
            pytest.raises(SandboxError, match="No module named 'no_such_module_here'"):
        sandbox.run(submission, "tamper", "tamper")
    with pytest.raises(ValueError, match="not module names"):
        Sandbox(scenarios, preload=("not a module",))
