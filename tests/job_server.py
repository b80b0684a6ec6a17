"""A preloaded job server for the tests' Snakemake runs: rule scripts run in forks of one warm process.

Every model job of the workflow tests is a fresh Python process that spends 5-7 s of CPU here importing
torch and transformers before its tiny model does a second of work, and the other jobs spend about 0.5 s
importing polars, pyarrow and snakemake; the twins and workflow tests start several hundred of them. The
server imports those libraries once, then forks for each job (`job_server_site/sitecustomize.py` is the
client side, in the job's own process). The fork takes the job's standard streams, arguments, working
directory and environment and runs the script file from its first line, Snakemake's preamble included, so
the job's code runs exactly as in its own process: only the imports are already done.

What differs from a fresh process, and how it is kept out of the results:
- Libraries read some environment variables when imported (Hugging Face's offline switches and caches,
  torch's and BLAS's thread counts, ...). A job whose environment differs from the server's in anything but
  the variables below is declined and runs in its own process (counted in the server's log).
- Snakemake's benchmark files measure the job's process tree: for a forwarded job they have the right
  wall time but not the fork's CPU and memory. No test reads those.
- The Slurm tests do not use it: their jobs run under slurmd as users' jobs do.

`environment(env)` starts one for the calling process (tests/conftest.py's `snakemake()` calls it), `start(folder,
env)` one in `folder`; `python tests/job_server.py SOCKET` runs one in the foreground.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "job_server_site"
REPO = HERE.parent


def _client():
    """job_server_site/sitecustomize.py, the client, loaded by path (it is not on this process's sys.path)."""
    spec = importlib.util.spec_from_file_location("job_server_client", SITE / "sitecustomize.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


client = _client()
#: The variable naming the server's socket in the jobs' environment.
SOCKET_ENV = client.SOCKET_ENV

#: Variables that may differ between the server and a job: the socket's, the shell's own, pytest's name of the
#: running test, the job's temporary folder (`tempfile` looks it up again in the fork), polars' and pyarrow's
#: allocator options (read once, when the allocator starts), and the thread counts Snakemake sets per job
#: (`torch.set_num_threads` in `polyinstruct.workflow.job` applies the rule's threads). Also every
#: POLYINSTRUCT_* variable: the package reads them when it runs, never when imported (tests/test_job_server.py).
OWN_PREFIX = "POLYINSTRUCT_"
PER_JOB_ENV = frozenset(
    {SOCKET_ENV, "PWD", "OLDPWD", "SHLVL", "_", "PYTEST_CURRENT_TEST", "TMPDIR", "TEMP", "TMP", "TEMPDIR"}
    | {"_RJEM_MALLOC_CONF"}
    | {
        "OMP_NUM_THREADS",
        "GOTO_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    }
)


def preload() -> list[str]:
    """Import what the rule scripts import: the libraries, then every package module a script may run (the
    closure the code fingerprints follow, lazy imports included)."""
    import torch  # noqa: F401
    import transformers  # noqa: F401

    from polyinstruct import compat
    from polyinstruct.workflow import fingerprint

    compat.skip_unused_probes()  # before transformers' generation code loads, as in a model job
    names = [
        "transformers.modeling_utils",
        "transformers.generation",
        "peft",
        "polars",
        "pyarrow.json",
        "snakemake.script",
        # imported inside the package's functions: the trainer (1 s here), plots, the judges' client
        "transformers.trainer",
        "trl",
        "matplotlib.pyplot",
        "openai",
    ]
    scripts = sorted((REPO / "scripts").rglob("*.py"))
    names += sorted({fingerprint.module_name(path) for script in scripts for path in fingerprint.closure(script)})
    for name in names:
        importlib.import_module(name)
    return names


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    length = struct.unpack("!Q", msg[:8])[0]
    payload = msg[8:]
    if len(payload) < length:
        payload += client.receive_exact(conn, length - len(payload))
    return json.loads(payload), fds


def declined_by(env: dict, server_env: dict, set_by_imports: dict) -> list[str]:
    """The variables, beyond PER_JOB_ENV, in which a job's environment differs from the server's as started; a
    variable the preloaded libraries set for themselves may also be missing or have the value they set (the
    job was started by a process that had imported them: Snakemake)."""
    keys = {k for k in env.keys() | server_env.keys() if not k.startswith(OWN_PREFIX)} - PER_JOB_ENV
    return sorted(
        k
        for k in keys
        if env.get(k) != server_env.get(k) and not (k in set_by_imports and env.get(k) in (None, set_by_imports[k]))
    )


def _run_job(request: dict, fds: list[int], inherited: list) -> None:
    """In the fork: become the job's process and run its script; never returns. `inherited`: the server's
    sockets, selector and pipe, closed first."""
    import atexit as job_atexit
    import random
    import runpy
    import tempfile
    import threading
    import traceback

    status = 1
    try:
        for thing in inherited:
            thing.close() if hasattr(thing, "close") else os.close(thing)
        os.setpgid(0, 0)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the job's streams, left open for its own use
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
        tempfile.tempdir = None  # the job's TMPDIR, not the server's
        random.seed()
        runpy.run_path(sys.argv[0], run_name="__main__")
        status = 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int | None):
            print(exit_.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        status = 1
    try:
        threading._shutdown()  # what the interpreter does at exit: join the job's non-daemon threads
        job_atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(status)


def serve(path: Path, *, warm: bool = True, log=sys.stderr) -> None:
    """Preload (unless not `warm`: the server's own tests), listen on `path`, fork one process per job until
    SIGTERM."""
    server_env = dict(os.environ)
    loaded = preload() if warm else []
    # what the libraries set for themselves when imported (polars its allocator's options, ...), which a job
    # that imported them would have too
    set_by_imports = {k: v for k, v in os.environ.items() if server_env.get(k) != v}
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_r, selectors.EVENT_READ, "signal")
    jobs: dict[int, socket.socket] = {}
    print(f"ready: {len(loaded)} modules preloaded", file=log, flush=True)
    counts = {"forked": 0, "declined": 0}
    try:
        while not stop:
            for key, _ in selector.select(timeout=1.0):
                if key.data == "signal":
                    os.read(wake_r, 512)
                elif key.data == "accept":
                    conn, _ = listener.accept()
                    conn.setblocking(True)
                    request, fds = _receive(conn)
                    differing = declined_by(request["env"], server_env, set_by_imports)
                    if differing:
                        counts["declined"] += 1
                        print(
                            f"declined {request['argv'][0]}: environment differs in {differing}", file=log, flush=True
                        )
                        conn.sendall(struct.pack("!i", 0))
                        conn.close()
                        for fd in fds:
                            os.close(fd)
                        continue
                    pid = os.fork()
                    if pid == 0:
                        signal.set_wakeup_fd(-1)
                        request["env"].update(set_by_imports)
                        _run_job(request, fds, [listener, conn, selector, wake_r, wake_w, *jobs.values()])
                    with contextlib.suppress(OSError):  # the fork does it too; whichever is first
                        os.setpgid(pid, pid)
                    for fd in fds:
                        os.close(fd)
                    counts["forked"] += 1
                    conn.sendall(struct.pack("!i", pid))
                    jobs[pid] = conn
                    selector.register(conn, selectors.EVENT_READ, pid)
                else:  # a client's end: it only ever closes, when its process dies before the job ends
                    pid = key.data
                    selector.unregister(key.fileobj)
                    if pid in jobs:
                        _kill_group(pid)
            _reap(jobs, selector)
    finally:
        for pid in list(jobs):
            _kill_group(pid)
        listener.close()
        path.unlink(missing_ok=True)
        print(f"stopped: {counts['forked']} jobs forked, {counts['declined']} declined", file=log, flush=True)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _reap(jobs: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    while jobs:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = jobs.pop(pid, None)
        if conn is None:
            continue
        code = os.waitstatus_to_exitcode(wait_status)  # -N when killed by signal N
        with contextlib.suppress(KeyError, ValueError):
            selector.unregister(conn)
        with contextlib.suppress(OSError):
            conn.sendall(struct.pack("!i", code))
        conn.close()


_current: dict = {}


def environment(env: dict[str, str], *, warm: bool = True, current: dict = _current) -> dict[str, str]:
    """`env` itself with POLYINSTRUCT_TEST_NO_JOB_SERVER=1, or when no server starts (a warning says why: the
    runs stay right, every job in its own process); otherwise `env` with this process's server's socket."""
    if os.environ.get("POLYINSTRUCT_TEST_NO_JOB_SERVER") == "1":
        return env
    try:
        return _served(env, warm, current)
    except RuntimeError as exc:
        warnings.warn(f"every job runs in its own process: {exc}", stacklevel=2)
        return env


def _served(env: dict[str, str], warm: bool, current: dict) -> dict[str, str]:
    """`env` plus what sends a Snakemake run's rule scripts to this process's job server: started on first use,
    and started afresh (the last one stopped) when `env` differs from the one it was started with in anything
    a job may not change (PER_JOB_ENV, POLYINSTRUCT_*). Tests that run in the pytest process itself leave
    variables behind (accelerate's and torch's, sacrebleu's), so a worker's runs do not all see one environment.
    `current`: the server's state (this process's by default)."""
    key = [warm, *sorted((k, v) for k, v in env.items() if k not in PER_JOB_ENV and not k.startswith(OWN_PREFIX))]
    if current.get("key") != key:
        if "proc" in current:
            stop(current.pop("proc"))
        # a Unix socket's path has at most 107 bytes: a long TMPDIR gets /tmp instead
        where = None if len(tempfile.gettempdir()) <= 60 else "/tmp"
        job_env, proc = start(Path(tempfile.mkdtemp(prefix="polyinstruct-jobs-", dir=where)), env, warm=warm)
        current.update(key=key, proc=proc, added={k: job_env[k] for k in (SOCKET_ENV, "PYTHONPATH")})
    return {**env, **current["added"]}


def start(
    folder: Path, env: dict[str, str], *, warm: bool = True, timeout: float = 120.0
) -> tuple[dict[str, str], subprocess.Popen]:
    """Start a server in `folder` with `env` (stopped when this process exits); returns the environment that
    sends a Snakemake run's rule scripts to it, and the server's process."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "jobs.sock"
    log_path = folder / "server.log"
    server_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(SITE), env.get("PYTHONPATH")]))}
    job_env = {**server_env, SOCKET_ENV: str(path)}
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, __file__, str(path), *([] if warm else ["--cold"])],
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    atexit.register(stop, proc)
    deadline = time.monotonic() + timeout
    while "ready:" not in log_path.read_text(encoding="utf-8"):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop(proc)
            raise RuntimeError(f"the job server did not start:\n{log_path.read_text(encoding='utf-8')}")
        time.sleep(0.2)
    return job_env, proc


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), warm="--cold" not in sys.argv[2:])
