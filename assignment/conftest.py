"""Run the otter test files in tests/ with pytest, against regression.py in this folder.

Each file in tests/ is an otter-grader test file: ``otter check regression.py``
runs it as is. This plugin lets ``python -m pytest`` run the very same files:
otter's own loader (the one ``otter check`` uses) reads each file, and each test
case is called the way otter calls it, with the names defined in your
regression.py (``forward``, ``mse``, ``update``). So there is one definition of
every public test, and both commands agree. Failures are reported short: what
was expected and what came back.
"""

import importlib.util
import inspect
import sys
from pathlib import Path

import pytest
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import create_test_file

HERE = Path(__file__).resolve().parent
SUBMISSION = HERE / "regression.py"
TESTS = HERE / "tests"

_loaded: dict = {}


def _student_names() -> dict:
    """Import regression.py once (as a module, so its ``__main__`` walk-through does not run)."""
    if "names" not in _loaded:
        try:
            spec = importlib.util.spec_from_file_location("regression", SUBMISSION)
            module = importlib.util.module_from_spec(spec)
            sys.modules["regression"] = module
            spec.loader.exec_module(module)
            _loaded["names"] = vars(module)
        except FileNotFoundError:
            _loaded["error"] = f"there is no regression.py in {HERE}"
            _loaded["names"] = None
        except (Exception, SystemExit) as error:
            where = ""
            if isinstance(error, SyntaxError) and error.lineno:
                where = f" (line {error.lineno})"
            _loaded["error"] = (
                f"regression.py could not be imported: {type(error).__name__}: {error}{where}"
            )
            _loaded["names"] = None
    return _loaded["names"]


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """Collect every tests/*.py here as an otter test file (they are not named test_*.py)."""
    if file_path.suffix == ".py" and file_path.parent == TESTS and file_path.name != "__init__.py":
        return OtterTestFile.from_parent(parent, path=file_path)
    return None


class OtterTestFile(pytest.File):
    """One otter test file (one question), loaded with otter's own loader."""

    def collect(self):
        question = create_test_file(str(self.path), NBMetadataConfig())
        for case in question.test_cases:
            yield OtterTestCase.from_parent(
                self, name=case.body.test_func.__name__, question=question.name, case=case.body
            )


class OtterTestCase(pytest.Item):
    """One otter ``test_case``, called with the student's names as otter would call it."""

    def __init__(self, *, question: str, case, **kwargs) -> None:
        super().__init__(**kwargs)
        self.question = question
        self.case = case

    def runtest(self) -> None:
        names = _student_names()
        if names is None:
            pytest.fail(f"{self.question}: {_loaded['error']}", pytrace=False)
        wanted = [p for p in inspect.signature(self.case.test_func).parameters if p != "env"]
        missing = [p for p in wanted if p not in names]
        if missing:
            pytest.fail(
                f"{self.question}: regression.py does not define "
                + ", ".join(f"{p}()" for p in missing),
                pytrace=False,
            )
        try:
            self.case.call_func(names)
        except NotImplementedError as error:
            message = str(error) or f"one of {', '.join(wanted)} is not implemented yet"
            pytest.fail(f"{self.question}: {message}", pytrace=False)

    def repr_failure(self, excinfo, style=None):
        """Say what went wrong in a few lines instead of a traceback through the test file."""
        error = excinfo.value
        if isinstance(error, pytest.fail.Exception):
            return str(error)
        if isinstance(error, AssertionError):
            return f"{self.question}: {error}"
        message = f"{self.question}: {type(error).__name__}: {error}"
        in_submission = [e for e in excinfo.traceback if Path(e.path) == SUBMISSION]
        if in_submission:
            entry = in_submission[-1]
            source = str(entry.statement).strip()
            message += f"\n  raised at regression.py line {entry.lineno + 1}: {source}"
        return message

    def reportinfo(self):
        return self.path, None, f"{self.question}: {self.name}"
