"""The tests' job-server client: a rule script that Snakemake starts runs in a fork of the preloaded server.

Python imports this module at start-up when this folder is on PYTHONPATH (tests/job_server.py puts it there
for the Snakemake runs of the tests). It does nothing unless POLYINSTRUCT_TEST_JOB_SERVER names a socket and
the process was started on a rule's script file (Snakemake writes them to `.snakemake/scripts/tmp*.py`).
Then it hands its standard streams, arguments, working directory and environment to the server, forwards
the signals it gets (Snakemake's, Ctrl-C) to the fork's process group, and exits with the fork's status: to
Snakemake it is the job's process. If no server answers, or the server declines (an environment that the
preloaded libraries would have read differently at import), the script runs here, as without the server.
"""

from __future__ import annotations

import os
import sys

SOCKET_ENV = "POLYINSTRUCT_TEST_JOB_SERVER"
FORWARDED_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def _is_rule_script(argv: list[str]) -> bool:
    if not argv or not argv[0].endswith(".py"):
        return False
    folder = os.path.dirname(os.path.abspath(argv[0]))
    return os.path.basename(folder) == "scripts" and os.path.basename(os.path.dirname(folder)) == ".snakemake"


def receive_exact(sock, n: int) -> bytes:
    """`n` bytes from `sock` (the server reads a request's rest with it too)."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the other end closed the connection")
        data += chunk
    return data


def _receive_int(sock) -> int:
    import struct

    return struct.unpack("!i", receive_exact(sock, 4))[0]


def _forward(path: str) -> None:
    import json
    import signal
    import socket
    import struct

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        return
    payload = json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(sock, [struct.pack("!Q", len(payload)) + payload], [0, 1, 2])
    pid = _receive_int(sock)
    if pid <= 0:
        sock.close()
        return

    def forward(signum, frame):
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:  # the fork has not made its process group yet
            os.kill(pid, signum)

    for name in FORWARDED_SIGNALS:
        signal.signal(getattr(signal, name), forward)
    status = _receive_int(sock)
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status)


if os.environ.get(SOCKET_ENV) and _is_rule_script(sys.argv):
    _forward(os.environ[SOCKET_ENV])
