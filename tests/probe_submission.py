"""A submission that reports what its sandbox worker may do, for test_attacks.py.

Each check returns "ok" when the operation worked and the error's name when it did not.
"""

import json
import os
import socket
import subprocess
import threading

SENTINEL_TEXT = "the sentinel is intact\n"


def _try(action):
    try:
        action()
    except BaseException as exc:  # noqa: B036 (any failure is an answer)
        return type(exc).__name__
    return "ok"


def _read(path):
    with open(path, "rb") as f:
        f.read(1)


def _append(path):
    with open(path, "a") as f:
        f.write("overwritten by the probe\n")


def _rename(path):
    os.rename(path, path + ".moved")


def _create_beside(path):
    with open(os.path.join(os.path.dirname(path), "planted.py"), "w") as f:
        f.write("print('planted')\n")


def _connect(host, port):
    with socket.create_connection((host, port), timeout=1):
        pass


def _udp(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"x", (host, port))


def _fill_scratch(limit_mb=200):
    """How many MB the worker could write in its folder, up to limit_mb (then removed)."""
    written = 0
    try:
        while written < limit_mb:
            with open(f"fill{written}", "wb") as f:
                f.write(b"x" * 1_000_000)
            written += 1
    except OSError:
        pass
    for n in range(written + 1):
        try:
            os.remove(f"fill{n}")
        except OSError:
            pass
    return written


def _interfaces():
    """The network interfaces the worker sees (none, if it may not even ask)."""
    try:
        return sorted(name for _, name in socket.if_nameindex())
    except OSError:
        return []


def _fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _thread():
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()


def _scratch_write():
    with open("scratch-check.txt", "w") as f:
        f.write("the worker's own folder is writable\n")


def probe(secrets=(), sentinels=(), port=0):
    ppid = os.getppid()
    return {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
        "read_secret": {p: _try(lambda p=p: _read(p)) for p in secrets},
        "list_secret_folder": {p: _try(lambda p=p: os.listdir(os.path.dirname(p)))
                               for p in secrets},
        "read_sentinel": {p: _try(lambda p=p: _read(p)) for p in sentinels},
        "write_sentinel": {p: _try(lambda p=p: _append(p)) for p in sentinels},
        "truncate_sentinel": {p: _try(lambda p=p: os.truncate(p, 0)) for p in sentinels},
        "chmod_sentinel": {p: _try(lambda p=p: os.chmod(p, 0o777)) for p in sentinels},
        "rename_sentinel": {p: _try(lambda p=p: _rename(p)) for p in sentinels},
        "delete_sentinel": {p: _try(lambda p=p: os.remove(p)) for p in sentinels},
        "create_beside_sentinel": {p: _try(lambda p=p: _create_beside(p)) for p in sentinels},
        "tcp_to_judge_host": _try(lambda: _connect("127.0.0.1", port)),
        # only loopback is ever a target: the machine's network is not ours to probe
        "udp_to_judge_host": _try(lambda: _udp("127.0.0.1", port)),
        "interfaces": _interfaces(),
        "scratch_fill": _fill_scratch(),
        "fork": _try(_fork),
        "subprocess": _try(lambda: subprocess.run(["/bin/true"], check=True)),
        "thread": _try(_thread),
        "signal_parent": _try(lambda: os.kill(ppid, 0)),
        "parent_environ": _try(lambda: _read(f"/proc/{ppid}/environ")),
        "parent_cwd": _try(lambda: os.listdir(f"/proc/{ppid}/cwd")),
        "parent_memory": _try(lambda: _read(f"/proc/{ppid}/mem")),
        "scratch_write": _try(_scratch_write),
        "cwd": os.getcwd(),
        "env": json.dumps(sorted(os.environ))[:2000],
    }
