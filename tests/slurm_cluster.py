"""A real single-node Slurm cluster for the tests, started from Debian's packages in a temporary directory.

munged, MariaDB, slurmdbd, slurmctld and slurmd run as root on private sockets and free ports, with every
file under one directory, so the cluster touches no system state and several can run side by side. Slurm's
commands reach it through the `SLURM_CONF` variable in `cluster.env`. Accounting runs through slurmdbd
(as the README recommends), so `sacct` answers for finished jobs and the Snakemake executor learns their
state.

The node is declared as this machine's CPUs with a memory size large enough for the workflow's requests
(`SlurmdParameters=config_overrides`; memory is not enforced, nothing here uses cgroups) and two fake GPUs
(GRES backed by /dev/tty0,1): Slurm then grants `--gpus=N` and sets CUDA_VISIBLE_DEVICES as on a real GPU
node, while torch finds no CUDA device. Partitions `cpu` (default) and `gpu` match the names of the shipped
`profiles/slurm/` profile, so the tests use that profile unchanged apart from its timing knobs: installed as
the user profile `slurm` (as `make slurm-profile` installs it), and run as `snakemake --profile slurm`.

`python tests/slurm_cluster.py install` installs the Debian packages when missing (root and apt-get needed;
`make test` installs them with the other test packages, tests/system_packages.py);
`python tests/slurm_cluster.py run` starts a cluster and prints how to use it until Ctrl-C.
"""

from __future__ import annotations

import atexit
import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The shipped profile's status-check timings suit a busy site; tests poll fast. Nothing else is changed.
TEST_PROFILE_OVERRIDES = {"slurm-init-seconds-before-status-checks": 1, "seconds-between-status-checks": 1}
PACKAGES = ("slurm-wlm", "munge", "slurmdbd", "mariadb-server", "mariadb-client")
BINARIES = ("munged", "mariadbd", "mariadb-install-db", "slurmdbd", "slurmctld", "slurmd", "sbatch", "sacct")
NODE_MEMORY_MB = 65536  # declared node memory: the workflow asks up to 32 GB for training
FAKE_GPUS = 2
PARTITIONS = ("cpu", "gpu")


def missing_binaries() -> list[str]:
    return [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]


def why_unavailable() -> str | None:
    """None when a cluster can be started here (installing the packages if need be), else the reason."""
    if sys.platform != "linux":
        return "a Slurm test cluster needs Linux"
    if not missing_binaries():
        return None if os.geteuid() == 0 else "Slurm's daemons must run as root (slurmd starts jobs as any user)"
    if SYSTEM_CONF.exists():
        return f"{SYSTEM_CONF} exists: this machine belongs to a real Slurm cluster, which jobs' srun would reach"
    if RUN_CONF.exists() and not RUN_CONF.is_symlink():
        return f"{RUN_CONF} is a configless slurmd's cache: this machine belongs to a real Slurm cluster"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return (
            f"{', '.join(missing_binaries())} not installed and cannot be installed here (needs root and "
            f"apt-get): run `apt-get install {' '.join(PACKAGES)}` as root"
        )
    return None


# Inside a job, the executor's job step drops every SLURM_* variable (SLURM_CONF too) before its `srun`,
# which then looks for /etc/slurm/slurm.conf and then here, where configless slurmd caches its config.
RUN_CONF = Path("/run/slurm/conf")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def install_packages() -> None:
    """apt-get install the Debian packages when any of their programs is missing (root only)."""
    if not missing_binaries():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=300"]  # another install (a parallel test worker) holds the lock: wait
    subprocess.run(["apt-get", *wait, "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", *wait, "install", "-y", "-qq", "--no-install-recommends", *PACKAGES], check=True, env=env
    )
    if missing_binaries():
        raise RuntimeError(f"apt-get install {' '.join(PACKAGES)} left {missing_binaries()} missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check, timeout: float, log: Path | None = None, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"Slurm test cluster: {what} not ready after {timeout:.0f}s\n{tail}")


@dataclass
class SlurmCluster:
    """One running cluster; `env` carries SLURM_CONF for every Slurm command and Snakemake run."""

    root: Path
    node: str = field(default_factory=lambda: socket.gethostname().split(".")[0])
    cpus: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    processes: dict = field(default_factory=dict)
    startup_seconds: dict = field(default_factory=dict)

    @property
    def conf(self) -> Path:
        return self.root / "etc/slurm.conf"

    @property
    def env(self) -> dict:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    # -- configuration ----------------------------------------------------------------------------------

    def write_config(self) -> None:
        r = self.root
        for sub in ("etc", "log", "run", "state", "spool", "munge", "mysql"):
            (r / sub).mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in ("slurmctld", "slurmd", "slurmdbd", "mysql")}
        auth = f"AuthType=auth/munge\nAuthInfo=socket={r}/munge/munge.socket\n"
        partitions = "".join(
            f"PartitionName={p} Nodes={self.node} {'Default=YES ' if p == 'cpu' else ''}MaxTime=INFINITE State=UP\n"
            for p in PARTITIONS
        )
        self.conf.write_text(f"""\
# Written by tests/slurm_cluster.py: a single-node cluster for the tests.
ClusterName=polyinstruct
SlurmctldHost={self.node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={self.ports["slurmctld"]}
SlurmdPort={self.ports["slurmd"]}
{auth}CredType=cred/munge
StateSaveLocation={r}/state
SlurmdSpoolDir={r}/spool
SlurmctldPidFile={r}/run/slurmctld.pid
SlurmdPidFile={r}/run/slurmd.pid
SlurmctldLogFile={r}/log/slurmctld.log
SlurmdLogFile={r}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={self.ports["slurmdbd"]}
AccountingStorageTRES=gres/gpu
# the munge socket for the connection to slurmdbd
AccountingStoragePass={r}/munge/munge.socket
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherParams=NoOverMemoryKill
JobCompType=jobcomp/none
# keep sbatch --comment (the executor writes rule_<rule>_wildcards_<...> there) in sacct
AccountingStoreFlags=job_comment
# squeue keeps finished jobs this long; sacct keeps them for good
MinJobAge=300
# scancel/requeue send SIGTERM, then SIGKILL after KillWait seconds: time to write a checkpoint
KillWait=15
ReturnToService=2
SlurmdParameters=config_overrides
InactiveLimit=0
Waittime=0
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={NODE_MEMORY_MB} Gres=gpu:{FAKE_GPUS} State=UNKNOWN
{partitions}""")
        (r / "etc/gres.conf").write_text(f"NodeName={self.node} Name=gpu File=/dev/tty[0-{FAKE_GPUS - 1}]\n")
        (r / "etc/cgroup.conf").write_text("# no cgroup plugins are used (proctrack/linuxproc, task/none)\n")
        dbd = r / "etc/slurmdbd.conf"
        dbd.write_text(f"""\
{auth}DbdHost={self.node}
DbdAddr=127.0.0.1
DbdPort={self.ports["slurmdbd"]}
SlurmUser=root
LogFile={r}/log/slurmdbd.log
PidFile={r}/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={self.ports["mysql"]}
StorageUser=root
StorageLoc=slurm_acct_db
""")
        dbd.chmod(0o600)
        # srun inside jobs finds the config here (see RUN_CONF); a link left by a killed run is replaced
        RUN_CONF.parent.mkdir(parents=True, exist_ok=True)
        if RUN_CONF.is_symlink():
            RUN_CONF.unlink()
        RUN_CONF.symlink_to(r / "etc")
        key = r / "munge/munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)

    # -- processes --------------------------------------------------------------------------------------

    def _spawn(self, name: str, *cmd: str) -> subprocess.Popen:
        out = open(self.root / f"log/{name}.out", "ab")  # noqa: SIM115 (the daemon keeps writing to it)
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        self.processes[name] = proc
        return proc

    def _ok(self, *cmd: str) -> bool:
        return subprocess.run(cmd, env=self.env, capture_output=True).returncode == 0

    def _timed(self, name: str, start) -> None:
        t0 = time.monotonic()
        start()
        self.startup_seconds[name] = round(time.monotonic() - t0, 2)

    def start(self, timeout: float = 90) -> SlurmCluster:
        t0 = time.monotonic()
        self.write_config()
        atexit.register(self.stop)
        r = self.root
        sock = str(r / "munge/munge.socket")
        self._timed(
            "munged",
            lambda: (
                self._spawn(
                    "munged",
                    "munged",
                    "--foreground",
                    "--force",
                    f"--socket={sock}",
                    f"--key-file={r}/munge/munge.key",
                    f"--pid-file={r}/run/munged.pid",
                    f"--log-file={r}/log/munged.log",
                    f"--seed-file={r}/munge/munged.seed",
                ),
                _wait(
                    "munged",
                    lambda: Path(sock).exists() and self._ok("munge", "-S", sock, "-n"),
                    timeout,
                    r / "log/munged.out",
                ),
            ),
        )
        mysql_sock = str(r / "run/mysqld.sock")
        self._timed(
            "mariadb",
            lambda: (
                subprocess.run(
                    [
                        "mariadb-install-db",
                        "--no-defaults",
                        f"--datadir={r}/mysql",
                        "--user=root",
                        "--skip-test-db",
                        "--auth-root-authentication-method=normal",
                    ],
                    check=True,
                    capture_output=True,
                ),
                self._spawn(
                    "mariadb",
                    "mariadbd",
                    "--no-defaults",
                    f"--datadir={r}/mysql",
                    "--user=root",
                    f"--socket={mysql_sock}",
                    "--bind-address=127.0.0.1",
                    f"--port={self.ports['mysql']}",
                    "--skip-grant-tables",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=128M",
                    "--innodb-lock-wait-timeout=900",
                    f"--pid-file={r}/run/mysqld.pid",
                    f"--log-error={r}/log/mariadb.log",
                ),
                _wait(
                    "mariadb",
                    lambda: self._ok("mariadb-admin", f"--socket={mysql_sock}", "ping"),
                    timeout,
                    r / "log/mariadb.log",
                ),
            ),
        )
        self._timed(
            "slurmdbd",
            lambda: (
                self._spawn("slurmdbd", "slurmdbd", "-D"),
                _wait(
                    "slurmdbd", lambda: self._ok("sacctmgr", "-n", "show", "cluster"), timeout, r / "log/slurmdbd.log"
                ),
            ),
        )
        self._timed(
            "slurmctld",
            lambda: (
                self._spawn("slurmctld", "slurmctld", "-D", "-i"),
                _wait("slurmctld", lambda: self._ok("scontrol", "ping"), timeout, r / "log/slurmctld.log"),
            ),
        )
        self._timed(
            "slurmd",
            lambda: (
                self._spawn("slurmd", "slurmd", "-D"),
                _wait("node idle", lambda: self.node_state() == "idle", timeout, r / "log/slurmd.log"),
            ),
        )
        self._timed(
            "sacct", lambda: _wait("sacct", lambda: self._ok("sacct", "-n", "-X"), timeout, r / "log/slurmdbd.log")
        )
        self.startup_seconds["total"] = round(time.monotonic() - t0, 2)
        return self

    def node_state(self) -> str:
        proc = subprocess.run(
            ["sinfo", "-h", "-N", "-n", self.node, "-o", "%t"], env=self.env, capture_output=True, text=True
        )
        return proc.stdout.split()[0] if proc.returncode == 0 and proc.stdout.split() else ""

    def stop(self) -> None:
        if RUN_CONF.is_symlink() and RUN_CONF.resolve() == (self.root / "etc").resolve():
            RUN_CONF.unlink()
        if not self.processes:
            return
        subprocess.run(["scancel", "--full", "-u", "root"], env=self.env, capture_output=True)
        for name in ("slurmd", "slurmctld", "slurmdbd", "mariadb", "munged"):
            proc = self.processes.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- queries ----------------------------------------------------------------------------------------

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        """A Slurm command (sbatch, squeue, scontrol, scancel...) against this cluster."""
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    SACCT_FIELDS = (
        "JobID",
        "JobName",
        "Comment",
        "Partition",
        "State",
        "ExitCode",
        "ReqCPUS",
        "AllocCPUS",
        "ReqMem",
        "Timelimit",
        "AllocTRES",
        "NodeList",
    )

    def sacct(self, *args: str) -> list[dict]:
        """Allocations (no steps) of every job this cluster has run, as dicts of SACCT_FIELDS."""
        proc = self.run(
            "sacct", "-a", "-X", "-P", "-n", "--starttime", "2000-01-01", "-o", ",".join(self.SACCT_FIELDS), *args
        )
        rows = csv.reader(proc.stdout.splitlines(), delimiter="|")
        return [dict(zip(self.SACCT_FIELDS, row)) for row in rows if row]

    def rule_jobs(self, rule: str) -> list[dict]:
        """sacct rows of the jobs the Snakemake executor submitted for `rule` (oldest first)."""
        return [
            r
            for r in self.sacct()
            if r["Comment"] == f"rule_{rule}" or r["Comment"].startswith(f"rule_{rule}_wildcards_")
        ]

    def cancel(self, job_id: str, signal: str | None = None) -> None:
        """scancel a job (all its steps, the batch shell included); signal="TERM" sends only that signal."""
        self.run("scancel", "--full", *([f"--signal={signal}"] if signal else []), job_id)

    def profile(self, config_home: Path, **overrides) -> Path:
        """Install profiles/slurm as the user profile `slurm` under `config_home`/snakemake/ -- what `make
        slurm-profile` does under ~/.config -- with TEST_PROFILE_OVERRIDES (and `overrides`) applied; returns
        `config_home`, the XDG_CONFIG_HOME under which `snakemake --profile slurm` finds it."""
        from polyinstruct.cluster import profile

        changes = {**TEST_PROFILE_OVERRIDES, **{k.replace("_", "-"): v for k, v in overrides.items()}}
        profile.install(config_home / "snakemake" / profile.NAME, overrides=changes, force=True)
        return config_home

    def snakemake(
        self,
        workdir: Path,
        *args: str,
        snakefile: Path = REPO / "Snakefile",
        configfile: str | None = "tiny.yaml",
        config_home: Path | None = None,
        check: bool = True,
        background: bool = False,
        timeout: float = 1200,
    ):
        """Run `snakemake --profile slurm` in `workdir` through this cluster, as a user would after `make
        slurm-profile`: the profile is found under XDG_CONFIG_HOME (`config_home`, default workdir/.config),
        and the repository's default workflow profile applies as it does for them. background=True returns
        the Popen (stdout/stderr in workdir/snakemake.log) for tests that cancel or requeue jobs while it runs."""
        config_home = config_home or self.profile(workdir / ".config")
        cmd = [
            str(Path(sys.executable).parent / "snakemake"),
            "--profile",
            "slurm",
            *args,
            "--snakefile",
            str(snakefile),
            "--directory",
            str(workdir),
            *(["--configfile", str(workdir / configfile)] if configfile else []),
        ]
        env = {**self.env, "XDG_CONFIG_HOME": str(config_home)}
        if background:
            log = open(workdir / "snakemake.log", "w")  # noqa: SIM115 (the background run writes to it)
            return subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            logs = "\n".join(
                f"== {p}\n{p.read_text(errors='replace')[-2000:]}"
                for p in sorted((workdir / ".snakemake/slurm_logs").rglob("*.log"))
            )
            raise AssertionError(
                f"snakemake {' '.join(args)} on Slurm failed ({proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}\n{logs[-6000:]}"
            )
        if not re.search(r"Using profiles? slurm\b", proc.stderr):
            raise AssertionError(f"snakemake did not read the user profile 'slurm':\n{proc.stderr[-3000:]}")
        return proc

    def wait_for_jobs(self, predicate, timeout: float = 120, interval: float = 1.0) -> list[dict]:
        """Poll sacct until predicate(rows) holds; return the rows."""
        return _wait(
            "sacct condition", lambda: (rows := self.sacct()) and predicate(rows) and rows, timeout, interval=interval
        )


def start_cluster(root: Path | None = None) -> SlurmCluster:
    root = Path(root or tempfile.mkdtemp(prefix="slurm-"))
    return SlurmCluster(root).start()


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:  # `make test` runs this first
        reason = why_unavailable()
        if reason:
            print(f"Slurm tests will be skipped: {reason}")
        else:
            install_packages()
    elif sys.argv[1:] == ["run"]:
        cluster = start_cluster()
        print(f"started in {cluster.startup_seconds}s\nexport SLURM_CONF={cluster.conf}\nCtrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            cluster.stop()
    else:
        sys.exit("usage: slurm_cluster.py install|run")
