"""Regenerate the student release in assignment/ from the reference solution.

``python -m release.student`` (what ``make student`` runs) writes:

- ``assignment/regression.py``: ``solutions/regression.py`` with every
  ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block replaced by a stub that raises
  ``NotImplementedError`` (release/stubs.py; the markers are read in
  release/markers.py). Docstrings and comments outside the blocks (the hints) are
  kept, so the solution file is the one place to edit them.
- ``assignment/regression.ipynb``: the same stubbed code as a notebook that stands
  alone, the public tests inside it (release/notebook.py).
- every file under ``release/template/`` (the student README, pytest.ini, the pytest
  plugin conftest.py and the public otter test files), copied as is.

So ``assignment/`` is entirely generated: edit ``solutions/`` or ``release/template/``,
never ``assignment/``. The build is all-or-nothing and deterministic: a marker mistake
(or a README whose questions do not match the test files) stops it before anything is
written, with a message naming the file and line, and an unchanged source rebuilds
byte-identical files. ``--check`` writes nothing and fails when assignment/ is out of
date (release/sync.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.homework import Homework
from release.markers import MarkerError, ReleaseError, display_path, find_blocks
from release.notebook import NOTEBOOK, TEMPLATE, notebook_text, split_module
from release.stubs import stub_source
from release.sync import differences, is_cache, write_release

HOMEWORK = Homework.load()  # the course's current homework: its reference and skeleton
SOLUTION = HOMEWORK.reference
ASSIGNMENT = HOMEWORK.skeleton.parent

__all__ = ["MarkerError", "ReleaseError", "find_blocks", "main", "notebook_text",
           "release_files", "split_module", "stub_source", "write_release"]


def release_files(solution: Path = SOLUTION, template: Path = TEMPLATE) -> dict[str, bytes]:
    """Return the whole student release as {path inside assignment/: content}.

    Built in memory first so that a marker error leaves assignment/ untouched.
    """
    source = solution.read_text(encoding="utf-8")
    where = display_path(solution)
    files = {
        HOMEWORK.upload_name: stub_source(source, where).encode("utf-8"),
        NOTEBOOK: notebook_text(source, where, template=template).encode("utf-8"),
    }
    for item in sorted(template.rglob("*")):
        relative = item.relative_to(template)
        if item.is_file() and not is_cache(relative):
            files[relative.as_posix()] = item.read_bytes()
    return files


def main(argv: list[str] | None = None) -> int:
    """Command line: build the release (or check it is up to date); a source error exits 1."""
    parser = argparse.ArgumentParser(
        prog="python -m release.student", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--solution", type=Path, default=SOLUTION, help="the solution file")
    parser.add_argument("--out", type=Path, default=ASSIGNMENT, help="where to write the release")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the release there is out of date")
    args = parser.parse_args(argv)
    try:
        files = release_files(args.solution)
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        print("The student release was not written.", file=sys.stderr)
        return 1
    if args.check:
        stale = differences(files, args.out)
        for line in stale:
            print(line)
        if stale:
            print(f"{display_path(args.out)}/ is out of date: run make student", file=sys.stderr)
            return 1
        print(f"{display_path(args.out)}/: {len(files)} files, up to date")
        return 0
    changes = write_release(files, args.out)
    for change in changes:
        print(change)
    state = f"updated ({len(changes)} changes)" if changes else "already up to date"
    print(f"{display_path(args.out)}/: {len(files)} files, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
