"""A memory cgroup for a zygote's workers: memory counted the way the kernel counts it.

RLIMIT_AS counts a worker's mappings only. A cgroup counts what it really holds,
tmpfs files and page cache included, so memory a worker parks outside its address
space is counted too. One cgroup per zygote, which the zygote itself joins once made:
its workers are born in it. (Moving each worker in instead costs a wait for an RCU
grace period, ~13 ms a worker.) What the zygote holds was charged before it joined
and stays charged where it was; the limit is what one worker may add, and its workers
run one at a time. Each worker makes itself the OOM killer's first choice
(oom_score_adj 1000; the zygote also exempts itself where it may), so a worker over the
limit is the one the kernel ends (SIGKILL), however little of it is its own RSS. The
zygote reads the cgroup's OOM count to tell that apart from any other SIGKILL.

cgroup v1 (a `memory` hierarchy) or v2 (a delegated subtree with the memory
controller). Where neither can be made (not root, a read-only /sys/fs/cgroup),
`MemoryCgroup.make` says why and workers run without one.
"""

from __future__ import annotations

import os
from pathlib import Path


class MemoryCgroup:
    def __init__(self, folder: Path, version: int) -> None:
        self.folder = folder
        self.version = version
        self._limit_file = "memory.limit_in_bytes" if version == 1 else "memory.max"

    @classmethod
    def make(cls, limit_bytes: int) -> tuple[MemoryCgroup | None, str | None]:
        """A new cgroup with this memory limit, or None and why there is none."""
        reasons = []
        for version, parent in _candidates():
            for stale in parent.glob("autograder-*"):  # left by a zygote that was killed
                try:
                    stale.rmdir()  # only an empty one goes: a live zygote is in its own
                except OSError:
                    pass
            folder = parent / f"autograder-{os.getpid()}"
            try:
                folder.mkdir(exist_ok=True)
            except OSError as exc:
                reasons.append(f"v{version} {parent}: {exc.strerror}")
                continue
            group = cls(folder, version)
            try:
                if version == 1:  # swap counted too, where the kernel accounts it
                    _write(folder / "memory.swappiness", "0", missing_ok=True)
                else:
                    _write(folder / "memory.swap.max", "0", missing_ok=True)
                group.set_limit(limit_bytes)
                _exempt_from_oom_killer()
                group.join()
            except OSError as exc:
                group.remove()
                reasons.append(f"v{version} {folder}: {exc.strerror}")
                continue
            return group, None
        why = "; ".join(reasons) or "no memory controller mounted"
        return None, f"no memory cgroup ({why}): memory is limited by RLIMIT_AS only"

    def set_limit(self, limit_bytes: int) -> None:
        _write(self.folder / self._limit_file, str(limit_bytes))

    def usage(self) -> int:
        """Bytes the kernel charges to this cgroup now."""
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        return int((self.folder / name).read_text())

    def join(self) -> None:
        """Move the calling process (the zygote) into the cgroup."""
        _write(self.folder / "cgroup.procs", str(os.getpid()))

    def leave(self) -> None:
        """Move the calling process (the zygote, at its end) back to where it came from,
        so the cgroup can be removed."""
        _write(self.folder.parent / "cgroup.procs", str(os.getpid()))

    def oom_kills(self) -> int:
        """How many processes the kernel has killed in this cgroup for its limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.folder / name).read_text()
        except OSError:
            return 0
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def remove(self) -> None:
        try:
            if str(os.getpid()) in (self.folder / "cgroup.procs").read_text().split():
                self.leave()
            self.folder.rmdir()
        except OSError:
            pass


def _exempt_from_oom_killer() -> None:
    """Best effort (it takes CAP_SYS_RESOURCE): the workers' score of 1000 already makes
    them the OOM killer's choice over a zygote of any size."""
    try:
        _write(Path("/proc/self/oom_score_adj"), "-1000")
    except OSError:
        pass


def _write(path: Path, text: str, missing_ok: bool = False) -> None:
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def memory_headroom() -> int | None:
    """How many bytes the cgroups this process is in still allow (the tightest of its own
    and its ancestors' limits, less what each already holds), or None: no limit."""
    room = None
    for version, (mount, own) in _hierarchies().items():
        limit_name, usage_name = (("memory.limit_in_bytes", "memory.usage_in_bytes")
                                  if version == 1 else ("memory.max", "memory.current"))
        folder = mount / own.lstrip("/")
        while True:
            try:
                limit = (folder / limit_name).read_text().strip()
                usage = int((folder / usage_name).read_text())
            except (OSError, ValueError):
                limit = "max"
                usage = 0
            if limit != "max" and int(limit) < 1 << 60:  # v1 writes "no limit" as ~2**63
                left = max(int(limit) - usage, 0)
                room = left if room is None else min(room, left)
            if folder == mount or mount not in folder.parents:
                break
            folder = folder.parent
    return room


def _hierarchies() -> dict[int, tuple[Path, str]]:
    """The cgroup hierarchies with a memory controller: version -> (mount, our path)."""
    mounts: dict[int, Path] = {}
    own: dict[int, str] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                rest = fields[fields.index("-") + 1:]
                if rest[0] == "cgroup" and "memory" in rest[2].split(","):
                    mounts.setdefault(1, Path(fields[4]))
                elif rest[0] == "cgroup2":
                    mounts.setdefault(2, Path(fields[4]))
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                if "memory" in controllers.split(","):
                    own[1] = path
                elif controllers == "":
                    own[2] = path
    except (OSError, ValueError, IndexError):
        return {}
    found = {}
    for version, mount in mounts.items():
        path = own.get(version, "/")
        if not (mount / path.lstrip("/")).is_dir():
            path = "/"  # a cgroup namespace: the mount is our own cgroup already
        found[version] = (mount, path)
    return found


def _candidates() -> list[tuple[int, Path]]:
    """Where a memory cgroup may be made: below our own cgroup in a v1 memory hierarchy,
    or in a v2 hierarchy whose subtree has the memory controller."""
    found = []
    for version, (mount, own) in sorted(_hierarchies().items()):
        parent = mount / own.lstrip("/")
        if version == 2:
            try:  # our own cgroup must hand the memory controller down
                if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
                    continue
            except OSError:
                continue
        found.append((version, parent))
    return found
