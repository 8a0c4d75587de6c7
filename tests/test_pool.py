"""The connection pool: its size from the environment, and a pooled connection tested only after it sat idle."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from marketplace.config import ConfigError, load_config
from marketplace.database import ping_when_idle
from tests.conftest import TEST_DATABASE_URL


def _config(tmp_path, **environ: str) -> dict:
    return load_config(tmp_path, {"MARKETPLACE_ENV": "test", "SECRET_KEY": "x" * 40, **environ})


def test_the_pool_keeps_ten_connections_and_opens_five_more_in_a_burst_by_default(tmp_path):
    config = _config(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/app")
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 10, "max_overflow": 5}
    assert config["DATABASE_PING_IDLE_SECONDS"] == 10
    assert "pool_pre_ping" not in config["SQLALCHEMY_ENGINE_OPTIONS"]  # every checkout tested: a round trip an event


def test_the_pool_is_sized_from_the_environment(tmp_path):
    config = _config(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'app.db'}", DATABASE_POOL_SIZE="4",
                     DATABASE_MAX_OVERFLOW="0", DATABASE_PING_IDLE_SECONDS="0")
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 4, "max_overflow": 0}
    assert config["DATABASE_PING_IDLE_SECONDS"] == 0


def test_a_database_in_memory_keeps_sqlalchemys_own_pool(tmp_path):
    assert _config(tmp_path, DATABASE_URL="sqlite://")["SQLALCHEMY_ENGINE_OPTIONS"] == {}
    assert _config(tmp_path, DATABASE_URL="sqlite:///:memory:")["SQLALCHEMY_ENGINE_OPTIONS"] == {}


@pytest.mark.parametrize(("name", "value"), [("DATABASE_POOL_SIZE", "0"), ("DATABASE_POOL_SIZE", "ten"),
                                             ("DATABASE_MAX_OVERFLOW", "-1"), ("DATABASE_PING_IDLE_SECONDS", "1.5")])
def test_a_wrong_pool_setting_stops_start_up_naming_it(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        _config(tmp_path, **{name: value})


@pytest.fixture
def pg_engine(postgres_url):
    engine = sa.create_engine(sa.make_url(postgres_url).set(drivername="postgresql+psycopg"), pool_size=1,
                              max_overflow=0)
    pings = []
    ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(1) or ping(connection)
    ping_when_idle(engine, 0.3)
    admin = sa.create_engine(sa.make_url(postgres_url).set(drivername="postgresql+psycopg"),
                             isolation_level="AUTOCOMMIT")
    yield engine, admin, pings
    engine.dispose()
    admin.dispose()


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def _terminate(admin: sa.Engine, pid: int) -> None:
    with admin.connect() as connection:
        assert connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
def test_a_connection_in_steady_use_is_not_tested_before_each_use(pg_engine):
    engine, _, pings = pg_engine
    pids = {_backend(engine) for _ in range(20)}
    assert len(pids) == 1  # the one pooled connection, used again and again
    assert pings == []


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
def test_a_connection_that_died_while_idle_in_the_pool_is_replaced_before_use(pg_engine):
    engine, admin, pings = pg_engine
    first = _backend(engine)
    _terminate(admin, first)  # the server goes away under the pooled connection (a restart, an idle timeout)
    time.sleep(0.4)  # longer than the pool's idle time
    second = _backend(engine)  # no error: the test found it dead and the pool opened another
    assert second != first
    assert pings == [1]


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs TEST_DATABASE_URL")
def test_a_connection_that_sat_idle_and_is_alive_is_tested_once_and_kept(pg_engine):
    engine, _, pings = pg_engine
    first = _backend(engine)
    time.sleep(0.4)
    assert _backend(engine) == first
    assert pings == [1]
    assert _backend(engine) == first  # used again at once: not tested
    assert pings == [1]
