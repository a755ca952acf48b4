"""Every status change goes through its entity's transition table (issue 12 item 4).

A status column changes only through ``adapters/sql_rules.py``: ``set_status``/``set_status_to`` (text
SQL) and ``update_status`` (SQLAlchemy Core) add "from a status the transition table allows" to each
UPDATE. These tests read the source: an ``UPDATE … SET status`` written anywhere else, a Core
``update(<entity table>)…values(status=…)``, or a status literal in the adapters' SQL fails them.
Then the rendered guards themselves, against the domain's tables.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from continuity.adapters import sql_rules as R
from continuity.domain.payments import PAYMENT_TRANSITIONS, AttemptStatus, PaymentStatus
from continuity.domain.sales_order import LineStatus, OrderStatus
from continuity.domain.schedule import OccurrenceStatus

SRC = Path(__file__).resolve().parents[2] / "src" / "continuity"
THE_PATH = Path("adapters/sql_rules.py")
ENTITY_TABLES = frozenset(R.TRANSITIONS)
STATUS_VALUES = frozenset(
    s.value for enum in (OrderStatus, LineStatus, OccurrenceStatus, PaymentStatus, AttemptStatus) for s in enum
)
#: The adapters' SQL (the set-based job statements above all): its statuses are rendered from the enums.
ADAPTER_SQL = ("adapters/**/*.py",)


def _sources(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*.py")
        if "migrations" not in p.relative_to(root).parts and p.relative_to(root) != THE_PATH
    )


def text_status_changes(root: Path) -> list[str]:
    """``SET status`` in any string of the source (a text UPDATE of a status)."""
    found = []
    for path in _sources(root):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\bSET\s+status\s*=", line, re.IGNORECASE):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def core_status_changes(root: Path) -> list[str]:
    """``update(<entity table>)….values(status=…)`` (or a ``{"status": …}`` dict, given or named) in
    SQLAlchemy Core; names are looked up in the enclosing function, then the module."""
    found = []
    for path in _sources(root):
        tree = ast.parse(path.read_text())
        module = _assignments(tree.body)
        scopes = [(tree, module)] + [
            (f, {**module, **_assignments(list(ast.walk(f)))}) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
        ]
        seen = set()
        for scope, names in reversed(scopes):  # innermost first
            for node in ast.walk(scope):
                if id(node) in seen or not _is_values_call(node):
                    continue
                seen.add(id(node))
                table = _updated_table(node.func.value, names)
                if _sets_status(node, names) and table is not None and table.rsplit(".", 1)[-1] in ENTITY_TABLES:
                    found.append(f"{path.relative_to(root)}:{node.lineno}: update({table}) sets status")
    return sorted(found)


def _assignments(nodes: list[ast.AST] | list[ast.stmt]) -> dict[str, ast.expr]:
    names = {}
    for node in nodes:
        for child in ast.walk(node) if isinstance(node, ast.Module) else [node]:
            if isinstance(child, ast.Assign):
                names.update({t.id: child.value for t in child.targets if isinstance(t, ast.Name)})
            elif isinstance(child, ast.AnnAssign) and isinstance(child.target, ast.Name) and child.value is not None:
                names[child.target.id] = child.value
    return names


def _is_values_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "values"


def _sets_status(call: ast.Call, names: dict[str, ast.expr]) -> bool:
    given = [k.value for k in call.keywords if k.arg is None] + list(call.args)
    dicts = [names.get(d.id) if isinstance(d, ast.Name) else d for d in given]
    return any(k.arg == "status" for k in call.keywords) or any(_has_status(d) for d in dicts)


def _has_status(d: ast.expr | None) -> bool:
    """A ``{"status": …}`` dict, or ``dict(status=…)``."""
    if isinstance(d, ast.Dict):
        return any(isinstance(k, ast.Constant) and k.value == "status" for k in d.keys)
    return (
        isinstance(d, ast.Call)
        and isinstance(d.func, ast.Name)
        and d.func.id == "dict"
        and any(k.arg == "status" for k in d.keywords)
    )


def _updated_table(node: ast.expr, names: dict[str, ast.expr]) -> str | None:
    """The table of the ``update(table)`` call this method chain starts from, if it is one."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "update" and node.args:
            arg = node.args[0]
            return ast.unparse(names.get(arg.id, arg)) if isinstance(arg, ast.Name) else ast.unparse(arg)
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def status_literals(root: Path) -> list[str]:
    """A quoted status value ('pending', 'paid', …) in a string of the adapters (migrations aside: they
    keep the values of their day)."""
    literal = re.compile(r"'(" + "|".join(sorted(STATUS_VALUES)) + r")'")
    found = []
    for path in sorted({p for pattern in ADAPTER_SQL for p in root.glob(pattern)} & set(_sources(root))):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and literal.search(node.value):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value.strip()[:80]}")
    return found


def test_no_text_update_sets_a_status_outside_sql_rules():
    assert text_status_changes(SRC) == []


def test_no_core_update_sets_an_entity_status_outside_sql_rules():
    assert core_status_changes(SRC) == []


def test_the_adapters_sql_has_no_status_literal():
    assert status_literals(SRC) == []


def test_the_scans_find_what_they_look_for(tmp_path):
    (tmp_path / "bad.py").write_text(
        "from sqlalchemy import update\n"
        "t = orm.installments\n"
        "A = \"UPDATE sales_orders SET status = 'open' WHERE x\"\n"
        "def f(conn):\n"
        "    conn.execute(update(t).where(t.c.seq == 1).values(status='paid'))\n"
        "    conn.execute(update(orm.sales_orders).values({'status': 'open'}))\n"
        "    conn.execute(update(job_runs).values(status='abandoned'))\n"
        "    values = dict(seq=1, status='skipped')\n"
        "    conn.execute(update(orm.schedule_occurrences).values(**values))\n"
    )
    batch = tmp_path / "adapters" / "batch"  # (the scan reads every adapter)
    batch.mkdir(parents=True)
    (batch / "store.py").write_text("Q = \"SELECT 1 FROM installments WHERE status IN ('declined', 'unknown')\"\n")
    assert len(text_status_changes(tmp_path)) == 1
    assert [f.split(": ")[1] for f in core_status_changes(tmp_path)] == [
        "update(orm.installments) sets status",
        "update(orm.sales_orders) sets status",
        "update(orm.schedule_occurrences) sets status",
    ]
    assert len(status_literals(tmp_path)) == 1


# -- the rendered guards ----------------------------------------------------------------------------
def test_a_set_based_change_moves_only_rows_its_transition_table_allows():
    sql = R.set_status("sales_orders", OrderStatus.SHIPPED, "WHERE parent_sales_id IS NOT NULL OR x = 1")
    assert sql == (
        "UPDATE sales_orders SET status = 'shipped' WHERE (parent_sales_id IS NOT NULL OR x = 1) "
        "AND (sales_orders.status IN ('released'))"
    )


def test_a_change_names_its_rows():
    with pytest.raises(ValueError):
        R.set_status("installments", PaymentStatus.PAID, "")


@pytest.mark.parametrize("target", list(PaymentStatus), ids=str)
def test_the_installment_sources_are_the_table_read_backwards(target):
    assert R.sources("installments", target) == {s for s, to in PAYMENT_TRANSITIONS.items() if target in to}


def test_a_per_row_target_is_checked_against_each_row():
    sql = R.set_status_to("payment_attempts", "t.status", AttemptStatus, "FROM t WHERE k = t.k")
    assert "(t.status = 'approved' AND payment_attempts.status IN ('pending', 'unknown'))" in sql
    assert "t.status = 'pending'" not in sql  # nothing moves back to pending


def test_a_core_update_carries_the_guard():
    from continuity.adapters import orm

    t = orm.installments
    statement = R.update_status(t, PaymentStatus.CANCELLED, t.c.seq == 1)
    compiled = statement.compile(compile_kwargs={"literal_binds": True})
    assert "installments.status IN ('not_submitted', 'authorized', 'declined', 'unknown')" in str(compiled)
