"""Passwords are hashed with argon2id: RFC 9106's low-memory parameters everywhere but in the test suite, and a
hash made with other parameters is hashed again at the next log-in."""

from __future__ import annotations

from argon2 import extract_parameters, profiles
from flask import Flask

from marketplace.accounts import passwords
from marketplace.accounts.models import Role
from marketplace.database import db
from tests.conftest import log_in
from tests.factories import PASSWORD, UserFactory


def test_every_environment_but_the_tests_hashes_at_rfc_9106_low_memory_parameters():
    for environment in ("production", "development"):
        parameters = extract_parameters(passwords.hashing_for(environment).hasher.hash("a-long-password"))
        assert (parameters.type.name, parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (
            "ID", 65536, 3, 4)
    assert extract_parameters(passwords.hashing_for("test").hasher.hash("a-long-password")) == profiles.CHEAPEST


def test_an_app_hashes_with_its_environments_parameters_whatever_another_app_uses():
    development = Flask(__name__)
    development.config["ENV_NAME"] = "development"
    passwords.init_app(development)
    with development.app_context():
        assert extract_parameters(passwords.hash_password("a-long-password")).memory_cost == 65536
        assert passwords.verify_password(passwords.hashing_for("test").hasher.hash("a-long-password"),
                                         "a-long-password")  # a hash keeps its own parameters


def test_a_hash_made_with_other_parameters_is_hashed_again_at_the_next_log_in(client, session):
    user = UserFactory(role=Role.OPS, password_hash=passwords.hashing_for("production").hasher.hash(PASSWORD))
    log_in(client, user.email)
    session.refresh(user)
    assert extract_parameters(user.password_hash) == profiles.CHEAPEST
    assert passwords.verify_password(user.password_hash, PASSWORD)


def test_the_new_hash_is_made_before_the_log_ins_write_begins(client, session, monkeypatch):
    """argon2 is slow on purpose: made inside the write, it held SQLite's one write lock (and every writer) back."""
    user = UserFactory(role=Role.OPS, password_hash=passwords.hashing_for("production").hasher.hash(PASSWORD))
    hash_password = passwords.hash_password
    writing: list[bool] = []

    def watched(password: str) -> str:
        writing.append(db.session().in_transaction())
        return hash_password(password)

    monkeypatch.setattr(passwords, "hash_password", watched)
    log_in(client, user.email)
    assert writing == [False]
    session.refresh(user)
    assert extract_parameters(user.password_hash) == profiles.CHEAPEST
