"""Run the Gradescope zip as Gradescope would, here: `python -m release.gradescope_test SUB`.

(make gradescope-test SUBMISSION=path [RESULTS=path] [HOMEWORK=folder].) It builds the
homework's zip (build/autograder.zip for the course's current one),
lays out a Gradescope-like tree in a temporary folder

    ROOT/source/      the zip, unzipped (with its file modes)
    ROOT/submission/  the submission: a file is copied in, a folder's contents are
    ROOT/results/

and runs the zip's own run_autograder from ROOT, with AUTOGRADER_ROOT=ROOT and, in place
of the venv setup.sh makes on Gradescope, AUTOGRADER_PYTHON=this Python. Then it prints
results.json and copies it to --results. setup.sh itself is not run: it installs system
packages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.homework import Homework, HomeworkError
from release.gradescope import build


def unzip(archive: Path, target: Path) -> None:
    """Extract with the modes stored in the zip (zipfile alone drops the executable bits)."""
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            path = Path(z.extract(info, target))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode)


def lay_out(root: Path, archive: Path, submission: Path) -> None:
    unzip(archive, root / "source")
    (root / "results").mkdir()
    if submission.is_dir():
        # links stay links, as in a real upload: the autograder must refuse them itself
        shutil.copytree(submission, root / "submission", symlinks=True)
    else:
        (root / "submission").mkdir()
        shutil.copy2(submission, root / "submission" / submission.name, follow_symlinks=False)


def run(submission: Path, results: Path | None = None, python: str = sys.executable,
        archive: Path | None = None, timeout: float = 900) -> dict:
    """Grade `submission` with the zip in a Gradescope-like tree; return results.json."""
    archive = archive or build()
    with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp:
        root = Path(tmp)
        lay_out(root, archive, submission)
        env = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=python)
        env.pop("PYTHONPATH", None)  # as on Gradescope: the package comes from source/ alone
        subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                       check=True, timeout=timeout)
        written = root / "results" / "results.json"
        data = json.loads(written.read_text())
        if results is not None:
            results.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(written, results)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", type=Path,
                        help="the module students write (a .py or a notebook), or a folder "
                        "holding one")
    parser.add_argument("--homework", type=Path,
                        help="the homework's folder (its homework.toml); default: the course's")
    parser.add_argument("--results", type=Path, help="where to copy results.json")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python that stands in for setup.sh's venv (default: this one)")
    args = parser.parse_args(argv)
    if not args.submission.exists():
        parser.error(f"{args.submission} does not exist")
    try:
        homework = Homework.load(args.homework) if args.homework else None
    except HomeworkError as exc:
        parser.error(str(exc))
    archive = build(homework=homework)
    print(f"Built {archive}; running its run_autograder on {args.submission}", flush=True)
    data = run(args.submission.resolve(), args.results, args.python, archive)
    print("results.json:")
    print(json.dumps(data, indent=2))
    if args.results:
        print(f"Copied to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
