"""The `marketplace` command as a person would use it."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa

from marketplace import demo
from marketplace.accounts.models import Role, User
from marketplace.brands.models import Brand, BrandMembership, BrandRole
from marketplace.cli import cli
from tests.factories import BrandFactory


def run(app, *args: str):
    return app.test_cli_runner().invoke(cli, list(args), catch_exceptions=False)


def test_create_user_makes_a_brand_admin_of_a_brand(app, session):
    brand = BrandFactory(slug="nord")
    result = run(app, "create-user", "--email", "Anne@Example.com", "--name", "Anne Nord", "--role", "brand",
                 "--brand", "nord", "--password", "long-enough-password")
    assert result.exit_code == 0, result.output
    user = session.query(User).filter_by(email="anne@example.com").one()
    assert user.role == Role.BRAND
    membership = session.query(BrandMembership).filter_by(user_id=user.id).one()
    assert (membership.brand_id, membership.role) == (brand.id, BrandRole.ADMIN)


def test_create_user_names_the_bad_option(app, session):
    result = run(app, "create-user", "--email", "not-an-address", "--name", "X", "--role", "ops",
                 "--password", "long-enough-password")
    assert result.exit_code == 2
    assert "--email" in result.output
    weak = run(app, "create-user", "--email", "ok@example.com", "--name", "X", "--role", "ops", "--password", "short")
    assert weak.exit_code == 2 and "--password" in weak.output
    assert session.query(User).filter_by(email="ok@example.com").count() == 0


def test_create_user_refuses_an_unknown_brand(app, session):
    result = run(app, "create-user", "--email", "b@example.com", "--name", "B", "--role", "brand", "--brand", "nope",
                 "--password", "long-enough-password")
    assert result.exit_code == 2 and "--brand" in result.output
    assert session.query(User).filter_by(email="b@example.com").count() == 0


def test_db_upgrade_builds_a_fresh_database(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "marketplace"), "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": url, "SECRET_KEY": "x" * 40}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    assert {"users", "brands", "brand_memberships", "api_tokens", "expert_profiles", "audit_events"} <= tables


def test_serve_demo_prints_the_url_and_logins_that_work_for_every_role(demo_server):
    assert set(demo_server.logins) >= {"ops", "finance", "brand admin", "brand viewer", "expert"}
    homes = {"ops": "/ops/", "finance": "/finance/", "brand admin": "/brands", "brand viewer": "/brands",
             "expert": "/expert"}
    for role, home in homes.items():
        http = requests.Session()
        page = http.get(f"{demo_server.url}/login", timeout=5).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        response = http.post(f"{demo_server.url}/login", timeout=5, allow_redirects=False,
                             data={"email": demo_server.logins[role], "password": demo_server.password,
                                   "csrf_token": token})
        assert response.status_code == 302, role
        assert http.get(f"{demo_server.url}/", allow_redirects=False, timeout=5).headers["Location"].endswith(home)
        assert http.get(f"{demo_server.url}/api/v1/me", timeout=5).json()["email"] == demo_server.logins[role]


def test_the_demo_server_is_healthy_with_its_scheduler(demo_server):
    health = requests.get(f"{demo_server.url}/healthz", timeout=5).json()
    assert health == {"status": "ok", "checks": {"database": "ok", "scheduler": "ok"}}


def test_the_demo_prints_a_login_for_every_account_it_creates(app, session, monkeypatch):
    # The past chats and earnings create no account; left out, the seed takes a second instead of minutes.
    monkeypatch.setattr(demo, "_seed_history", lambda *args, **kwargs: None)
    monkeypatch.setattr(demo, "_seed_earnings", lambda *args, **kwargs: None)
    before = set(session.scalars(sa.select(User.email)))
    logins = demo.seed()
    created = set(session.scalars(sa.select(User.email))) - before
    assert created == {login.email for login in logins}
    assert len({login.role for login in logins}) == len(logins)  # each told apart by its label


def test_serve_demo_prints_every_demo_login(demo_server):
    assert demo_server.logins == {login.role: login.email for login in demo.logins()}


def test_serve_demo_refuses_to_run_in_production_and_seeds_nothing(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import TEST_SECRET, free_port

    database = tmp_path / "production.db"
    url = f"sqlite:///{database}"
    env = {**os.environ, "MARKETPLACE_ENV": "production", "SECRET_KEY": TEST_SECRET, "MAIL_BACKEND": "log",
           "DATABASE_URL": url}
    result = subprocess.run(  # noqa: S603
        [str(Path(sys.executable).parent / "marketplace"), "serve", "--demo", "--port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "--demo is refused in production (MARKETPLACE_ENV=production)" in result.stderr
    assert "running at" not in result.stdout and "Demo logins" not in result.stdout
    if database.exists():  # refused before the migrations: no table, let alone a demo account
        assert "users" not in sa.inspect(sa.create_engine(url)).get_table_names()


def test_serve_demo_in_production_exits_non_zero_before_touching_the_database(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    before = session.scalar(sa.select(sa.func.count(User.id)))
    result = app.test_cli_runner().invoke(cli, ["serve", "--demo"])
    assert result.exit_code == 1
    assert "--demo is refused in production" in result.stderr
    assert "running at" not in result.stdout
    assert session.scalar(sa.select(sa.func.count(User.id))) == before


def test_the_demo_seed_itself_refuses_production(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    with pytest.raises(demo.DemoRefused, match="refused in production"):
        demo.seed()
    assert session.scalar(sa.select(User.id).where(User.email == demo.OPS_EMAIL)) is None


def test_the_demo_brands_have_their_faq_base_with_the_bot_off_and_a_second_seed_adds_nothing(app, session,
                                                                                              monkeypatch):
    from marketplace.faq import answering, demo_base
    from marketplace.faq.models import FaqEntry

    monkeypatch.setattr(demo, "_seed_history", lambda *args, **kwargs: None)
    monkeypatch.setattr(demo, "_seed_earnings", lambda *args, **kwargs: None)
    demo.seed()
    demo.seed()
    for _name, slug, _timezone, _currency in demo.BRANDS:
        brand_id = session.scalar(sa.select(Brand.id).where(Brand.slug == slug))
        refs = set(session.scalars(sa.select(FaqEntry.ref).where(FaqEntry.brand_id == brand_id)))
        assert refs == {entry["ref"] for entry in demo_base.demo_entries(slug)} and len(refs) >= 20
        assert not answering.bot_answers_first(brand_id)  # the admin turns it on


def test_settle_heap_collects_start_ups_garbage_and_freezes_the_rest():
    """What a serving process keeps from start-up is left out of the collector's passes; its garbage is not kept."""
    import gc
    import weakref

    from marketplace import settle_heap

    class Node:
        pass

    garbage = Node()
    garbage.self = garbage  # a cycle: only the collector frees it
    gone = weakref.ref(garbage)
    del garbage
    before = gc.get_freeze_count()
    try:
        settle_heap()
        assert gone() is None
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
