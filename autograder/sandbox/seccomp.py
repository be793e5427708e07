"""The system calls a worker never needs, refused by a seccomp filter.

A worker imports a submission, runs scenario calls and writes plain data to an
inherited pipe. It needs no new process, socket, shared memory, keyring, namespace,
mount, tracing or kernel-bypass interface, and each of those is a way out of its
limits: SysV shared memory, memfds and POSIX message queues hold memory that
RLIMIT_AS does not count and that can outlive the worker; SysV objects and the
worker user's keyring carry data from one worker to the next; ptrace, process_vm_*
and io_uring reach around the other layers. So they are refused with an errno (not a
kill), and Python raises a clean OSError the submission's feedback can name.

The filter is built with libseccomp (through pyseccomp), never by hand. The part that
is the same for every worker is built once in the zygote; a forked worker adds the
rules that name its own pid (signals only to itself) and loads it, ~0.5 ms.
Where libseccomp or seccomp itself is missing, `prepare()` says why, and workers run
without the filter (the report names it).
"""

from __future__ import annotations

import errno
import os
from typing import Any

# Refused with EPERM: a clean "Operation not permitted" for the submission.
REFUSED = (
    # SysV IPC (x86_64 has them as system calls; "ipc" is their multiplexer elsewhere)
    "shmget", "shmat", "shmdt", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl",
    "semget", "semop", "semtimedop", "semctl", "ipc",
    # POSIX message queues: memory outside the worker, a channel between workers
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    # keyrings outlive the worker, even the whole run
    "add_key", "request_key", "keyctl",
    # anonymous files: memory that RLIMIT_AS does not count
    "memfd_create", "memfd_secret",
    # kernel interfaces that reach around the other layers
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
    "userfaultfd", "perf_event_open", "bpf", "fanotify_init", "lookup_dcookie",
    "name_to_handle_at", "open_by_handle_at",
    # namespaces and mounts
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    # the machine itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "personality",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm",
    "vhangup",
    # sockets of every family: the worker talks through a pipe it inherits
    "socket", "socketpair",
    # no other program: seccomp, Landlock and the limits would follow it, but it need not run
    "execve", "execveat",
)
# Refused with EAGAIN, as RLIMIT_NPROC refuses them: "no new process or thread", which
# Python already reports cleanly (BlockingIOError, "can't start new thread"). It also
# holds for a worker that runs as root (no 'nobody' user), whom RLIMIT_NPROC spares.
NO_NEW_TASK = ("fork", "vfork", "clone")
# clone3 passes its flags in memory, which a filter cannot read: ENOSYS makes glibc fall
# back to clone, which the rules above see.
UNKNOWN = ("clone3",)
# Signals go to the worker itself only: never to another worker of the same user.
SIGNALS_TO = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")


def prepare() -> tuple[Any | None, str | None]:
    """The filter every worker shares, or None and why there is none."""
    try:
        import pyseccomp
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: no libseccomp
        return None, f"no seccomp filter (libseccomp unavailable: {exc})"
    try:
        rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        for names, action in ((REFUSED, pyseccomp.ERRNO(errno.EPERM)),
                              (NO_NEW_TASK, pyseccomp.ERRNO(errno.EAGAIN)),
                              (UNKNOWN, pyseccomp.ERRNO(errno.ENOSYS))):
            for name in names:
                try:
                    rules.add_rule(action, name)
                except (OSError, ValueError, RuntimeError):
                    pass  # not a system call on this architecture (ipc on x86_64, say)
    except Exception as exc:  # noqa: BLE001 (any failure of the library: no filter)
        return None, f"no seccomp filter (libseccomp failed: {exc})"
    return rules, None


def install(rules: Any) -> None:
    """Add the rules that name this process, and load the filter. It holds from here on,
    for this process and anything it could still start. Needs no_new_privs (or root)."""
    import pyseccomp

    pid = os.getpid()
    for name in SIGNALS_TO:
        try:
            rules.add_rule(pyseccomp.ERRNO(errno.EPERM), name, pyseccomp.Arg(0, pyseccomp.NE, pid))
        except (OSError, ValueError, RuntimeError):
            pass
    rules.load()
