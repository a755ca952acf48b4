"""axe-core (from npm, loaded from a file) in the browser tests: ``violations(page)`` runs it on the page.
The file is test-artifacts/axe/axe.min.js, fetched once with `npm pack axe-core@AXE_VERSION` when missing
(CONTINUITY_AXE may name another copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from web_support import REPO

AXE_VERSION = "4.14.1"


def axe_file() -> Path:
    named = os.environ.get("CONTINUITY_AXE")
    if named:
        return Path(named)
    folder = REPO / "test-artifacts" / "axe"
    target = folder / "axe.min.js"
    if not target.exists():  # two workers may fetch at once: each in its own folder, the file replaced whole
        folder.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=folder))
        subprocess.run(
            ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=scratch, check=True, capture_output=True
        )
        with tarfile.open(scratch / f"axe-core-{AXE_VERSION}.tgz") as tgz:
            member = tgz.extractfile("package/axe.min.js")
            assert member is not None
            (scratch / "axe.min.js").write_bytes(member.read())
        os.replace(scratch / "axe.min.js", target)
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def violations(page, options: dict | None = None) -> list[str]:  # type: ignore[no-untyped-def]
    """axe's violations on the page as it is now: "rule: target" for each node. The script is served to
    the page from its own origin (the pages' CSP allows scripts from 'self' only, and stays on).
    ``options``: axe.run's, e.g. {"rules": {"label-content-name-mismatch": {"enabled": True}}}."""
    origin = page.evaluate("location.origin")
    page.route(f"{origin}/__axe.min.js", lambda route: route.fulfill(path=str(axe_file())))
    page.add_script_tag(url=f"{origin}/__axe.min.js")
    found = page.evaluate("async options => (await axe.run(document, options)).violations", options or {})
    return [f"{v['id']}: {n['target']}" for v in found for n in v["nodes"]]
