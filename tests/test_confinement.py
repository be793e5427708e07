"""The worker's confinement, layer by layer, under each capability set this machine can make.

A hostile probe (PROBE below, a whole regression.py) tries what a student attacker
would: shared memory, keyrings, memfds, message queues, io_uring, ptrace, sockets,
namespaces, files in world-writable folders, signals to other processes, reading the
secrets; and it imports a standard-library module nobody imported before it (the
worker user must still reach Python, even below a private /root). It runs through a
real Sandbox in a fresh grader process started under each cell of the matrix:

  - full root (every layer);
  - root without CAP_SYS_ADMIN (capsh --drop=cap_sys_admin): no namespace can be made;
  - root without Landlock (a seccomp filter answering ENOSYS to landlock_*), which also
    refuses pidfd_open, so the zygote waits for workers without a pidfd;
  - both at once: the user switch and seccomp alone;
  - not root (the grader as 'nobody'), where this machine allows it.

In each: the worker is never root when the grader is, the secrets stay unread, every
refused call is refused, nothing the probe made outlives it, and the report names
what is missing truthfully. Then the tests of what a worker knows: a worker finds no
byte of a classmate graded before it in any memory it can read, and a visible call
never sees the arguments of the calls after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from autograder.homework import Homework
from autograder.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOMEWORK = Homework.load()
HIDDEN_TESTS = HOMEWORK.folder
PYTHON = sys.executable
REFERENCE = HOMEWORK.reference
ROOT_GRADER = os.geteuid() == 0
NOBODY = 65534

PROBE = textwrap.dedent('''
    """Tries every way out of the worker that the seccomp filter and the other layers close."""
    import ctypes
    import errno
    import os
    import platform
    import socket
    import sys

    libc = ctypes.CDLL(None, use_errno=True)
    ARM = platform.machine() in ("aarch64", "arm64")
    NR = {  # system call numbers: x86_64, aarch64
        "add_key": (248, 217), "keyctl": (250, 219), "io_uring_setup": (425, 425),
        "process_vm_readv": (310, 270), "userfaultfd": (323, 282), "bpf": (321, 280),
        "perf_event_open": (298, 241), "mq_open": (240, 180), "memfd_secret": (447, 447),
        "pidfd_open": (434, 434), "clone3": (435, 435),
    }

    def _errno(result):
        return "ok" if result >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")

    def _sys(name, *args):
        return _errno(libc.syscall(NR[name][ARM], *args))

    def _try(action):
        try:
            action()
        except BaseException as exc:
            return type(exc).__name__
        return "ok"

    def _write(folder, marker):
        with open(os.path.join(folder, "probe-" + marker), "wb") as f:
            f.write(b"x" * 4096)

    def _imports():
        """Import standard-library modules (and a package's submodule) not imported yet."""
        names = [n for n in ("fractions", "statistics", "wave", "xml.dom.minidom", "zipapp")
                 if n not in sys.modules]
        found = {}
        for name in names:
            found[name] = _try(lambda name=name: __import__(name))
        return found

    def probe(secrets=(), marker=""):
        buf = ctypes.create_string_buffer(64)
        key = ctypes.c_char_p
        return {
            "uid": os.getuid(), "euid": os.geteuid(),
            "secrets": {p: _try(lambda p=p: open(p, "rb").read(1)) for p in secrets},
            "imports": _imports(),
            "shmget": _errno(libc.shmget(0, 1 << 20, 0o1666)),
            "msgget": _errno(libc.msgget(0, 0o1666)),
            "semget": _errno(libc.semget(0, 1, 0o1666)),
            "mq_open": _sys("mq_open", key(b"probe"), 0o100 | 2, 0o666, None),
            "add_key": _sys("add_key", key(b"user"), key(marker.encode()), buf, 8, -4),
            "keyctl": _sys("keyctl", 0, -4, 0),  # KEYCTL_GET_KEYRING_ID of the user keyring
            "memfd_create": _try(lambda: os.memfd_create("probe")),
            "memfd_secret": _sys("memfd_secret", 0),
            "io_uring_setup": _sys("io_uring_setup", 8, buf),
            "ptrace_traceme": _errno(libc.ptrace(0, 0, None, None)),
            "process_vm_readv": _sys("process_vm_readv", os.getppid(), None, 0, None, 0, 0),
            "userfaultfd": _sys("userfaultfd", 0),
            "perf_event_open": _sys("perf_event_open", buf, 0, -1, -1, 0),
            "bpf": _sys("bpf", 0, buf, 8),
            "pidfd_open": _sys("pidfd_open", os.getppid(), 0),
            "unshare": _errno(libc.unshare(0x10000000)),  # CLONE_NEWUSER: no root needed
            "mount": _errno(libc.mount(b"none", b".", b"tmpfs", 0, None)),
            "chroot": _errno(libc.chroot(b".")),
            "personality": _errno(libc.personality(0x0040000)),  # ADDR_NO_RANDOMIZE
            "socket_unix": _try(lambda: socket.socket(socket.AF_UNIX).close()),
            "socketpair": _try(lambda: [s.close() for s in socket.socketpair()]),
            "fork": _try(lambda: os.fork() or None),
            "execve": _try(lambda: os.execv("/bin/true", ["true"])),
            "kill_init": _try(lambda: os.kill(1, 0)),
            "kill_self": _try(lambda: os.kill(os.getpid(), 0)),
            "writes": {d: _try(lambda d=d: _write(d, marker))
                       for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
                       if os.path.isdir(d)},
        }


    def hoard(marker="", mb=1200):
        """Files of 0.9 MB (under RLIMIT_FSIZE) in every world-writable folder it may write
        in, up to `mb` MB: memory, in a tmpfs, that RLIMIT_AS does not count. Returns how
        many MB it held."""
        held = 0
        for folder in ("/dev/shm", "/tmp", "/var/tmp", "/run/lock"):
            try:
                while held < mb * 10:
                    with open(os.path.join(folder, f"probe-{marker}-{held}"), "wb") as f:
                        f.write(b"h" * 900_000)
                    held += 9
            except OSError:
                pass
        return held // 10


    def forward(x, w, b):
        return w * x + b
''')

REFUSED = ("shmget", "msgget", "semget", "mq_open", "add_key", "keyctl", "memfd_create",
           "memfd_secret", "io_uring_setup", "ptrace_traceme", "process_vm_readv",
           "userfaultfd", "perf_event_open", "bpf", "pidfd_open", "unshare", "mount",
           "chroot", "personality", "socket_unix", "socketpair", "fork", "execve",
           "kill_init")

RUNNER = textwrap.dedent("""
    import json, os, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from autograder.sandbox import Sandbox
    from autograder.sandbox.confine import WORLD_WRITABLE
    scenarios, submission, marker, *secrets = sys.argv[1:]
    # the homework's secrets: its own folder (always) and its reference's; torch preloaded
    # as the real homework does
    with Sandbox(Path(scenarios), preload=("torch",),
                 secrets=[Path(scenarios).parent.parent / "solutions"]) as sandbox:
        outcome = sandbox.run(Path(submission), "regression", "probe",
                              secrets=secrets, marker=marker)
        hoard = sandbox.run(Path(submission), "regression", "hoard", marker=marker)
        left = []
        for folder in WORLD_WRITABLE:
            try:
                left += [os.path.join(folder, n) for n in os.listdir(folder) if marker in n]
            except OSError:
                pass
        print(json.dumps({{"isolation": sandbox.isolation, "missing": sandbox.missing,
                          "status": outcome.status, "error": outcome.error,
                          "found": outcome.value, "left": left, "grader_uid": os.geteuid(),
                          "hoard": [hoard.status, hoard.value, hoard.message]}}))
""").format(root=str(ROOT))


def _secrets() -> list[str]:
    """The real homework's secrets too (for a root grader, which closed them to others)."""
    return [str(p) for p in sorted(HIDDEN_TESTS.iterdir()) if p.is_file()] + [str(REFERENCE)]


def _launcher(refused: dict[str, str]) -> list[str]:
    """Start the command under a seccomp filter that refuses these system calls with
    these errnos: ENOSYS for Landlock (a kernel without it), EPERM for unshare (Docker's
    default profile without CAP_SYS_ADMIN) and pidfd_open (a strict container profile).
    "name:N" refuses the call only when its first argument is N."""
    code = textwrap.dedent(f"""
        import errno, os, sys
        import pyseccomp
        rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        for name, code in {refused!r}.items():
            name, _, first = name.partition(":")
            only = [pyseccomp.Arg(0, pyseccomp.EQ, int(first))] if first else []
            rules.add_rule(pyseccomp.ERRNO(getattr(errno, code)), name, *only)
        rules.load()
        os.execv(sys.argv[1], sys.argv[1:])
    """)
    return [PYTHON, "-c", code]


NO_LANDLOCK = {"landlock_create_ruleset": "ENOSYS", "landlock_add_rule": "ENOSYS",
               "landlock_restrict_self": "ENOSYS", "pidfd_open": "EPERM"}
NO_USERNS = {"unshare": "EPERM"}
NO_SECCOMP = {"seccomp": "EINVAL", "prctl:22": "EINVAL"}  # as a kernel built without it
# Started as root in place of Python: in a mount namespace of its own, makes Python
# readable by 'nobody' (as the zygote does), then becomes 'nobody' and runs the command.
AS_NOBODY = [PYTHON, "-c", textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {root!r})
    from autograder.sandbox.confine import _expose, _private_mounts, readable_roots
    _private_mounts()
    _expose(readable_roots())
    os.setgroups([])
    os.setgid({uid})
    os.setuid({uid})
    os.execv(sys.argv[1], sys.argv[1:])
""").format(root=str(ROOT), uid=NOBODY)]
CAPSH = ["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$@"', "grader"]

# cell: how to start the grader in it
CELLS = {
    "full root": [],
    "no CAP_SYS_ADMIN": CAPSH,
    "no CAP_SYS_ADMIN, no user namespaces": CAPSH + _launcher(NO_USERNS),
    "no Landlock": _launcher(NO_LANDLOCK),
    "no seccomp": _launcher(NO_SECCOMP),
    "no CAP_SYS_ADMIN, no user namespaces, no Landlock":
        CAPSH + _launcher({**NO_USERNS, **NO_LANDLOCK}),
    "not root": AS_NOBODY,
    "not root, no Landlock": AS_NOBODY + _launcher(NO_LANDLOCK),
    "not root, no Landlock, no user namespaces": AS_NOBODY + _launcher({**NO_USERNS,
                                                                        **NO_LANDLOCK}),
}


def _clear_worker_keyrings() -> None:
    """Unlink every key from the worker user's keyrings, as that user."""
    clear = ("import ctypes, platform; libc = ctypes.CDLL(None); "
             "nr = 219 if platform.machine() in ('aarch64', 'arm64') else 250; "
             "[libc.syscall(nr, 7, ring) for ring in (-4, -5)]")  # KEYCTL_CLEAR @u, @us
    subprocess.run([*AS_NOBODY, PYTHON, "-c", clear], check=True, cwd="/", timeout=60)


@pytest.fixture
def homework(tmp_path_factory, request) -> tuple[Path, Path, Path]:
    """A homework of the probe's own, in a folder any user may read: its scenarios, a
    homework.toml naming a secret folder, the secret (owned by the grading user of the
    cell, as the hidden tests would be), and the probe as regression.py."""
    as_nobody = request.node.callspec.params["cell"].startswith("not root")
    owner = NOBODY if as_nobody else 0
    folder = Path(tempfile.mkdtemp(prefix="confinement-"))  # /tmp/pytest-of-root is closed
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    tests, upload = folder / "tests", folder / "upload"
    for path in (folder, tests, upload):
        path.mkdir(exist_ok=True)
        path.chmod(0o755)
    shutil.copy(HERE / "probe_scenarios.py", tests / "scenarios.py")
    (tests / "homework.toml").write_text('module = "regression"\nscenarios = "scenarios.py"\n'
                                         'secrets = ["../solutions"]\n')
    secret = folder / "solutions" / "regression.py"
    secret.parent.mkdir()
    secret.write_text("the reference solution\n")
    (upload / "regression.py").write_text(PROBE)
    for path in folder.rglob("*"):
        os.chown(path, owner, owner)
        path.chmod(0o755 if path.is_dir() else 0o644)
    for path, mode in ((secret.parent, 0o700), (secret, 0o600), (tests, 0o700)):
        path.chmod(mode)
    (tests / "scenarios.py").chmod(0o600)
    return tests / "scenarios.py", upload / "regression.py", secret


@pytest.mark.skipif(not ROOT_GRADER, reason="the matrix drops capabilities from root")
@pytest.mark.parametrize("cell", list(CELLS))
def test_every_layer_holds_on_its_own(cell, homework):
    prefix = CELLS[cell]
    if "CAP_SYS_ADMIN" in cell and not shutil.which("capsh"):
        print(f"{cell}: skipped, capsh (libcap2-bin) is not installed")
        pytest.skip("capsh (libcap2-bin) is not installed")
    scenarios, probe, secret = homework
    not_root = cell.startswith("not root")
    secrets = [str(secret), str(scenarios)] + ([] if not_root else _secrets())
    marker = hashlib.sha256(cell.encode()).hexdigest()[:16]
    command = [*prefix, PYTHON, "-c", RUNNER, str(scenarios), str(probe), marker, *secrets]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd="/")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{cell}: {result['isolation']}; missing: {result['missing']}; "
          f"hoarding files: {result['hoard']}")
    assert result["status"] == "ok", result
    found = result["found"]
    missing = " ".join(result["missing"])
    mount = "no user namespaces" not in cell  # (those cells have no CAP_SYS_ADMIN either)
    unguarded = not_root and not mount and "no Landlock" in cell  # nothing stands between

    assert result["grader_uid"] == (NOBODY if not_root else 0)
    assert found["uid"] != 0 and found["euid"] != 0, f"{cell}: the worker ran as root"
    read = {p: r for p, r in found["secrets"].items() if r == "ok"}
    if unguarded:  # the worker is the grader's user, with nothing between them: said so
        assert "can read what the grader can" in missing, missing
    else:
        assert not read, f"{cell}: a worker read {read}"
    broken = {n: r for n, r in found["imports"].items() if r != "ok"}
    assert not broken, f"{cell}: the worker cannot import the standard library: {broken}"
    opened = [name for name in REFUSED if found[name] == "ok"]
    if "no seccomp" in cell:  # the other layers still hold; the report says what is open
        assert "no seccomp filter" in missing and "keyrings" in missing
        assert "seccomp" not in result["isolation"]
        assert found["fork"] != "ok"  # RLIMIT_NPROC
        _clear_worker_keyrings()  # the probe's key would outlive the run: not ours to leave
    else:
        assert not opened, f"{cell}: a worker may call {opened}"
        assert "seccomp" in result["isolation"]
    assert found["kill_self"] == "ok", "a worker may no longer signal itself"
    if unguarded:
        assert "outlive" in missing, missing
        for path in result["left"]:
            os.unlink(path)
    else:
        assert not result["left"], f"{cell}: files outlived the worker: {result['left']}"
    status, held, message = result["hoard"]
    if not unguarded:
        assert status == "memory" or (status == "ok" and held < 600), \
            f"{cell}: a worker held {held} MB in files ({status}: {message})"
    if status == "memory":
        assert "memory limit" in message

    assert "not readable" not in missing  # the old, wrong reason
    assert ("not root" in missing) == not_root
    assert ("no Landlock" in missing) == ("no Landlock" in cell)
    assert ("landlock" in result["isolation"]) == ("no Landlock" not in cell)
    if mount:
        assert "mount namespaces" in result["isolation"]
        assert ("in a user namespace" in result["isolation"]) == (
            not_root or "CAP_SYS_ADMIN" in cell)
    else:
        assert "no mount namespace" in missing and "Operation not permitted" in missing
    if mount or "no Landlock" not in cell:
        assert not set(found["writes"].values()) & {"ok"}, found["writes"]


# ------------------------------------------------------------------ what a worker knows

# Long, with the marker at its end: a buffer the zygote reused for a shorter file since
# would still hold it.
CLASSMATE = "# a long comment, as a classmate's notes\n" * 800 + '''
def forward(x, w, b):
    return w * x + b  # {marker}
'''

SCANNER = textwrap.dedent('''
    """Looks through every byte of memory it can read for a prefix, and reports each
    following run of bytes whose hash is the one it was given."""
    import ctypes
    import hashlib

    def _regions():
        with open("/proc/self/maps") as maps:
            for line in maps:
                fields = line.split()
                name = fields[5] if len(fields) > 5 else ""
                if "r" not in fields[1] or name.startswith("/") or name in ("[vvar]", "[vsyscall]",
                                                                          "[vvar_vclock]"):
                    continue  # files: their pages past the end would fault
                start, end = (int(v, 16) for v in fields[0].split("-"))
                yield start, end

    def scan(prefix, digest, length):
        prefix = prefix.encode()
        hits, scanned = 0, 0
        for start, end in _regions():
            for at in range(start, end, 1 << 20):
                size = min(1 << 20, end - at) + len(prefix) + length
                size = min(size, end - at)
                chunk = ctypes.string_at(at, size)
                scanned += len(chunk)
                i = chunk.find(prefix)
                while i >= 0:
                    tail = chunk[i:i + len(prefix) + length]
                    if hashlib.sha256(tail).hexdigest() == digest:
                        hits += 1
                    i = chunk.find(prefix, i + 1)
        return {"hits": hits, "scanned": scanned}
''')


def _probe_sandbox() -> Sandbox:
    return Sandbox(HERE / "probe_scenarios.py", preload=("torch",))  # as the homework does


def test_a_worker_finds_nothing_of_a_classmate_graded_before_it(tmp_path):
    """A classmate's code, run in the same zygote just before, is in no byte of memory a
    later worker can read. The scanner knows the marker's prefix and hash only, so it
    cannot find its own copy; it proves it can find one by finding a planted one."""
    prefix, secret = "classmate-marker-", os.urandom(12).hex()
    marker = prefix + secret
    digest = hashlib.sha256(marker.encode()).hexdigest()
    classmate = tmp_path / "classmate" / "regression.py"
    classmate.parent.mkdir()
    classmate.write_text(CLASSMATE.format(marker=marker))
    scanner = tmp_path / "scanner" / "regression.py"
    scanner.parent.mkdir()
    scanner.write_text(SCANNER)
    planted = tmp_path / "planted" / "regression.py"
    planted.parent.mkdir()
    planted.write_text(SCANNER + f"\nPLANTED = {marker!r}\n")
    with _probe_sandbox() as sandbox:
        for path in (classmate, planted, scanner):
            path.parent.chmod(0o755)
            path.chmod(0o644)
        graded = sandbox.run_many(classmate, "regression", [("probe", {})])
        assert graded[0] is None  # it imported (probe() is not there: an error, no matter)
        outcome = sandbox.run(scanner, "regression", "scan_memory", prefix=prefix,
                              digest=digest, length=len(secret))
        control = sandbox.run(planted, "regression", "scan_memory", prefix=prefix,
                              digest=digest, length=len(secret))
    assert control.ok and control.value["hits"] >= 1, control
    assert outcome.ok, outcome
    assert outcome.value["scanned"] > 50_000_000, "the scan did not cover the worker's memory"
    assert outcome.value["hits"] == 0, "a worker found a classmate's code in its memory"


PEEKER = textwrap.dedent('''
    """In every call, reads whatever is waiting on the worker's descriptors (the next
    calls' arguments, if they were sent early) and returns it."""
    import fcntl
    import os

    def peek(**args):
        seen = []
        for fd in range(3, 64):
            try:
                flags = fcntl.fcntl(fd, fcntl.F_GETFL)
                fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
                seen.append(os.read(fd, 1 << 16).decode("latin-1"))
            except OSError:
                pass
        return {"args": args, "seen": seen}
''')


def test_a_call_sees_no_arguments_of_the_calls_after_it(tmp_path):
    peeker = tmp_path / "regression.py"
    peeker.write_text(PEEKER)
    tmp_path.chmod(0o755)
    peeker.chmod(0o644)
    calls = [("peek_call", {"secret": f"call-{n}-" + os.urandom(6).hex()}) for n in range(4)]
    with _probe_sandbox() as sandbox:
        problem, outcomes = sandbox.run_many(peeker, "regression", calls)
    assert problem is None, problem
    assert all(o is not None and o.ok for o in outcomes), outcomes
    for n, outcome in enumerate(outcomes):
        text = json.dumps(outcome.value)
        assert calls[n][1]["secret"] in text  # its own arguments, it got
        later = [args["secret"] for _, args in calls[n + 1:] if args["secret"] in text]
        assert not later, f"call {n} saw the arguments of later calls: {later}"


def test_no_worker_leaves_sysv_objects_or_keys():
    """After everything above (and the attacks, which run before this file): nothing the
    worker user made is left in the kernel."""
    for kind in ("shm", "msg", "sem"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        header = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[0].split()
        uid = header.index("uid")
        owned = [line for line in lines if int(line.split()[uid]) == NOBODY]
        assert not owned, f"SysV {kind} objects of the worker user are left: {owned}"
    # the kernel keeps a uid's user and user-session keyrings once anything asked for
    # them (since Linux 5.3, until reboot): any key beyond those two is one a worker added
    for line in Path("/proc/key-users").read_text().splitlines():
        uid, _, counts = line.partition(":")
        if uid.strip() == str(NOBODY):
            keys = int(counts.split()[1].split("/")[0])
            assert keys <= 2, f"the worker user holds {keys - 2} key(s) of its own: {line}"


def test_a_zygote_leaves_no_folder_and_no_cgroup(tmp_path):
    """Its scratch folder (a mount point in its own namespace) and its memory cgroup go
    when the Sandbox closes."""
    from autograder.sandbox.cgroup import _candidates

    submission = tmp_path / "regression.py"
    submission.write_text(PEEKER)
    tmp_path.chmod(0o755)
    submission.chmod(0o644)
    with _probe_sandbox() as sandbox:
        assert sandbox.run(submission, "regression", "peek_call").ok
        scratch = Path(sandbox._ready()["scratch"])
        cgroups = [parent / f"autograder-{sandbox._proc.pid}" for _, parent in _candidates()]
        assert scratch.is_dir()
    assert not scratch.exists(), f"{scratch} outlived its zygote"
    assert not [c for c in cgroups if c.exists()], "a memory cgroup outlived its zygote"


def test_without_pyseccomp_a_zygote_says_so_and_confines_the_rest():
    """Where pyseccomp (or the libseccomp it wraps) cannot be imported: no filter, a note
    that says why, and the other layers as before. (A kernel that refuses the filter is
    the matrix's "no seccomp" cell.)"""
    check = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(ROOT)!r})
        sys.modules["pyseccomp"] = None  # what `import pyseccomp` meets without it
        from autograder.sandbox.confine import Isolation
        iso = Isolation.begin()
        print(json.dumps({{"seccomp": iso.seccomp is not None, "missing": iso.missing,
                          "layers": iso.layers}}))
    """)
    done = subprocess.run([PYTHON, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert not found["seccomp"] and "seccomp" not in found["layers"]
    assert any("no seccomp filter (libseccomp unavailable" in m for m in found["missing"])
    if ROOT_GRADER:
        assert "user nobody" in found["layers"]
