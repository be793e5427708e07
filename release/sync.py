"""Keep assignment/ in sync with what the build makes: write the changes, or list them.

``write_release`` makes the folder hold exactly the built files (it rewrites only what
changed and removes what is no longer released); ``differences`` tells, without
writing, what is out of date, for ``python -m release.student --check``.
"""

from __future__ import annotations

from pathlib import Path

from release.markers import display_path

# Files left in assignment/ by running the tests there; never part of the release.
CACHE_NAMES = {"__pycache__", ".pytest_cache", ".OTTER_LOG", ".ipynb_checkpoints"}



def is_cache(relative: Path) -> bool:
    return any(part in CACHE_NAMES for part in relative.parts) or relative.suffix == ".pyc"


def _released(dest: Path) -> set[str]:
    """The files in ``dest`` that count as released (caches aside)."""
    if not dest.is_dir():
        return set()
    return {p.relative_to(dest).as_posix() for p in dest.rglob("*")
            if (p.is_file() or p.is_symlink()) and not is_cache(p.relative_to(dest))}


def differences(files: dict[str, bytes], dest: Path) -> list[str]:
    """What ``write_release(files, dest)`` would change, one line each; empty when in sync."""
    out = []
    for name in sorted(files):
        target = dest / name
        if not target.is_file():
            out.append(f"missing {display_path(target)}")
        elif target.read_bytes() != files[name]:
            out.append(f"out of date {display_path(target)}")
    out += [f"not part of the release {display_path(dest / name)}"
            for name in sorted(_released(dest) - files.keys())]
    return out
def write_release(files: dict[str, bytes], dest: Path) -> list[str]:
    """Make ``dest`` hold exactly ``files`` (caches aside); return what changed, for the log.

    Unchanged files are not rewritten, and files that are no longer part of the
    release are removed, so a renamed test cannot linger in assignment/.
    """
    changes = []
    for name in sorted(files):
        target = dest / name
        if target.is_file() and target.read_bytes() == files[name]:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])
        changes.append(f"wrote {display_path(target)}")
    if dest.is_dir():
        for item in sorted(dest.rglob("*"), reverse=True):
            relative = item.relative_to(dest)
            if is_cache(relative) or relative.as_posix() in files:
                continue
            if item.is_file() or item.is_symlink():
                item.unlink()
                changes.append(f"removed {display_path(item)}")
            elif item.is_dir() and not any(item.iterdir()):
                item.rmdir()
    return changes


