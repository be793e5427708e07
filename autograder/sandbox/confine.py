"""Confinement of one forked worker: what it may see, touch, spend and start.

Each step is applied in a child the zygote has just forked, before the child
imports the submission. Steps the kernel or our privileges do not allow are
skipped and named in `Isolation.missing`, so the report can say so.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import pwd
import resource
import shutil
import sys
import sysconfig
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autograder.limits import GRADER_MARGIN_MB, SMALLEST_ALLOWANCE_MB, Limits
from autograder.sandbox import seccomp
from autograder.sandbox.cgroup import MemoryCgroup, memory_headroom

SANDBOX_USER = "nobody"  # the unprivileged account workers run as when the grader is root

_libc = ctypes.CDLL(None, use_errno=True)
# Folders any user may write in. A worker must not: what it leaves there outlives it, and
# a file in a tmpfs is memory that no limit of the worker's counts.
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")
_MB = 1024 * 1024
_COPIED_MB = 128  # the zygote's pages a worker may copy by writing them (refcounts, say)

_CLONE_NEWNET, _CLONE_NEWNS, _CLONE_NEWIPC = 0x40000000, 0x00020000, 0x08000000
_CLONE_NEWUSER = 0x10000000
_SYS_PIVOT_ROOT = 41 if platform.machine() in ("aarch64", "arm64") else 155
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_MNT_DETACH = 2
_PR_SET_NO_NEW_PRIVS = 38
_CAP_SETGID, _CAP_SETUID, _CAP_SYS_ADMIN = 6, 7, 21
_CAPABILITY_VERSION_3 = 0x20080522
_KEPT_FDS = 512  # descriptors every worker keeps are numbered from here

# Landlock (linux/landlock.h). The syscall numbers are the same on x86_64 and aarch64.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1  # every filesystem right of ABI 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FILE_ONLY = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1, 2


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass
class Isolation:
    """What protection a worker gets on this machine; decided once, in the zygote. Each
    layer stands on its own: one the machine refuses is named in `missing`, with why."""

    uid: int | None  # the uid workers switch to, or None when the grader is not root
    gid: int | None
    landlock_abi: int  # 0: no Landlock
    roots: list[str]  # what a worker may read: Python, its packages, system folders
    missing: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)  # what is on, in words
    seccomp: Any = None  # the shared part of the seccomp filter (seccomp.prepare)
    cgroup: MemoryCgroup | None = None
    mount_namespace: bool = False
    user_namespace: bool = False  # the other namespaces are made inside one of our own
    descriptors: list[int] = field(default_factory=list)  # kept open for every worker
    # world-writable folders a worker can write in (no mount namespace, no Landlock):
    # what the worker user leaves there is removed after each worker
    to_clean: list[str] = field(default_factory=list)
    _refused: dict[str, str] = field(default_factory=dict)  # namespace: why not

    @classmethod
    def begin(cls) -> Isolation:
        """What is best done while the zygote is small (each forks a helper, and a fork of
        a process that has imported a large library costs ~40 ms): the user to switch to,
        a user namespace where namespaces need one, and whether the seccomp filter loads."""
        iso = cls(None, None, 0, [])
        iso._user()
        if os.geteuid() != 0:
            iso.missing.append("not root: workers run as the grading user")
        if (iso.uid is not None or os.geteuid() != 0) and not _has_capabilities(_CAP_SYS_ADMIN):
            iso._user_namespace()
        iso._seccomp_probe()
        return iso

    def finish(self, limits: Limits, keep: str, secrets: list[str] = (),
               free: int | None = None) -> None:
        """Turn on every other layer this machine allows, once the zygote has imported
        what workers need. `keep` is the zygote's scratch folder, which stays visible in
        the private root; `secrets` are folders no worker may see; `free` the memory still
        free (free_memory()), which the memory cgroup fits into."""
        self.roots = readable_roots()
        if self.uid is not None or os.geteuid() != 0:
            self._namespaces(keep, secrets)
        self._landlock_probe()
        self._cgroup(limits, free)
        self._name_refused_namespaces()
        if self.uid is None and not self.mount_namespace and not self.landlock_abi:
            self.missing.append("workers run as the grading user with neither Landlock nor a "
                                "mount namespace: they can read what the grader can (the "
                                "hidden tests too), and files they leave in /tmp or /dev/shm "
                                "outlive them")
        if self.uid is not None and not self.mount_namespace and not self.landlock_abi:
            self.to_clean = [d for d in WORLD_WRITABLE if os.path.isdir(d)]
            self.missing.append("neither a mount namespace nor Landlock: /tmp, /dev/shm and "
                                f"the like are writable by '{SANDBOX_USER}'; what a worker "
                                "leaves there is removed after it")

    @classmethod
    def probe(cls, limits: Limits, keep: str, secrets: list[str] = (),
              free: int | None = None) -> Isolation:
        """begin() and finish() at once."""
        iso = cls.begin()
        iso.finish(limits, keep, secrets, free)
        return iso

    def _user(self) -> None:
        if os.geteuid() != 0:
            return
        if not _has_capabilities(_CAP_SETUID, _CAP_SETGID):
            self.missing.append("root without CAP_SETUID/CAP_SETGID: workers run as root")
            return
        try:
            entry = pwd.getpwnam(SANDBOX_USER)
        except KeyError:
            self.missing.append(f"no '{SANDBOX_USER}' user: workers run as root")
            return
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.layers.append(f"user {SANDBOX_USER}")

    def _namespaces(self, keep: str, secrets: list[str]) -> None:
        """Network and IPC namespaces, made once here and inherited by every worker
        (cheaper than one per fork); a mount namespace that makes Python readable by the
        worker user and covers the world-writable folders and the secrets. Without
        CAP_SYS_ADMIN (not root, or a container's root) they are made inside a user
        namespace of the zygote's own, where the kernel allows one. Without a mount
        namespace, the worker reaches Python through descriptors opened here."""
        made = []
        for name, flag in (("network", _CLONE_NEWNET), ("IPC", _CLONE_NEWIPC)):
            if _libc.unshare(flag) == 0:
                made.append(name)
            else:
                self._refused[name] = os.strerror(ctypes.get_errno())
        try:
            _private_mounts()
            _private_root(self.roots, keep)
            self._check_secrets(secrets)
            made.append("mount")
            self.mount_namespace = True
        except OSError as exc:
            self._refused["mount"] = exc.strerror or str(exc)
            if self.uid is not None:
                self.descriptors = _reach_through_descriptors(self.roots)
        if made:
            self.layers.append(" and ".join(made) + " namespaces"
                               + (" (in a user namespace)" if self.user_namespace else ""))

    def _user_namespace(self) -> None:
        """Enter a user namespace of our own, where we may make the other namespaces. Our
        uid and gid (and the worker user's) map to themselves, so files keep their owners;
        a helper process left outside writes the maps, as only it may for two ids."""
        ready_r, ready_w = os.pipe()
        helper = os.fork()
        if helper == 0:
            code = 1
            try:
                os.close(ready_w)
                if os.read(ready_r, 1) == b"1":
                    code = _write_id_maps(os.getppid(), self.uid, self.gid)
            finally:
                os._exit(code)
        os.close(ready_r)
        entered = _libc.unshare(_CLONE_NEWUSER) == 0
        why = os.strerror(ctypes.get_errno())
        os.write(ready_w, b"1" if entered else b"0")
        os.close(ready_w)
        _, status = os.waitpid(helper, 0)
        if not entered:
            self._refused["user"] = why
        elif not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            raise OSError(errno.EPERM, "the user namespace's id maps could not be written")
        else:
            self.user_namespace = True

    def _check_secrets(self, secrets: list[str]) -> None:
        """The secrets are outside the private root, unless a homework put one inside a
        folder of Python's: say so."""
        for folder in secrets:
            real = os.path.realpath(folder)
            if any(real == r or real.startswith(r + "/") for r in self.roots):
                self.missing.append(f"the secret folder {real} is inside Python's folders: "
                                    "workers may read it")

    def _name_refused_namespaces(self) -> None:
        """Say which namespace is missing, why, and what stands in for it (known only once
        every layer is probed)."""
        instead = {
            "network": "sockets are refused by seccomp" if self.seccomp is not None
            else "workers may reach the network",
            "IPC": "SysV IPC is refused by seccomp" if self.seccomp is not None
            else "workers share the machine's SysV IPC",
            "mount": ("Python is reached through descriptors opened as root; "
                      if self.uid is not None else "")
            + "the worker's folder is " + ("in /dev/shm, counted by the memory cgroup"
                                           if self.scratch_in_memory() else "on disk"),
            "user": "no namespace could be made without CAP_SYS_ADMIN",
        }
        for name, why in self._refused.items():
            hint = " (no CAP_SYS_ADMIN?)" if why == os.strerror(errno.EPERM) else ""
            self.missing.append(f"no {name} namespace: {why}{hint}; {instead[name]}")

    def scratch_in_memory(self) -> bool:
        """Whether workers' folders go in /dev/shm: without a mount namespace (so no tmpfs
        of their own) but with a memory cgroup, which then counts what they write."""
        return (self.uid is not None and not self.mount_namespace and self.cgroup is not None
                and os.path.isdir("/dev/shm"))

    def _landlock_probe(self) -> None:
        abi = _syscall(_SYS_CREATE_RULESET, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
        if abi < 1:
            why = os.strerror(ctypes.get_errno())
            self.missing.append(f"no Landlock ({why}): filesystem limits rely on file modes")
        else:
            self.landlock_abi = abi
            self.layers.append(f"landlock ABI {abi}")

    def _seccomp_probe(self) -> None:
        rules, why = seccomp.prepare()
        if rules is not None:
            why = _loads_in_a_child(rules)
        if why:
            self.missing.append(why)
        else:
            self.seccomp = rules
            self.layers.append("seccomp")

    def _cgroup(self, limits: Limits, free: int | None) -> None:
        if os.geteuid() != 0:
            self.missing.append("no memory cgroup (not root): memory is limited by RLIMIT_AS")
            return
        self.cgroup, why = MemoryCgroup.make(cgroup_bytes(limits, free))
        if why:
            self.missing.append(why)
        else:
            self.layers.append(f"memory cgroup v{self.cgroup.version}")

    def describe(self) -> str:
        if self.uid is None:
            return ", ".join(["worker user: same", *self.layers]) or "no confinement"
        return "worker user: " + ", ".join(self.layers).removeprefix("user ")


def cgroup_bytes(limits: Limits, free: int | None = None) -> int:
    """What a worker may hold in all, as the kernel counts it: its memory allowance, its
    scratch folder, and room for the zygote's pages it copies on writing; never more than
    is `free` (less the grader's margin), so the worker meets this limit, not the
    container's, and the grader is never the one out of memory."""
    wanted = (limits.memory_mb + limits.scratch_mb + _COPIED_MB) * _MB
    if free is None:
        return wanted
    return max(min(wanted, free - GRADER_MARGIN_MB * _MB), SMALLEST_ALLOWANCE_MB * _MB)


def free_memory() -> int | None:
    """Bytes this process could still get: the tightest of its cgroups' headroom and the
    machine's MemAvailable. None if neither can be read."""
    free = [v for v in (memory_headroom(), _mem_available()) if v is not None]
    return min(free) if free else None


def fit_memory(limits: Limits, free: int | None) -> tuple[Limits, str | None]:
    """The limits with the worker's memory allowance lowered to what is free, less a
    margin for the grader; and a note when it was lowered."""
    if free is None:
        return limits, None
    room = free // _MB - GRADER_MARGIN_MB
    allowance = max(min(limits.memory_mb, room), SMALLEST_ALLOWANCE_MB)
    if allowance >= limits.memory_mb:
        return limits, None
    return replace(limits, memory_mb=allowance), (
        f"a worker may use {allowance} MB of memory, not {limits.memory_mb}: what this "
        f"machine (or its container) has free, less {GRADER_MARGIN_MB} MB for the grader")


def _mem_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _write_id_maps(pid: int, uid: int | None, gid: int | None) -> int:
    """From outside: map the process's own ids, and the worker user's, to themselves in
    its new user namespace. An exit code: 0 when done."""
    try:
        own_uid, own_gid = os.geteuid(), os.getegid()
        if own_uid != 0:  # an unprivileged map needs setgroups refused first
            _write_text(f"/proc/{pid}/setgroups", "deny")
        for name, own, worker in (("uid_map", own_uid, uid), ("gid_map", own_gid, gid)):
            lines = f"{own} {own} 1\n"
            if worker is not None and worker != own:
                lines += f"{worker} {worker} 1\n"
            _write_text(f"/proc/{pid}/{name}", lines)
    except OSError:
        return 1
    return 0


def _write_text(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _has_capabilities(*caps: int) -> bool:
    with open("/proc/self/status") as f:
        effective = next(int(line.split()[1], 16) for line in f if line.startswith("CapEff:"))
    return all(effective >> cap & 1 for cap in caps)


def _loads_in_a_child(rules: Any) -> str | None:
    """Whether this kernel takes the filter: tried once, in a throwaway child."""
    pid = os.fork()
    if pid == 0:
        try:
            _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
            seccomp.install(rules)
            code = 0
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return ("no seccomp filter (the kernel refused it): workers may use SysV IPC, keyrings, "
            "memfds, io_uring and ptrace")


def _syscall(number: int, *args: object) -> int:
    return _libc.syscall(number, *args)


def readable_roots() -> list[str]:
    """Where Python and its packages live: all a worker may read besides system folders."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        roots.add(sysconfig.get_path(name))
    roots.update(("/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev"))
    return sorted({os.path.realpath(p) for p in roots if p and os.path.exists(p)})


def _closed_parents(roots: list[str]) -> dict[str, list[str]]:
    """The folders others may not pass through (/root, say, for pyenv), with the roots
    below each: there the worker user cannot reach Python without help."""
    blocked: dict[str, list[str]] = {}
    for root in roots:
        for parent in reversed(Path(root).parents):
            if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
                blocked.setdefault(str(parent), []).append(root)
                break
    return blocked


def _expose(roots: list[str]) -> None:
    """Make Python readable by the sandbox user when it lives below a private folder:
    in the zygote's mount namespace, that folder is covered by an empty tmpfs and only
    the Python folders are bound back into it."""
    for cover, inside in _closed_parents(roots).items():
        _cover(cover, inside)


def _cover(folder: str, keep: list[str]) -> None:
    """Mount an empty tmpfs over `folder`, bind each path of `keep` (inside it) back at its
    place, then make the tmpfs read-only. The kept paths are reached through descriptors
    opened before the cover hides them."""
    fds = [os.open(path, os.O_PATH | os.O_CLOEXEC) for path in keep]
    try:
        _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=1m")
        for path, fd in zip(keep, fds, strict=True):
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, _MS_BIND | _MS_REC)
        _mount(None, folder, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    finally:
        for fd in fds:
            os.close(fd)


def _private_root(roots: list[str], keep: str) -> None:
    """Make the zygote's root (and so every worker's) a tmpfs that holds only what a worker
    may see: the system's and Python's folders (read-only), /proc, /dev (with /dev/shm
    and /dev/mqueue empty and read-only), the zygote's scratch folder `keep`, and the
    top-level links (/lib -> usr/lib). The hidden tests, the reference, results and
    classmates' uploads are not in it at all, whatever their modes, Landlock or not; and
    no folder in it but the scratch folder is writable, by anyone."""
    keep = os.path.realpath(keep)
    new = os.path.join(keep, "root")
    os.mkdir(new)
    _mount("tmpfs", new, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=0755,size=1m")
    for name in os.listdir("/"):
        if os.path.islink("/" + name):
            os.symlink(os.readlink("/" + name), os.path.join(new, name))
    outermost = [r for r in roots if not any(r.startswith(o + "/") for o in roots)]
    for path in outermost:
        inside = new + path
        os.makedirs(inside, exist_ok=True)
        _mount(path, inside, None, _MS_BIND | _MS_REC)
        if path == "/dev":  # read-only, but its devices still work (/dev/null)
            _mount(None, inside, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID)
        elif path != "/proc":  # a worker writes its own oom_score_adj there
            _mount(None, inside, None,
                   _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    for folder in ("/dev/shm", "/dev/mqueue"):
        if os.path.isdir(new + folder):
            _mount("tmpfs", new + folder, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV,
                   "mode=0755,size=4k")
    os.makedirs(new + keep, exist_ok=True)
    _mount(keep, new + keep, None, _MS_BIND)  # not recursive: not the new root inside it
    _mount(None, new, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    os.chdir(new)
    if _syscall(_SYS_PIVOT_ROOT, b".", b".") != 0:  # the old root ends up over the new
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    if _libc.umount2(b".", _MNT_DETACH) != 0:  # and goes
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    os.chdir("/")


def _reach_through_descriptors(roots: list[str]) -> list[int]:
    """Without a mount namespace, let the worker user import from Python folders below
    a private folder anyway: open each such root here (as root) and point the import
    system at /proc/self/fd/N/..., where only the folders below the descriptor need to
    be searchable. Every worker inherits the descriptors (O_PATH: they read nothing by
    themselves). Returns them, for the workers to keep."""
    moved: dict[str, str] = {}
    fds = []
    for inside in _closed_parents(roots).values():
        for root in inside:
            if any(root.startswith(other + "/") for other in inside):
                continue  # reached through the descriptor of the folder above it
            opened = os.open(root, os.O_PATH | os.O_DIRECTORY)
            fd = fcntl.fcntl(opened, fcntl.F_DUPFD, _KEPT_FDS)  # clear of 0-4 (child.py)
            os.close(opened)
            fds.append(fd)
            moved[root] = f"/proc/self/fd/{fd}"

    def through(path: str) -> str:
        for root, fd_path in moved.items():
            if path == root or path.startswith(root + "/"):
                return fd_path + path[len(root):]
        return path

    sys.path[:] = [through(os.path.realpath(p)) if p else p for p in sys.path]
    for module in list(sys.modules.values()):  # packages: where their submodules are
        search = getattr(module, "__path__", None)
        if isinstance(search, list) and any(p.startswith(tuple(moved)) for p in search):
            search[:] = [through(p) for p in search]
    return fds


def _private_mounts() -> None:
    """A mount namespace of the zygote's own: what it mounts, no one else sees."""
    if _libc.unshare(_CLONE_NEWNS) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)


def mount_work(folder: Path, iso: Isolation, size_mb: int) -> bool:
    """Give a worker's folder its own small tmpfs, so a worker that writes file after
    file fills that, not the machine's disk. Only in the zygote's mount namespace."""
    if not iso.mount_namespace:
        return False
    uid, gid = (iso.uid, iso.gid) if iso.uid is not None else (os.geteuid(), os.getegid())
    _mount("tmpfs", str(folder), "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"size={size_mb}m,mode=0700,uid={uid},gid={gid}")
    return True


def clean_after(iso: Isolation) -> None:
    """Remove what the worker user left in world-writable folders (only when neither a
    mount namespace nor Landlock kept it out of them)."""
    for folder in iso.to_clean:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != iso.uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def unmount_work(folder: Path) -> None:
    if _libc.umount2(str(folder).encode(), _MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), f"umount {folder}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(value: str | None) -> bytes | None:
        return value.encode() if value is not None else None

    if _libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        raise OSError(ctypes.get_errno(), f"mount {source} on {target}")


def confine(iso: Isolation, limits: Limits, scratch: Path, baseline_vm: int) -> None:
    """Cut this (freshly forked) process down to a worker. Order matters: the OOM score, the
    limits and the Landlock rules while still root (the rules open Python's folders by
    path), then the user switch, no_new_privs, Landlock, and the seccomp filter last
    (it refuses what the steps before it use)."""
    _first_to_go()
    _set_limits(limits, baseline_vm)
    ruleset = _landlock_rules(iso.landlock_abi, iso.roots, str(scratch)) if iso.landlock_abi \
        else None
    if iso.uid is not None:
        os.setgroups([])
        os.setgid(iso.gid)
        os.setuid(iso.uid)
    if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if ruleset is not None:
        try:
            if _syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
                raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
        finally:
            os.close(ruleset)
    if iso.uid is None:  # in a user namespace of the zygote's, it would hold every one
        _drop_capabilities()
    if iso.seccomp is not None:
        seccomp.install(iso.seccomp)


def _first_to_go() -> None:
    """Make this worker the OOM killer's first choice (it inherited the zygote's score):
    whether its own memory cgroup or the container's runs out, the worker is the one
    ended, never the judge or the zygote, so results are always written."""
    try:
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except OSError:
        pass


def _drop_capabilities() -> None:
    """No capability left, in any user namespace (a root worker keeps its uid's file
    access, not its privileges)."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable; twice (64 bits)
    if _libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def _set_limits(limits: Limits, baseline_vm: int) -> None:
    def cap(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    # SIGXCPU at the soft limit names the limit; the hard one, a second on, is SIGKILL
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    cap(resource.RLIMIT_AS, baseline_vm + limits.memory_mb * 1024 * 1024)
    cap(resource.RLIMIT_FSIZE, limits.output_bytes)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NPROC, 0)  # no fork, no threads: the worker is one process


def _landlock_rules(abi: int, read_roots: list[str], scratch: str) -> int:
    """A Landlock ruleset (a descriptor): read Python and the system, write the scratch."""
    fs = _FS_ABI1
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    attr = _RulesetAttr(
        fs=fs,
        net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
    try:
        for path in read_roots:
            _allow(ruleset, path, read)
        _allow(ruleset, "/dev/null", _FS_READ_FILE | _FS_WRITE_FILE)
        _allow(ruleset, scratch, fs & ~_FS_IOCTL_DEV)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def _allow(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            access &= _FILE_ONLY
        rule = _PathBeneathAttr(allowed=access, parent_fd=fd)
        if _syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(fd)
