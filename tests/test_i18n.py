"""Compiling the translation catalogues when the app starts: several processes may start at once (the test
workers, the web processes of one deployment) on the same instance folder."""

from __future__ import annotations

import os
import threading

from babel.messages.mofile import read_mo

from marketplace.i18n import CATALOGS, compile_catalogs

STARTS = 12  # processes starting at once, here threads
ROUNDS = 5


def test_catalogues_compile_to_mo_files_that_gettext_reads(tmp_path):
    compile_catalogs(tmp_path)
    with (tmp_path / "fr" / "LC_MESSAGES" / "messages.mo").open("rb") as mo_file:
        catalog = read_mo(mo_file)
    assert catalog.get("Log in").string == "Se connecter"


def start(target, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    barrier.wait()
    try:
        compile_catalogs(target)
    except BaseException as error:  # noqa: BLE001 - each failure is reported by the test
        errors.append(error)


def test_starts_at_once_all_succeed_and_leave_one_whole_file(tmp_path):
    mo_path = tmp_path / "fr" / "LC_MESSAGES" / "messages.mo"
    for _round in range(ROUNDS):
        if mo_path.exists():
            mo_path.unlink()
        barrier = threading.Barrier(STARTS)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=start, args=(tmp_path, barrier, errors)) for _ in range(STARTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with mo_path.open("rb") as mo_file:
            assert read_mo(mo_file).get("Log in").string == "Se connecter"
        assert os.listdir(mo_path.parent) == ["messages.mo"]  # no temporary file left behind
    assert len(list(CATALOGS.glob("*/LC_MESSAGES/messages.po"))) >= 1
