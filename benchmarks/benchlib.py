"""What the benchmarks share: progress lines, figures, and starting, logging in to and stopping a server.

The scripts are run as `python benchmarks/<name>.py`, so this folder is on sys.path and `import benchlib`
finds this file; importing it also puts the project root on sys.path for `import marketplace`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "benchmark-secret-key-long-enough-for-every-check-0123456789"  # noqa: S105 - a scratch server
PASSWORD = "bench-password-2026"  # noqa: S105 - scratch accounts
VERBOSE = True  # the scripts turn it off with --quiet


def log(*parts: object) -> None:
    if VERBOSE:
        print(*parts, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(name: str, command: list[str], env: dict[str, str], log_path: Path,
           ready: Callable[[], bool]) -> subprocess.Popen:
    """Start a server subprocess (output to log_path) and wait up to 60 s until `ready()` says it serves."""
    with log_path.open("w") as log_file:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {name} stopped:\n" + log_path.read_text()[-3000:])
        if ready():
            return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the {name} did not start in 60 s:\n" + log_path.read_text()[-3000:])


def start_server(script: str, kind: str, mode: str, env_extra: dict[str, str], workdir: Path, *,
                 name: str | None = None, args: Iterable[str] = ()) -> tuple[subprocess.Popen, str, Path]:
    """Run `script --serve kind --async-mode mode --port P [args]` (a benchmark serving in a subprocess) and wait
    until it listens and has printed its "serving" line; (process, its URL, its log)."""
    port = free_port()
    command = [sys.executable, str(Path(script).resolve()), "--serve", kind, "--async-mode", mode,
               "--port", str(port), *args]
    log_path = workdir / f"server-{name or kind}.log"

    def serving() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return "serving" in log_path.read_text()
        except OSError:
            return False

    process = launch(f"{kind} server", command, environ(**env_extra), log_path, serving)
    return process, f"http://127.0.0.1:{port}", log_path


def serve_app(mode: str, port: int, jobs: Iterable[str] = (), *, every_job: bool = False) -> None:
    """The app in one process on `port` (a server subprocess's body); with `jobs`, those scheduled jobs alone run
    there too, on the scheduler `marketplace serve` embeds (the sweeps would take a benchmark's idle clients for
    gone); with `every_job`, all of them, as `marketplace serve` runs them (SCHEDULER_MODE=embedded)."""
    os.environ["SOCKETIO_ASYNC_MODE"] = mode
    from marketplace import create_app, settle_heap
    from marketplace.extensions import socketio
    from marketplace.scheduler import LeasedScheduler

    app = create_app()
    scheduler = None
    jobs = set(jobs)
    if jobs:
        app.extensions["scheduled_jobs"] = [job for job in app.extensions["scheduled_jobs"] if job.id in jobs]
    if jobs or every_job:
        if every_job:  # as `marketplace serve`: warnings and errors of the scheduler, not a line per run
            logging.getLogger("apscheduler").setLevel(logging.WARNING)
        scheduler = LeasedScheduler(app)
        scheduler.start()
    running = ", every scheduled job" if every_job and not jobs else "".join(f", {job} job" for job in sorted(jobs))
    print(f"serving the app ({socketio.server.eio.async_mode}{running}) on {port}", flush=True)
    extra = {"allow_unsafe_werkzeug": True} if mode == "threading" else {}
    settle_heap()  # as `marketplace serve` does
    try:
        socketio.run(app, host="127.0.0.1", port=port, use_reloader=False, log_output=False, **extra)
    finally:
        if scheduler is not None:
            scheduler.shutdown()


def serve_wsgi(mode: str, port: int, app) -> None:
    """A bare baseline's WSGI app on `port`, in the async mode the app's server uses."""
    if mode == "gevent":
        from gevent import pywsgi

        pywsgi.WSGIServer(("127.0.0.1", port), app, log=None).serve_forever()
    else:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def log_in(url: str, email: str, password: str = PASSWORD) -> str:
    """Log in through the real form (CSRF token from the page); return the Cookie header for a socket."""
    import requests

    http = requests.Session()
    page = http.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    answer = http.post(f"{url}/login", data={"email": email, "password": password, "csrf_token": token},
                       allow_redirects=False, timeout=30)
    if answer.status_code != 302:
        raise RuntimeError(f"login of {email} answered {answer.status_code}")
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def log_in_all(url: str, emails: list[str]) -> list[str]:
    """Log every one of `emails` in through the form, 8 at a time; their Cookie headers, in order."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda email: log_in(url, email), emails))


def load_bench(name: str) -> ModuleType:
    """Another benchmark script of this folder as a module (`routing` has the app builder and bulk seeding)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def connect_socket(client, url: str, gate, **options):
    """Connect a python-socketio AsyncClient over WebSocket, `gate` (an asyncio.Semaphore) bounding how many connect
    at once; a server starved by other work on the machine may miss a connection: tried again, as a browser would."""
    import asyncio

    import socketio

    for attempt in range(3):
        try:
            async with gate:
                await client.connect(url, transports=["websocket"], wait_timeout=30, **options)
            return client
        except socketio.exceptions.ConnectionError:
            if attempt == 2:
                raise
            await asyncio.sleep(1)
    return client


def environ(**extra: str) -> dict[str, str]:
    """The environment for a server subprocess: this one's, unbuffered, plus `extra`."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


def migrate(app) -> str:
    """Bring the database to the newest revision; return that revision (it names the schema measured)."""
    from flask_migrate import upgrade

    from marketplace.database import db

    with app.app_context():
        upgrade()
        revision = db.session.scalar(db.text("SELECT version_num FROM alembic_version"))
        db.session.remove()
    return revision
