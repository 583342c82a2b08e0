"""`make serve-replicas`: N service processes on loopback ports behind nginx, supervised, stopped by PID.

    python -m search_api.replicas            serve until Ctrl+C or SIGTERM (what make serve-replicas runs)
    python -m search_api.replicas --status   the ports, PIDs and restarts of a running one
    python -m search_api.replicas --stop     stop a running one from another shell (make stop-replicas)

Each replica is `python -m search_api` on 127.0.0.1:SOVEI_PORT+i with the same SOVEI_INDEX_DIR, so all of
them follow one `current` link: `make index` or `make index-rollback` reaches each on its next request.
nginx (its config: `nginx.py`) listens on SOVEI_HOST:SOVEI_PORT and runs in the foreground as a child of
this supervisor, from a prefix in the run folder (var/replicas/nginx): nothing system-wide is read or
changed. A replica or nginx that exits is started again — at once, then after 1, 2, 4 … 30 s while it
keeps failing to come up — and nginx sends requests to the other replicas meanwhile. The run folder's
state.json lists every PID; stopping signals exactly those PIDs and waits until each is gone. The kernel
sends the children SIGTERM if the supervisor itself is killed (PR_SET_PDEATHSIG), and hands it what a
child leaves behind (PR_SET_CHILD_SUBREAPER): nginx's workers outlive a master killed with SIGKILL and
keep its port, so they are stopped before nginx is started again.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import ReplicaError, SoveiError
from indexer.settings import ROOT, Settings, get_settings

from .nginx import TEMP_DIRS, Proxy, config, redact

log = logging.getLogger("sovei.replicas")
RUN_DIR = ROOT / "var" / "replicas"
STATE = "state.json"
START_TIMEOUT_S = 600.0
"""How long the first start may take: several processes load the model at once, on a machine that may be busy."""
STOP_TIMEOUT_S = 20.0
"""How long a process may take to finish its requests after SIGTERM/SIGQUIT before it gets SIGKILL."""
MAX_BACKOFF_S = 30.0


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not found:
        raise ReplicaError("nginx is not installed: run `make nginx-deps` as root, or `sudo apt-get install -y nginx`")
    return found


def cores() -> int:
    return len(os.sched_getaffinity(0))


@dataclass
class Child:
    """A process the supervisor runs, restarts and stops."""

    name: str
    argv: list[str]
    env: dict[str, str]
    probe: str
    """The URL that answers 200 when it is ready."""
    log: Path
    proc: subprocess.Popen | None = None
    ready: bool = False
    restarts: int = 0
    failures: int = 0
    """Exits in a row without having become ready: the backoff before the next start."""
    retry_at: float | None = None
    started_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def state(self) -> dict:
        return {"name": self.name, "pid": self.pid, "ready": self.ready, "restarts": self.restarts,
                "probe": self.probe, "log": str(self.log)}


class Supervisor:
    def __init__(self, settings: Settings, run_dir: Path = RUN_DIR):
        self.settings = settings
        self.run_dir = Path(run_dir).resolve()
        self.prefix = self.run_dir / "nginx"
        n = settings.replicas or cores()
        self.ports = [settings.port + i for i in range(1, n + 1)]
        if self.ports[-1] > 65535:
            raise ReplicaError(f"SOVEI_PORT={settings.port} leaves no room for {n} replicas on the ports after it "
                               f"(SOVEI_REPLICAS={settings.replicas}); set SOVEI_PORT to at most {65535 - n}")
        # SOVEI_THREADS is the cores to use: shared out between the replicas. The service's own rate limit
        # would see every request coming from nginx's address, so nginx limits per client instead.
        env = {**os.environ, "SOVEI_HOST": "127.0.0.1", "SOVEI_THREADS": str(max(1, settings.threads // n)),
               "SOVEI_RATE_LIMIT": "0", "SOVEI_INDEX_DIR": str(Path(settings.index_dir).resolve())}
        self.replicas = [Child(f"replica :{port}", [sys.executable, "-m", "search_api"],
                               {**env, "SOVEI_PORT": str(port)}, f"http://127.0.0.1:{port}/healthz",
                               self.run_dir / f"replica-{port}.log") for port in self.ports]
        self.url = f"http://{_url_host(_probe_host(settings.host))}:{settings.port}"
        self.nginx = Child("nginx", [nginx_binary(), "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"),
                                     "-e", "stderr"], dict(os.environ), self.url + "/healthz",
                           self.prefix / "error.log")
        self.stopping = threading.Event()

    @property
    def children(self) -> list[Child]:
        return [*self.replicas, self.nginx]

    def start(self) -> None:
        """Replicas first, then nginx once they answer; returns when nginx answers /healthz."""
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        running = read_state(self.run_dir)
        if running and _alive(running.get("supervisor"), "search_api.replicas"):
            raise ReplicaError(f"replicas already run from {self.run_dir} (supervisor pid {running['supervisor']}); "
                               "stop them with `make stop-replicas`")
        check_index(self.settings)
        for port in (self.settings.port, *self.ports):
            host = self.settings.host if port == self.settings.port else "127.0.0.1"
            _check_free(host, port, self.settings)
        self._write_config()
        for r in self.replicas:
            self._spawn(r)
        self._wait_ready(self.replicas)
        self._spawn(self.nginx)
        self._wait_ready([self.nginx])
        self._write_state()

    def watch(self) -> None:
        """Until stop(): start again what exited, note what became ready, keep state.json current."""
        while not self.stopping.is_set():
            changed = False
            for c in self.children:
                if c.proc is not None and c.proc.poll() is not None:
                    changed = True
                    code = c.proc.returncode
                    why = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
                    c.failures = 0 if c.ready else c.failures + 1
                    delay = 0.0 if c.failures == 0 else min(MAX_BACKOFF_S, 2.0 ** (c.failures - 1))
                    log.warning("%s (pid %d) ended by %s; starting it again%s", c.name, c.proc.pid, why,
                                f" in {delay:.0f} s" if delay else "")
                    c.proc, c.ready, c.retry_at = None, False, time.monotonic() + delay
                    self._stop_strays()
                if c.proc is None and c.retry_at is not None and time.monotonic() >= c.retry_at and \
                        not self.stopping.is_set():
                    changed = True
                    c.restarts += 1
                    self._spawn(c)
                if c.proc is not None and not c.ready and _answers(c.probe):
                    changed = True
                    c.ready, c.failures = True, 0
                    log.info("%s (pid %d) answers again, %.1f s after it was started", c.name, c.proc.pid,
                             time.monotonic() - c.started_at)
            if changed:
                self._write_state()
            self.stopping.wait(0.2)

    def stop(self) -> None:
        """nginx first (it finishes the requests it has), then the replicas; each by its PID, SIGKILL if it hangs."""
        self.stopping.set()
        _stop_pids([(self.nginx.proc, signal.SIGQUIT)])
        _stop_pids([(r.proc, signal.SIGTERM) for r in self.replicas])
        self._stop_strays()
        for c in self.children:
            c.ready = False
        (self.run_dir / STATE).unlink(missing_ok=True)

    def _stop_strays(self) -> None:
        """Stop what a child left behind and the kernel handed to us (nginx's workers after its master died)."""
        known = {c.pid for c in self.children if c.pid}
        strays = [pid for pid in _children_of(os.getpid()) if pid not in known]
        for pid in strays:
            log.warning("pid %d was left behind by a child that ended: SIGTERM", pid)
            _signal(pid, signal.SIGTERM)
        for pid in strays:
            deadline = time.monotonic() + STOP_TIMEOUT_S
            try:
                while os.waitpid(pid, os.WNOHANG) == (0, 0):
                    if time.monotonic() > deadline:
                        _signal(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        break
                    time.sleep(0.05)
            except ChildProcessError:
                pass  # reaped already

    def _write_config(self) -> None:
        for name in TEMP_DIRS.values():
            (self.prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
        s = self.settings
        proxy = Proxy(listen=f"{_url_host(s.host)}:{s.port}", upstreams=[f"127.0.0.1:{p}" for p in self.ports],
                      rate_per_minute=s.proxy_rate_limit, burst=s.proxy_burst, max_query_chars=s.max_query_chars)
        (self.prefix / "nginx.conf").write_text(config(proxy, self.prefix), encoding="utf-8")
        test = subprocess.run([*self.nginx.argv, "-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise ReplicaError(f"nginx refuses the generated {self.prefix / 'nginx.conf'}:\n{test.stderr.strip()}")

    def _spawn(self, c: Child) -> None:
        c.started_at, c.retry_at, c.ready = time.monotonic(), None, False
        c.log.parent.mkdir(parents=True, exist_ok=True)
        parent = os.getpid()
        if c is self.nginx:
            c.proc = subprocess.Popen(c.argv, env=c.env, cwd=self.prefix, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                                      preexec_fn=lambda: _die_with(parent))
            threading.Thread(target=_copy_redacted, args=(c.proc.stderr, c.log), daemon=True).start()
        else:
            with c.log.open("a") as out:
                c.proc = subprocess.Popen(c.argv, env=c.env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          preexec_fn=lambda: _die_with(parent))
        log.info("%s started (pid %d)", c.name, c.proc.pid)

    def _wait_ready(self, children: list[Child]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not all(c.ready for c in children):
            for c in children:
                if c.proc.poll() is not None:
                    tail = "\n".join(c.log.read_text(errors="replace").splitlines()[-15:]) if c.log.exists() else ""
                    raise ReplicaError(f"{c.name} stopped while starting (exit code {c.proc.returncode}); the end "
                                       f"of {c.log}:\n{tail}")
                c.ready = c.ready or _answers(c.probe)
            if time.monotonic() > deadline:
                late = ", ".join(c.name for c in children if not c.ready)
                raise ReplicaError(f"{late} did not answer within {START_TIMEOUT_S:.0f} s; see {self.run_dir}")
            if self.stopping.wait(0.2):
                raise ReplicaError("stopped while starting")

    def _write_state(self) -> None:
        state = {"supervisor": os.getpid(), "url": self.url, "index_dir": str(self.settings.index_dir),
                 "access_log": str(self.prefix / "access.log"), "nginx": self.nginx.state(),
                 "replicas": [r.state() for r in self.replicas]}
        tmp = self.run_dir / f".{STATE}.tmp"
        tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
        os.replace(tmp, self.run_dir / STATE)


def check_index(settings: Settings) -> None:
    """The index every replica will open, checked once here with the fix (without loading the model)."""
    from indexer.analysis import ANALYZER
    from indexer.embed import check_runnable, model_id_for
    from indexer.manifest import Manifest

    check_runnable(settings.model)  # here, not in each replica's log as it fails to start
    Manifest.read(settings.current_index).check_compatible(model_id_for(settings.model), ANALYZER)


def read_state(run_dir: Path = RUN_DIR) -> dict | None:
    try:
        return json.loads((Path(run_dir) / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stop_running(run_dir: Path = RUN_DIR) -> str:
    """Stop what state.json lists: the supervisor (which stops its children), else the children themselves."""
    run_dir = Path(run_dir).resolve()
    state = read_state(run_dir)
    if state is None:
        return f"Nothing to stop: no {STATE} in {run_dir}."
    stopped = []
    supervisor = state.get("supervisor")
    if _alive(supervisor, "search_api.replicas"):
        os.kill(supervisor, signal.SIGTERM)
        if not _gone(supervisor, STOP_TIMEOUT_S * 3):
            raise ReplicaError(f"the supervisor (pid {supervisor}) did not stop within {STOP_TIMEOUT_S * 3:.0f} s")
        children = ", ".join(f"{c['name']} (pid {c['pid']})" for c in [state["nginx"], *state["replicas"]] if c.get("pid"))
        stopped.append(f"the supervisor (pid {supervisor}) and with it {children}")
    # what a supervisor that was killed left running: only PIDs that are still those processes
    leftovers = [(c, sig, marker) for c, sig, marker in
                 [(state["nginx"], signal.SIGQUIT, str(run_dir / "nginx")),
                  *((r, signal.SIGTERM, "search_api") for r in state["replicas"])] if _alive(c.get("pid"), marker)]
    for c, sig, _ in leftovers:
        os.kill(c["pid"], sig)
    for c, _, _ in leftovers:
        if not _gone(c["pid"], STOP_TIMEOUT_S):
            os.kill(c["pid"], signal.SIGKILL)
        stopped.append(f"{c['name']} (pid {c['pid']})")
    (run_dir / STATE).unlink(missing_ok=True)
    return "Stopped " + ", ".join(stopped) + "." if stopped else "Nothing was running; removed the stale state.json."


def _stop_pids(procs: list[tuple[subprocess.Popen | None, int]]) -> None:
    live = [(p, sig) for p, sig in procs if p is not None and p.poll() is None]
    for p, sig in live:
        p.send_signal(sig)
    for p, _ in live:
        try:
            p.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            log.warning("pid %d did not stop within %.0f s: SIGKILL", p.pid, STOP_TIMEOUT_S)
            p.kill()
            p.wait()


PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36  # linux/prctl.h


def _prctl(option: int, value: int) -> None:
    if ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


def _die_with(parent: int) -> None:
    """In the child before exec: SIGTERM when the supervisor dies (also by SIGKILL), so nothing is orphaned."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


def _children_of(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _copy_redacted(stream, path: Path) -> None:
    with path.open("a", encoding="utf-8") as out:
        for raw in stream:
            out.write(redact(raw.decode("utf-8", errors="replace")))
            out.flush()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _alive(pid, marker: str) -> bool:
    """pid is running and its command line contains marker (a recycled PID is someone else's process)."""
    if not isinstance(pid, int):
        return False
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
                return True  # a zombie: ended, waiting for its parent to read its status
        except (OSError, IndexError):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _check_free(host: str, port: int, settings: Settings) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nginx and uvicorn bind
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ReplicaError(f"{host}:{port} is taken ({exc.strerror}): with SOVEI_PORT={settings.port} nginx "
                               f"listens on {settings.port} and the replicas on {settings.port + 1}–"
                               f"{settings.port + (settings.replicas or cores())}; stop what uses it or set "
                               "SOVEI_PORT") from None


def _probe_host(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(host, host)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m search_api.replicas", description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", default=str(RUN_DIR), metavar="DIR",
                    help="state.json, the replicas' logs and nginx's prefix (default var/replicas)")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--stop", action="store_true", help="stop the replicas and nginx started from --run-dir")
    what.add_argument("--status", action="store_true", help="print the ports, PIDs and restarts from state.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        if args.stop:
            print(stop_running(args.run_dir))
            return 0
        if args.status:
            state = read_state(args.run_dir)
            print(json.dumps(state, indent=2) if state else f"Not running: no {STATE} in {args.run_dir}.")
            return 0 if state else 1
        sup = Supervisor(get_settings(), args.run_dir)
    except SoveiError as exc:
        print(f"Kan ikke starte: {exc}" if not (args.stop or args.status) else str(exc), file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: sup.stopping.set())
    try:
        sup.start()
        replicas = ", ".join(f":{port} (pid {r.pid})" for port, r in zip(sup.ports, sup.replicas))
        print(f"SoVei kunnskapsbank: {sup.url}/  — nginx (pid {sup.nginx.pid}) in front of {len(sup.replicas)} "
              f"replicas {replicas}; index {sup.settings.index_dir}. Ctrl+C or `make stop-replicas` stops them all.",
              flush=True)
        print(f"Logs: {sup.prefix / 'access.log'}, {sup.nginx.log}, {sup.run_dir}/replica-*.log", flush=True)
        sup.watch()
        return 0
    except SoveiError as exc:
        print(f"Kan ikke starte: {exc}", file=sys.stderr)
        return 2
    finally:
        sup.stop()
        log.info("stopped nginx and %d replicas", len(sup.replicas))


if __name__ == "__main__":
    sys.exit(main())
