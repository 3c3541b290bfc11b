"""The operator's wrong turns (issue 31, items 13 and 14): a mistyped data folder is never
created silently, a refusing or reading command creates nothing, and a second
`localise serve` on one data folder is refused naming the first."""

from __future__ import annotations

import os
import socket

import pytest
from click.testing import CliRunner

from service.cli import cli
from service.cli.serve_lock import ServeLock


@pytest.fixture
def typo(tmp_path, monkeypatch):
    folder = tmp_path / "instnace"  # the typo
    monkeypatch.setenv("LOCALISER_DATA_DIR", str(folder))
    for name in ("DATABASE_URL", "REDIS_URL", "MODELS_DIR", "SECRET_KEY", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return folder


def test_reading_or_refusing_commands_create_nothing(typo):
    for args in (["models", "list"], ["tokens", "list"], ["info"], ["glossary", "list"],
                 ["backfill", "status"], ["articles", "remove", "x", "--yes"]):
        CliRunner().invoke(cli, args)
        assert not typo.exists(), args


def test_a_new_data_folder_is_announced_with_the_rule_that_chose_it(typo):
    made = CliRunner().invoke(cli, ["tokens", "create", "desk", "--role", "editor"])
    assert made.exit_code == 0, made.output
    first = made.output.splitlines()[0]
    assert first == (f"localise: creating a new data folder {typo} (chosen by "
                     "LOCALISER_DATA_DIR; it did not exist)")
    for name in ("secret_key", "webhook_secret"):
        assert (typo / name).stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(cli, ["tokens", "create", "desk 2", "--role", "editor"])
    assert "creating a new data folder" not in again.output


def test_a_second_serve_on_the_same_data_folder_is_refused(typo):
    CliRunner().invoke(cli, ["tokens", "create", "desk", "--role", "editor"])  # the folder
    first = ServeLock(typo)
    first.acquire("serve on http://127.0.0.1:8000")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    second = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert second.exit_code == 1
    assert "another localise service is running on the data folder" in second.output
    assert f"pid {os.getpid()}" in second.output and "--allow-second" in second.output
    assert not (typo / "logs").exists()  # nothing was started
    first._file.close()  # the first one ends: the lock goes with it
    ServeLock(typo).acquire("serve")


def test_with_redis_the_secrets_must_be_given_not_generated(typo, monkeypatch, redis_url):
    """Issue 34: each host of a cluster generated its own keys (three hosts, three webhook
    keys).  With REDIS_URL set the secrets must come from the environment: one line, no
    traceback, nothing generated; given, the command works."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    refused = CliRunner().invoke(cli, ["tokens", "create", "desk", "--role", "editor"])
    assert refused.exit_code == 1
    assert "Error: configuration: REDIS_URL is set" in refused.output
    assert "SECRET_KEY and WEBHOOK_SECRET must be set in the environment" in refused.output
    assert "Traceback" not in refused.output
    assert not (typo / "secret_key").exists() and not (typo / "webhook_secret").exists()
    monkeypatch.setenv("SECRET_KEY", "one-key-for-every-host")
    monkeypatch.setenv("WEBHOOK_SECRET", "one-webhook-key-for-every-host")
    made = CliRunner().invoke(cli, ["tokens", "create", "desk", "--role", "editor"])
    assert made.exit_code == 0, made.output
    assert not (typo / "secret_key").exists()  # given, so not generated
