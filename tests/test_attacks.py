"""Attack submissions, graded through the real sandbox, and the isolation they meet.

Every file in tests/attacks/ is a whole regression.py that cheats or sabotages (its
docstring says how). Each is graded like any upload, and this module checks that:
  - it earns no point it did not earn honestly: test by test, no more than the same file
    with its cheating switched off (every attack guards its cheat with `CHEAT = True`;
    the baseline is the file with `CHEAT = False`). The attacks that hunt for secrets,
    forge results or delete files answer correctly only if that worked, so any point
    they earn would show it;
  - it stops no other test: every test still reports, results.json is valid, and where
    the file says CONTAINED_TO = (functions), every test earns at least what the
    reference earns with just those functions stubbed out;
  - every run leaves a valid Gradescope results.json (tests/schema.py).
The timeout attacks run on a second grader whose wall-clock limit is 2 s instead of 10:
its worker is killed as it would be at 10 s, for a fifth of the wait. delete_files and
forge_results run through the Gradescope zip in a throwaway /autograder tree
(release.gradescope_test), never against this working copy. The probe tests at the end
check the isolation directly, with a scenario file of their own (probe_scenarios.py).
"""

from __future__ import annotations

import ast
import json
import os
import socket
import stat
from pathlib import Path

import pytest
from schema import validate_results

from autograder.grade import Grader
from autograder.homework import Homework
from autograder.limits import Limits
from autograder.platforms.gradescope import write as write_results_json
from autograder.sandbox import Sandbox
from release import gradescope_test

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOMEWORK = Homework.load()
HIDDEN_TESTS = HOMEWORK.folder
ATTACKS = sorted((HERE / "attacks").glob("*.py"))
REFERENCE = HOMEWORK.reference
SHORT_LIMITS = Limits(wall_seconds=2, kill_grace_seconds=0.5, cpu_seconds=5)
ON_SHORT_LIMITS = {"infinite_loop", "ignores_sigterm"}  # what the limit is about
THROUGH_GRADESCOPE = {"forge_results", "delete_files"}  # they write and delete
# Graded just after a classmate: the reference (whose code it hunts for), or a copy of
# itself (which leaves what it would read in its channel between workers).
AFTER_A_CLASSMATE = {"classmate_in_memory": "reference", "sysv_shm_channel": "itself",
                     "keyring_channel": "itself", "dev_shm_channel": "itself"}
# Words the student's feedback must contain: the limit that stopped the attack, named.
LIMIT_NAMED = {"infinite_loop": "did not finish within 2 seconds",
               "ignores_sigterm": "did not finish within 2 seconds",
               "huge_allocation": "memory limit",
               "print_flood_at_import": "printed more than"}


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


@pytest.fixture(scope="module")
def short_grader():
    with Grader(limits=SHORT_LIMITS) as g:
        yield g


@pytest.fixture(scope="module")
def secrets() -> list[str]:
    """The files a worker must never read: the hidden tests and the reference solution."""
    files = [p for p in sorted(HIDDEN_TESTS.iterdir()) if p.is_file()]
    return [str(p) for p in files] + [str(REFERENCE)]


@pytest.fixture(scope="module")
def stub_baselines(grader, tmp_path_factory):
    """Scores of the reference with some functions stubbed out, cached by that set."""
    cache: dict[tuple[str, ...], list[dict]] = {}

    def scores(functions: tuple[str, ...]) -> list[dict]:
        if functions not in cache:
            path = tmp_path_factory.mktemp("stubbed") / "regression.py"
            path.write_text(_stubbed(REFERENCE.read_text(), functions))
            cache[functions] = _gradescope(grader, path, path.with_name("results.json"))
        return cache[functions]

    return scores


def _stubbed(source: str, functions: tuple[str, ...]) -> str:
    """The source with each named function's body replaced by `raise NotImplementedError`."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            node.body = [ast.Raise(exc=ast.Name("NotImplementedError", ast.Load()))]
    assert {n.name for n in tree.body if isinstance(n, ast.FunctionDef)} >= set(functions)
    return ast.unparse(ast.fix_missing_locations(tree))


def _settings(source: str) -> dict:
    """CHEAT, CONTAINED_TO, HINTS and MARKER, read from the attack's source without running
    it. MARKER is what the attack puts in a student's feedback if its channel works."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in ("CHEAT", "CONTAINED_TO", "HINTS", "MARKER"):
                found[name] = ast.literal_eval(node.value)
    return found


def _variant(attack: Path, folder: Path, cheat: bool, hints: list[str]) -> Path:
    """The attack as a regression.py, with its cheat on or off and its hints filled in."""
    source = attack.read_text()
    assert source.count("\nCHEAT = True\n") == 1, f"{attack.name}: one `CHEAT = True` line"
    source = source.replace("\nCHEAT = True\n", f"\nCHEAT = {cheat}\n")
    source = source.replace("\nHINTS = []", f"\nHINTS = {json.dumps(hints)}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "regression.py"
    path.write_text(source)
    return path


def _gradescope(grader: Grader, path: Path, results: Path, result_out: list | None = None
                ) -> list[dict]:
    """Grade in-process, write results.json with the real writer, validate it, and
    return its tests. `result_out` receives the GradingResult (for the staff-only log)."""
    result = grader.grade(path)
    write_results_json(result, results)
    if result_out is not None:
        result_out.append(result)
    return validate_results(results)["tests"]


def _compare(attack: list[dict], honest: list[dict], what: str) -> None:
    """Same tests in the same order; none scores above the honest run."""
    assert [t["name"] for t in attack] == [t["name"] for t in honest], \
        f"{what}: not every test reported"
    gained = [f"{a['name']}: {a['score']} > {h['score']}"
              for a, h in zip(attack, honest, strict=True) if a["score"] > h["score"] + 1e-9]
    assert not gained, f"{what} earned points it did not earn honestly: {gained}"


# ------------------------------------------------------------------ the attacks


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.stem for a in ATTACKS])
def test_attack_earns_nothing_and_stops_nothing(attack, grader, short_grader, stub_baselines,
                                                secrets, tmp_path):
    settings = _settings(attack.read_text())
    assert {"CHEAT", "CONTAINED_TO"} <= settings.keys(), "each attack declares both"
    name = attack.stem
    sentinels = _sentinels(tmp_path / "sentinels")
    hints = [str(p) for p in sentinels]  # what it should fail to touch, exactly
    if name not in THROUGH_GRADESCOPE:  # never point the writers at this working copy
        hints += [str(ROOT), *secrets]
    cheating = _variant(attack, tmp_path / "cheat", True, hints)
    results = tmp_path / "results.json"
    graded: list = []
    if name in THROUGH_GRADESCOPE:
        autograder_existed = Path("/autograder").exists()
        data = gradescope_test.run(cheating, results)
        assert autograder_existed or not Path("/autograder").exists()
        tests = validate_results(results)["tests"]
        assert data["tests"] == tests
    else:
        chosen = short_grader if name in ON_SHORT_LIMITS else grader
        if name in AFTER_A_CLASSMATE:  # a classmate graded just before it, by the same zygote
            classmate = REFERENCE if AFTER_A_CLASSMATE[name] == "reference" else cheating
            _gradescope(chosen, classmate, tmp_path / "classmate.json")
        tests = _gradescope(chosen, cheating, results, graded)

    assert tests, f"{name}: no test reported (did grading itself fail?)"
    assert "FORGED" not in results.read_text()
    if "MARKER" in settings:  # nothing another worker left reaches what the student sees
        assert settings["MARKER"] not in results.read_text(), f"{name}: its channel worked"
    if any(t["score"] > 0 for t in tests):  # all zero is below any baseline: no need
        honest_path = _variant(attack, tmp_path / "honest", False, hints)
        honest = _gradescope(grader, honest_path, tmp_path / "honest.json")
        _compare(tests, honest, name)
    else:
        assert [t["name"] for t in tests] == [t["name"] for t in stub_baselines(())], \
            f"{name}: not every test reported"

    contained = settings["CONTAINED_TO"]
    if contained is not None:  # the tests that do not need these functions lose nothing
        floor = stub_baselines(tuple(contained))
        lost = [f"{t['name']}: {t['score']} < {f['score']}"
                for t, f in zip(tests, floor, strict=True) if t["score"] < f["score"] - 1e-9]
        assert not lost, f"{name} cost tests that do not call {contained}: {lost}"

    if name in LIMIT_NAMED:
        assert any(LIMIT_NAMED[name] in t["output"] for t in tests), \
            f"{name}: no feedback names the limit ({LIMIT_NAMED[name]!r})"
    if name == "read_secrets":  # it printed what it read into the staff-only log
        assert "read []" in graded[0].output, graded[0].output[:2000]
    _assert_intact(sentinels)


def test_the_graders_are_still_sound_after_the_attacks(grader, short_grader, tmp_path):
    """Run after the attacks (file order): both zygotes still grade the reference fully."""
    for which, g in (("default", grader), ("short", short_grader)):
        tests = _gradescope(g, REFERENCE, tmp_path / f"{which}.json")
        total, most = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
        assert most > 0 and total == most, f"{which} grader: reference got {total}/{most}"


# ------------------------------------------------------------------ isolation, probed


@pytest.fixture(scope="module")
def probe_sandbox():
    os.environ["AUTOGRADER_TEST_CANARY"] = "a secret in the judge's environment"
    try:
        with Sandbox(HERE / "probe_scenarios.py", preload=("torch",)) as sandbox:
            yield sandbox
    finally:
        del os.environ["AUTOGRADER_TEST_CANARY"]


def _sentinels(folder: Path) -> list[Path]:
    """Two files outside any worker's folder: one that only file modes protect (ours,
    0644), one that only Landlock can (a world-writable file in a world-writable folder)."""
    closed, opened = folder / "closed", folder / "open"
    closed.mkdir(parents=True)
    opened.mkdir()
    opened.chmod(0o777)
    paths = [closed / "sentinel.txt", opened / "sentinel.txt"]
    for path, mode in zip(paths, (0o644, 0o666), strict=True):
        path.write_text("the sentinel is intact\n")
        path.chmod(mode)
    return paths


def _assert_intact(sentinels: list[Path]) -> None:
    for path in sentinels:
        assert path.read_text() == "the sentinel is intact\n", f"{path} was changed"
        assert sorted(p.name for p in path.parent.iterdir()) == ["sentinel.txt"]
    assert stat.S_IMODE(sentinels[0].stat().st_mode) == 0o644
    assert stat.S_IMODE(sentinels[1].stat().st_mode) == 0o666


def test_a_worker_is_confined(probe_sandbox, secrets, tmp_path):
    root = os.geteuid() == 0
    landlock = "landlock ABI" in probe_sandbox.isolation
    if not root and not landlock:
        pytest.skip(f"this machine confines workers too little to probe: {probe_sandbox.missing}")
    sentinels = _sentinels(tmp_path)
    guarded = [str(p) for p in (sentinels if landlock else sentinels[:1])]
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        outcome = probe_sandbox.run(HERE / "probe_submission.py", "regression", "probe",
                                    secrets=secrets, sentinels=guarded,
                                    port=server.getsockname()[1])
        assert outcome.ok, outcome
        with pytest.raises(BlockingIOError):
            server.accept()  # nothing ever connected
    found = outcome.value

    assert found["scratch_write"] == "ok", "the probe itself is broken"
    if root:
        assert found["uid"] != 0 and found["euid"] != 0 and found["gid"] != 0
    for check in ("read_secret", "list_secret_folder"):
        allowed = {path: result for path, result in found[check].items() if result == "ok"}
        assert not allowed, f"{check}: a worker can {allowed}"
    assert set(found["read_secret"]) == set(secrets)
    for check in ("read_sentinel", "write_sentinel", "truncate_sentinel", "chmod_sentinel",
                  "rename_sentinel", "delete_sentinel", "create_beside_sentinel"):
        allowed = {path: result for path, result in found[check].items() if result == "ok"}
        assert not allowed, f"{check}: a worker can {allowed}"
    _assert_intact(sentinels)
    if root:  # an empty network namespace, and a small tmpfs as the worker's folder
        assert set(found["interfaces"]) <= {"lo"}, found["interfaces"]
        assert found["udp_to_judge_host"] != "ok", "a worker can send UDP"
        assert found["scratch_fill"] < 100, "a worker could fill the disk"
    for check in ("tcp_to_judge_host", "fork", "subprocess", "thread", "signal_parent",
                  "parent_environ", "parent_cwd", "parent_memory"):
        assert found[check] != "ok", f"a worker can {check.replace('_', ' ')}"
    assert "AUTOGRADER_TEST_CANARY" not in json.loads(found["env"])
