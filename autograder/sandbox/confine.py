"""Confinement of one forked worker: what it may see, touch, spend and start.

Each step is applied in a child the zygote has just forked, before the child
imports the submission. Steps the kernel or our privileges do not allow are
skipped and named in `Isolation.missing`, so the report can say so.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import resource
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.limits import Limits

SANDBOX_USER = "nobody"  # the unprivileged account workers run as when the grader is root

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET, _CLONE_NEWNS = 0x40000000, 0x00020000
_MS_BIND, _MS_MOVE, _MS_REC, _MS_PRIVATE = 4096, 8192, 16384, 1 << 18
_MS_NOSUID, _MS_NODEV, _MNT_DETACH = 2, 4, 2
_PR_SET_NO_NEW_PRIVS = 38

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
    """What protection a worker gets on this machine; decided once, in the zygote."""

    uid: int | None  # the uid workers switch to, or None when the grader is not root
    gid: int | None
    landlock_abi: int  # 0: no Landlock
    roots: list[str]  # what a worker may read: Python, its packages, system folders
    missing: list[str] = field(default_factory=list)

    @classmethod
    def probe(cls) -> Isolation:
        uid = gid = None
        missing: list[str] = []
        roots = readable_roots()
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(SANDBOX_USER)
                uid, gid = entry.pw_uid, entry.pw_gid
            except KeyError:
                missing.append(f"no '{SANDBOX_USER}' user: workers run as root")
            else:
                # an empty network namespace (no interface but a down lo), made once here
                # and inherited by every worker: cheaper than one per fork
                if _libc.unshare(_CLONE_NEWNET) != 0:
                    missing.append("no network namespace: workers may reach the network")
                try:
                    _private_mounts()
                    _expose(roots)
                except OSError as exc:
                    uid = gid = None
                    missing.append(f"Python is not readable by '{SANDBOX_USER}' ({exc}): "
                                   "workers run as root")
        else:
            missing.append("not root: workers run as the grading user, no network namespace")
        abi = _syscall(_SYS_CREATE_RULESET, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
        if abi < 1:
            abi = 0
            missing.append("no Landlock in this kernel: filesystem limits rely on file modes")
        return cls(uid, gid, abi, roots, missing)

    def describe(self) -> str:
        parts = [f"worker user: {SANDBOX_USER}" if self.uid is not None else "worker user: same"]
        parts.append(f"landlock ABI {self.landlock_abi}" if self.landlock_abi else "no landlock")
        return ", ".join(parts)


def _syscall(number: int, *args: object) -> int:
    return _libc.syscall(number, *args)


def readable_roots() -> list[str]:
    """Where Python and its packages live: all a worker may read besides system folders."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        roots.add(sysconfig.get_path(name))
    roots.update(("/usr", "/lib", "/lib64", "/etc", "/proc", "/sys", "/dev"))
    return sorted({os.path.realpath(p) for p in roots if p and os.path.exists(p)})


def _expose(roots: list[str]) -> None:
    """Make Python readable by the sandbox user when it lives below a private folder
    (pyenv in /root, say): in a mount namespace of the zygote's own, that folder is
    covered by an empty tmpfs and only the Python folders are bound back into it."""
    blocked: dict[str, list[str]] = {}
    for root in roots:
        for parent in reversed(Path(root).parents):
            if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
                blocked.setdefault(str(parent), []).append(root)
                break
    for cover, inside in blocked.items():
        staged = []
        for root in inside:
            stage = tempfile.mkdtemp(prefix="sandbox-python-")
            _mount(root, stage, None, _MS_BIND | _MS_REC)
            staged.append((stage, root))
        _mount("tmpfs", cover, "tmpfs", 0, "mode=0755,size=1m")
        for stage, root in staged:
            os.makedirs(root, exist_ok=True)
            _mount(stage, root, None, _MS_MOVE)
            os.rmdir(stage)


def _private_mounts() -> None:
    """A mount namespace of the zygote's own: what it mounts, no one else sees."""
    if _libc.unshare(_CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)


def mount_work(folder: Path, iso: Isolation, size_mb: int) -> bool:
    """Give a worker's folder its own small tmpfs, so a worker that writes file after
    file fills that, not the machine's disk. Only as root (in the zygote's namespace)."""
    if iso.uid is None:
        return False
    _mount("tmpfs", str(folder), "tmpfs", _MS_NOSUID | _MS_NODEV,
           f"size={size_mb}m,mode=0700,uid={iso.uid},gid={iso.gid}")
    return True


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
    """Cut this (freshly forked) process down to a worker. Order matters: the limits while
    still root, then the user switch, then Landlock, which needs no root."""
    _set_limits(limits, baseline_vm)
    if iso.uid is not None:
        os.setgroups([])
        os.setgid(iso.gid)
        os.setuid(iso.uid)
    _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if iso.landlock_abi:
        _landlock(iso.landlock_abi, iso.roots, str(scratch))


def _set_limits(limits: Limits, baseline_vm: int) -> None:
    def cap(which: int, value: int) -> None:
        resource.setrlimit(which, (value, value))

    # SIGXCPU at the soft limit names the limit; the hard one, a second on, is SIGKILL
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    cap(resource.RLIMIT_AS, baseline_vm + limits.memory_mb * 1024 * 1024)
    cap(resource.RLIMIT_FSIZE, limits.output_bytes)
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NPROC, 0)  # no fork, no threads: the worker is one process


def _landlock(abi: int, read_roots: list[str], scratch: str) -> None:
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
        if _syscall(_SYS_RESTRICT_SELF, ruleset, 0) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


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
