"""Build the Gradescope autograder zip: `python -m release.gradescope` (make autograder).

Gradescope unzips it into /autograder/source and wants `setup.sh` and `run_autograder` at
its root. Besides those two it holds what grading needs and nothing else: the engine and
the hidden tests (autograder/), the reference solution the hidden tests compare with
(solutions/) and requirements.txt. Not the package's own tests, nor .venv, build/ or
caches. The zip is the same bytes for the same sources (fixed dates, sorted names).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "build" / "autograder.zip"
SCRIPTS = ROOT / "autograder" / "gradescope"  # setup.sh and run_autograder, for the zip's root
AT_ROOT = ("setup.sh", "run_autograder")
FOLDERS = ("autograder", "solutions")
FILES = ("requirements.txt",)
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no build-time noise


def contents(root: Path = ROOT) -> list[tuple[str, Path]]:
    """(name in the zip, file on disk) for everything the zip holds, sorted by name."""
    entries = [(name, root / SCRIPTS.relative_to(ROOT) / name) for name in AT_ROOT]
    entries += [(name, root / name) for name in FILES]
    for folder in FOLDERS:
        for path in (root / folder).rglob("*"):
            relative = path.relative_to(root)
            if path.is_file() and _wanted(relative) and not _is_script_source(relative):
                entries.append((relative.as_posix(), path))
    missing = [str(path) for _, path in entries if not path.is_file()]
    if missing:
        raise FileNotFoundError("the autograder zip needs " + ", ".join(missing))
    return sorted(entries)


def _wanted(relative: Path) -> bool:
    if any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts):
        return False
    return relative.suffix not in SKIP_SUFFIXES


def _is_script_source(relative: Path) -> bool:
    """setup.sh and run_autograder go to the zip's root, not a second time in their folder."""
    return relative.parent == SCRIPTS.relative_to(ROOT) and relative.name in AT_ROOT


def build(target: Path = ZIP, root: Path = ROOT) -> Path:
    """Write the zip (atomically) and return its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    partial = Path(partial_name)
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name, path in contents(root):
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                executable = name in AT_ROOT or path.stat().st_mode & stat.S_IXUSR
                info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
                info.create_system = 3  # Unix, so that unzip honours the modes above
                archive.writestr(info, path.read_bytes())
        partial.chmod(0o644)
        partial.replace(target)  # atomic: a concurrent build or reader never sees half a zip
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ZIP, help=f"default: {ZIP}")
    args = parser.parse_args(argv)
    path = build(args.output)
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"Wrote {shown}: {count} files, {path.stat().st_size / 1024:.1f} KiB. "
          "Upload it as the autograder of the Gradescope assignment.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
