"""`continuity users add NAME --role warehouse`: the new role is accepted on both engines and named in the
refusal of an unknown role."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from continuity.entrypoints.cli import app as cli


def _run(monkeypatch, url: str, args: list[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CONTINUITY_DATABASE_URL", url)
    return CliRunner().invoke(cli, args)


def test_users_add_creates_a_warehouse_user(monkeypatch, app, database_url):
    done = _run(monkeypatch, database_url, ["users", "add", "picker", "--role", "warehouse", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["role"] == "warehouse"
    listed = _run(monkeypatch, database_url, ["users", "add", "odd", "--role", "packer"])
    assert listed.exit_code != 0 and "agent, warehouse, manager, admin" in listed.output
