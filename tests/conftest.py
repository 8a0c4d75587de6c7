"""Shared fixtures: the app on each database, a rolled-back transaction per test, a demo server."""

from __future__ import annotations

import atexit
import collections
import contextlib
import copy
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.database import db
from marketplace.extensions import limiter, socketio
from marketplace.group_commit import init_grouped_units
from tests.fake_graph.fixtures import fake_graph, webhook_sink  # noqa: F401 - fixtures for every test

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])
TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-checks"
# Rate-limit counters of this process only: on Redis, `limiter.reset()` clears every key under the storage's
# prefix, so each test process (an xdist worker, another checkout's run) keeps its counters under its own.
RATE_LIMIT_KEY_PREFIX = f"LIMITS-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def scratch_postgres_database(label: str, template: str | None = None) -> Iterator[str]:
    """A new database on the PostgreSQL server (its URL), empty or a copy of the `template` database, dropped at the
    end."""
    admin_url = sa.make_url(TEST_DATABASE_URL).set(drivername="postgresql+psycopg")
    name = f"mk_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run on the PostgreSQL server, dropped at the end."""
    with scratch_postgres_database("test") as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    return request.getfixturevalue("postgres_url")


@contextlib.contextmanager
def gathering_shared_units(app: Flask, callers: int, timeout: float = 10) -> Iterator[None]:
    """Make the app's shared units of work (`grouped_unit_of_work`) gather `callers` jobs before the leader commits:
    its first yield waits, up to `timeout`, until that many are waiting (threads stand in for the gevent's greenlets
    that hand theirs in while the leader yields)."""
    key = "marketplace_grouped_units"
    previous = app.extensions[key]

    def pause(seconds: float) -> None:
        deadline = time.monotonic() + timeout
        while len(app.extensions[key].waiting) < callers and time.monotonic() < deadline:
            time.sleep(0.002)

    init_grouped_units(app, create_event=threading.Event, pause=pause)
    try:
        yield
    finally:
        app.extensions[key] = previous


def make_app(database_url: str, config: dict | None = None, **environ: str) -> Flask:
    env = {
        "MARKETPLACE_ENV": "test",
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_RATE_LIMIT": "5 per 5 minutes",
        **environ,
    }
    return create_app({"TESTING": True, "SERVER_NAME": "marketplace.localhost",
                       "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": RATE_LIMIT_KEY_PREFIX}, **(config or {})},
                      environ=env)


@contextlib.contextmanager
def committed_database_app(backend: str, folder: Path, label: str, config: dict | None = None) -> Iterator[Flask]:
    """An app (with extra `config`) on a migrated database of its own whose data is really committed (no rolled-back
    outer transaction): a SQLite file in `folder`, or a PostgreSQL database dropped afterwards."""
    with contextlib.ExitStack() as stack:
        template = _migrated_template(backend)
        if backend == "sqlite":
            path = folder / f"{label}.db"
            shutil.copyfile(template, path)
            url = f"sqlite:///{path}"
        else:
            url = stack.enter_context(scratch_postgres_database(label, template=template))
        yield stack.enter_context(_migrated_app(url, config))


# Per process and backend, a database the migrations built once (a SQLite file, a PostgreSQL database's name): a
# committed database starts as a copy of it, which takes a fraction of running the thirty-odd migrations again.
# tests/test_migrations.py still runs them from an empty database, down and up.
_TEMPLATES: dict[str, str] = {}
_TEMPLATE_STACK = contextlib.ExitStack()
atexit.register(_TEMPLATE_STACK.close)


def _migrated_template(backend: str) -> str:
    if backend not in _TEMPLATES:
        if backend == "sqlite":
            path = Path(_TEMPLATE_STACK.enter_context(tempfile.TemporaryDirectory(prefix="mk-template-"))) / "t.db"
            url = f"sqlite:///{path}"
            _TEMPLATES[backend] = str(path)
        else:
            url = _TEMPLATE_STACK.enter_context(scratch_postgres_database("template"))
            _TEMPLATES[backend] = sa.make_url(url).database
        with _migrated_app(url):  # disposed after: a template may have no connection when it is copied
            pass
    return _TEMPLATES[backend]


@contextlib.contextmanager
def _migrated_app(url: str, config: dict | None = None) -> Iterator[Flask]:
    # create_app re-binds the one `socketio` and `limiter` objects to the new app; the other tests expect
    # them as the session's app left them (and that app's pooled connections stay referenced).
    shared = (socketio, limiter)
    saved = [{key: copy.copy(value) if isinstance(value, list | dict) else value for key, value in vars(obj).items()}
             for obj in shared]
    app = make_app(url, config)
    try:
        with app.app_context():
            upgrade()
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        for obj, state in zip(shared, saved, strict=True):
            vars(obj).clear()
            vars(obj).update(state)



@pytest.fixture(scope="session")
def app(database_url) -> Iterator[Flask]:
    """The app on one backend, its schema built by the migrations (so they are exercised too)."""
    environ = {}
    if database_url.startswith("postgresql") and TEST_REDIS_URL:
        # On the PostgreSQL run, rate limits live in Redis as they would in production.
        environ["RATELIMIT_STORAGE_URI"] = TEST_REDIS_URL
    application = make_app(database_url, **environ)
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():  # its pooled connections close before the database is dropped
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app) -> Iterator[sa.orm.scoped_session]:
    """Run the test inside a transaction that is rolled back; services' commits become savepoints."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        db.session.remove()
        factory_settings = dict(db.session.session_factory.kw)
        db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
        limiter.reset()
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session.session_factory.kw.clear()
            db.session.session_factory.kw.update(factory_settings)
            outer.rollback()
            connection.close()


class FreshGlobalsClient(FlaskClient):
    """A test client whose requests each start with an empty `g`.

    The `session` fixture keeps an app context open for the whole test, and Flask reuses it for
    test requests; without this, the user Flask-Login caches in `g` would leak into the next request.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, session) -> FlaskClient:
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


@dataclass
class Outbox:
    """Records the mails the app would send; the SMTP path itself is proven in tests/accounts."""

    messages: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def outbox(app) -> Iterator[Outbox]:
    """The app's mailer swapped for a recorder for the test."""
    previous = app.extensions["mailer"]
    app.extensions["mailer"] = recorder = Outbox()
    try:
        yield recorder
    finally:
        app.extensions["mailer"] = previous


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def log_in(client: FlaskClient, email: str, password: str = "correct-horse-battery") -> str:
    """Log in through the real form; return the session's CSRF token for later writes."""
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return csrf_token_from(client.get("/login", follow_redirects=True).get_data(as_text=True))


@dataclass(frozen=True)
class DemoServer:
    url: str
    logins: dict[str, str]
    password: str
    output: str


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory) -> Iterator[DemoServer]:
    """`marketplace serve --demo` in a subprocess, as a new user would start it, on a fresh database."""
    with running_demo(tmp_path_factory.mktemp("demo")) as server:
        yield server


@contextlib.contextmanager
def running_demo(folder: Path, settings: dict[str, str] | None = None, port: int | None = None,
                 start_seconds: float = 180) -> Iterator[DemoServer]:
    """Start `marketplace serve --demo` with its database and log in `folder` and extra `settings` (on `port`, else a
    free one), waiting up to `start_seconds` for it to answer; stop it after. Migrating and seeding take over a
    minute when the machine's two cores are busy with other runs: the wait ends as soon as it answers."""
    chosen = port is None
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'demo.db'}",
        "SECRET_KEY": TEST_SECRET,
        "MARKETPLACE_ENV": "development",
        "PYTHONUNBUFFERED": "1",
        **(settings or {}),
    }
    log_path = folder / "server.log"
    for attempt in range(3):
        port = free_port() if chosen else port
        command = [str(Path(sys.executable).parent / "marketplace"), "serve", "--demo", "--port", str(port)]
        with log_path.open("w") as log_file:
            process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log_file,  # noqa: S603
                                       stderr=subprocess.STDOUT)
        output = _started(process, log_path, port, start_seconds)
        if output is not None:
            break
        # Its free port was taken between free_port() and its bind, by another worker's server (which answered in
        # its place): a new port, up to three times.
        output = log_path.read_text()
        if not chosen or "in use" not in output or attempt == 2:
            raise AssertionError(f"the demo server stopped:\n{output}")
        for leftover in folder.glob("demo.db*"):  # seeded before it stopped: the next one seeds its own
            leftover.unlink()
    try:
        url = re.search(r"running at (http://\S+)", output).group(1).rstrip("/")
        password = re.search(r"password for all: (\S+)\)", output).group(1)
        logins = dict(re.findall(r"^  (\S.*?)\s{2,}(\S+@\S+)$", output, re.MULTILINE))
        yield DemoServer(url, logins, password, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _started(process: subprocess.Popen, log_path: Path, port: int, start_seconds: float) -> str | None:
    """Wait for the demo server to answer on `port`: its output, or None when it stopped (its port was taken).

    It prints that it runs just before it binds the port, so a port answering then may still be another server's:
    it counts once the process is still up a moment later."""
    deadline = time.monotonic() + start_seconds
    output = ""
    while time.monotonic() < deadline:
        output = log_path.read_text()
        if "Press Ctrl+C" in output and _answers(port):
            time.sleep(1)
            if process.poll() is None:
                return log_path.read_text()
        if process.poll() is not None:
            return None
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the demo server did not start in time:\n{output}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# Past this many tests, a module-scoped fixture is cheaper to start once per worker than to hold all its tests
# on one worker (the API fuzz test's hundreds of cases would make one worker finish long after the other).
XDIST_GROUP_MOST_TESTS = 50


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups to name the tests
def pytest_collection_modifyitems(config, items):
    """Under xdist (`--dist loadgroup`), keep on one worker the tests that share something slow to start.

    The browser tests and the others on the demo server share one Chromium and one demo server, and run in
    the order of a sequential run (they take turns with the demo's accounts). The tests sharing one instance
    of a module-scoped fixture (a server, a migrated database of its own) share a worker, which starts it once.
    """
    if not config.pluginmanager.hasplugin("xdist"):
        return
    groups = {item: _demo_or_fixture_group(item) for item in items}
    sizes = collections.Counter(groups.values())
    for item, group in groups.items():
        if group == "browser" or (group and sizes[group] <= XDIST_GROUP_MOST_TESTS):
            item.add_marker(pytest.mark.xdist_group(group))


def _demo_or_fixture_group(item: pytest.Item) -> str | None:
    if item.get_closest_marker("browser") or "demo_server" in item.fixturenames:
        return "browser"
    definitions = item._fixtureinfo.name2fixturedefs  # noqa: SLF001 - pytest has no public view of scopes
    shared = sorted(name for name, chain in definitions.items() if chain[-1].scope in ("module", "class"))
    if not shared:
        return None
    params = getattr(item, "callspec", None)
    instance = [str(params.params[name]) for name in shared if params and name in params.params]
    return item.nodeid.split("::")[0] + (f"[{'-'.join(instance)}]" if instance else "")


_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """In CI every test must run: a skipped one fails the run, and so does a run of none.

    With xdist the controller judges: it receives every worker's reports and counts every collected test.
    """
    if hasattr(session.config, "workerinput"):  # an xdist worker: it saw only its share
        return
    if os.environ.get("FORBID_SKIPPED_TESTS") and exitstatus == 0:
        if _skipped:
            print(f"\nFAILED: {len(_skipped)} test(s) skipped in CI: {', '.join(_skipped[:5])}")
            session.exitstatus = 1
        elif session.testscollected == 0:
            session.exitstatus = 1
