"""The next value of a named number sequence (sales orders, customers, credit notes), taken in the
caller's transaction: the row's update locks it until commit, so two writers never get one number."""

from __future__ import annotations

from sqlalchemy import Connection, insert, update

from continuity.adapters import orm


def next_number(conn: Connection, name: str) -> int:
    seq = orm.number_sequences
    value = conn.execute(
        update(seq).where(seq.c.name == name).values(next_value=seq.c.next_value + 1).returning(seq.c.next_value)
    ).scalar()
    if value is None:
        conn.execute(insert(seq).values(name=name, next_value=1))
        value = 1
    return int(value)
