"""Set-based payment work: claim due installments as attempts, record gateway outcomes in bulk.

An attempt row (natural key: installment + operation + attempt number; idempotency key derived
from it) is committed before the gateway is called. Two workers can never insert the same
attempt; a re-run for the same as_of finds nothing due (a declined installment is retried only on
a later as_of, as the dunning policy says: domain/dunning.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import Connection, Date, Engine, TextClause, bindparam

from continuity.adapters import sql_rules as R
from continuity.adapters.batch.audit import audit_orders
from continuity.adapters.batch.sql import (
    as_text,
    is_postgres,
    key_in,
    skip_locked,
    sql_text,
    status_updates,
    temp_table,
    transaction,
    typed_columns,
)
from continuity.domain.dunning import DeclineClass, DunningPolicy, decline_class, decline_code
from continuity.domain.holds import BUILT_IN, CHARGE_DECLINED, CHILD_PAYMENT_CODES, PARENT_PAYMENT, HoldKind
from continuity.domain.payments import UNANSWERED, AttemptOperation, AttemptStatus, PaymentStatus, next_status
from continuity.domain.sales_order import OrderStatus
from continuity.services.jobs.records import AttemptOutcome, ClaimedAttempt, ClaimedChunk, ClaimKey, ClaimQuery
from continuity.services.ports import Clock

A, P, S = AttemptStatus, PaymentStatus, OrderStatus

#: the notes of the payment holds of child orders (their codes: domain/holds.CHILD_PAYMENT_CODES)
PARENT_PAYMENT_HOLD = "an installment of the parent order is declined or unresolved"
OWN_PAYMENT_HOLD = "the charge for this shipment was declined or is unresolved"


#: an order held by hand (a manual hold code) is not charged until its hold is cleared
_NOT_HELD_BY_HAND = (
    "so.hold_code IN ('', " + ", ".join(f"'{c.code}'" for c in BUILT_IN if c.kind == HoldKind.PAYMENT) + ")"
)

#: the orders whose installments process-payments charges: a parent open or closed, any child, neither held by
#: hand; an agent's retry (ClaimQuery.manual) charges a held order too
_CHARGED_ORDERS = (
    f"{R.not_among('so.status', (S.DRAFT, S.CANCELLED))} "
    f"AND (so.parent_sales_id IS NOT NULL OR {R.among('so.status', (S.OPEN, S.CLOSED))}) AND {_NOT_HELD_BY_HAND}"
)
_MANUAL_ORDERS = (
    f"{R.not_among('so.status', (S.DRAFT, S.CANCELLED))} "
    f"AND (so.parent_sales_id IS NOT NULL OR {R.among('so.status', (S.OPEN, S.CLOSED, S.ON_HOLD))})"
)

_KEY = R.attempt_key("'installment'", "x.sales_id", "x.line_no", "x.seq", ":op", "x.attempt_no")
_ATTEMPT_COLUMNS = (
    "idempotency_key, subject, sales_id, line_no, seq, operation, card_token, amount_minor, currency, "
    "authorization_reference"
)


_CLAIM_COLUMNS = (
    "due_date DATE, sales_id VARCHAR(40), line_no INTEGER, seq INTEGER, status VARCHAR(20), "
    "card_token VARCHAR(80), amount_minor BIGINT, currency VARCHAR(3), auth_reference VARCHAR(80), "
    "PRIMARY KEY (sales_id, line_no, seq)"
)
_CLAIM_INDEX = "ix_installments_claimable"  # partial index: WHERE R.claimable_status (capture) (0005)


def _plan_by_key(conn: Connection, in_claim_order: bool) -> None:
    """PostgreSQL: a chunk is a range of the claim index plus key lookups per row (nested loops).
    Hash or merge joins would read whole tables per chunk, and JIT costs more than the chunk. The
    tables fill up within a run, so their statistics (if any) say they are tiny: the planner then
    reads all of payment_attempts into memory (Materialize) to compare every staged row with every
    attempt, and reads every unpaid installment through ix_installments_due to sort them for each
    chunk (``in_claim_order``: no sort, so the claim index's order is used)."""
    if is_postgres(conn):
        for setting in ("enable_hashjoin", "enable_mergejoin", "enable_material", "jit") + (
            ("enable_sort",) if in_claim_order else ()
        ):
            conn.execute(sql_text(f"SET LOCAL {setting} = off"))


# An authorized installment is captured against its authorization, on the card that made it, whatever
# the line's card is now (a change of card applies to later charges); any other charge (a first try, or
# a retry after a declined capture) goes to the line's current card, or to the card of the authorization
# when the charge has no continuity line (the ordinary lines of a mixed order).
_AUTHORIZED = R.equals("i.status", P.AUTHORIZED)
_FROM_AUTHORIZATION = f"au.card_token IS NOT NULL AND ({_AUTHORIZED} OR cl.card_token IS NULL)"
_CHARGE_CARD = f"CASE WHEN {_FROM_AUTHORIZATION} THEN au.card_token ELSE cl.card_token END"
_CHARGE_AUTHORIZATION = f"CASE WHEN au.card_token IS NOT NULL AND {_AUTHORIZED} THEN au.gateway_reference END"


def _claim_range(conn: Connection, claim: ClaimQuery, after: ClaimKey | None) -> tuple[str, str]:
    """The range of the claim index a claim reads: its source (INDEXED BY on SQLite) and the conditions
    added to R.installment_claimable: the item, the operation's statuses, after the keyset cursor (claim
    order: due_date, sales_id, line_no, seq)."""
    where = " AND i.item_id = :item_id" if claim.item_id else ""
    if claim.operation != AttemptOperation.CAPTURE:
        where += " AND " + R.claimable_status("i", AttemptOperation(claim.operation))
    if after is not None:
        where += " AND (i.due_date, i.sales_id, i.line_no, i.seq) > (:after_due, :after_id, :after_line, :after_seq)"
    return f"installments i{'' if is_postgres(conn) else ' INDEXED BY ' + _CLAIM_INDEX}", where


def _with_cursor(statement: TextClause, after: ClaimKey | None) -> TextClause:
    """``statement`` with the cursor's due date typed as a date."""
    return statement if after is None else statement.bindparams(bindparam("after_due", type_=Date()))


def _cursor_params(after: ClaimKey | None) -> dict[str, object]:
    return dict(zip(("after_due", "after_id", "after_line", "after_seq"), after or (None,) * 4))


def _stage_claim(conn: Connection, claim: ClaimQuery, after: ClaimKey | None) -> ClaimKey | None:
    """Copy the next chunk of due installments (with their card) into tmp_claim, locking them on
    PostgreSQL (SKIP LOCKED: concurrent workers take different ones); returns the last one's key.
    One range read of the claim index from the cursor, then a key lookup of the line and the order
    per row (CROSS JOIN fixes that order on SQLite; INDEXED BY, since without table statistics
    SQLite would rather sort every due installment for each chunk)."""
    temp_table(conn, "tmp_claim", _CLAIM_COLUMNS)
    source, where = _claim_range(conn, claim, after)
    if claim.sales_ids is not None:  # a few given orders: looked up by key, one by one
        source, where = "tmp_ids ids CROSS JOIN installments i", where + " AND i.sales_id = ids.value"
    if claim.installment is not None:
        where += " AND i.line_no = :line_no AND i.seq = :seq"
    orders = _MANUAL_ORDERS if claim.manual else _CHARGED_ORDERS
    statement = sql_text(
        "INSERT INTO tmp_claim (due_date, sales_id, line_no, seq, status, card_token, amount_minor, currency, "
        "auth_reference) SELECT * FROM (SELECT i.due_date, i.sales_id, i.line_no, i.seq, i.status, "
        f"{_CHARGE_CARD}, i.amount_minor, i.currency, {_CHARGE_AUTHORIZATION} "
        f"FROM {source} CROSS JOIN sales_orders so LEFT JOIN continuity_lines cl "
        "ON cl.sales_id = i.parent_sales_id AND cl.line_no = i.parent_line_no "
        "LEFT JOIN payment_attempts au ON au.idempotency_key = i.authorization_key "
        "WHERE so.sales_id = i.sales_id "
        "AND " + R.installment_claimable("i") + where + " "
        f"AND {_CHARGE_CARD} IS NOT NULL AND {orders} "
        "ORDER BY i.due_date, i.sales_id, i.line_no, i.seq LIMIT :chunk" + skip_locked(conn, "i") + ") c"
    )
    conn.execute(
        _with_cursor(statement, after),
        {
            "as_of": claim.as_of,
            "item_id": claim.item_id,
            "chunk": claim.chunk,
            "line_no": claim.installment[0] if claim.installment else None,
            "seq": claim.installment[1] if claim.installment else None,
            **_cursor_params(after),
        },
    )
    last = conn.execute(
        typed_columns(
            sql_text(
                "SELECT due_date, sales_id, line_no, seq FROM tmp_claim "
                "ORDER BY due_date DESC, sales_id DESC, line_no DESC, seq DESC LIMIT 1"
            ),
            "due_date",
        )
    ).first()
    return None if last is None else (last[0], last[1], last[2], last[3])


# The staged installments that may be charged now get their next attempt, in one read of each one's
# earlier attempts (all operations): none pending or unknown; none declined on this as_of with its current
# card; no hard decline on its current card (for any order: domain.dunning); a first try on that card, or
# a retry the dunning schedule has due now (missed days caught up, one retry a run), within its window and
# the card's retry budget (the retries of all its orders in budget_days, counted with the chunk's own
# retries of the card in claim order). A new card starts a new episode: tried at once. Installments the
# policy leaves alone stay behind the cursor instead of filling a chunk. An agent's retry (``manual``) is
# not bound to the schedule, its window nor the one try a day, but never follows a hard decline and
# stays within the card's budget.
def _insert_attempts(policy: DunningPolicy, manual: bool = False, busy: str = "") -> str:
    """``busy``: a condition on x.card_token that leaves the installments of the cards with a charge in
    flight (busy_cards) out of this claim."""
    on_card = "a.operation = :op AND a.card_token = t.card_token"
    declined_on_card = f"{on_card} AND {R.equals('a.status', A.DECLINED)}"
    due = " + ".join(f"CASE WHEN x.first_declined <= :cut{k} THEN 1 ELSE 0 END" for k in range(len(policy.retry_days)))
    episodes = (
        "SELECT t.sales_id, t.line_no, t.seq, t.card_token, t.amount_minor, t.currency, t.auth_reference, "
        "SUM(CASE WHEN a.operation = :op THEN 1 ELSE 0 END) + 1 AS attempt_no, "
        f"SUM(CASE WHEN {declined_on_card} THEN 1 ELSE 0 END) AS declines, "
        f"MIN(CASE WHEN {declined_on_card} THEN a.as_of END) AS first_declined "
        "FROM tmp_claim t LEFT JOIN payment_attempts a ON a.subject = 'installment' AND a.sales_id = t.sales_id "
        "AND a.line_no = t.line_no AND a.seq = t.seq "
        "GROUP BY t.sales_id, t.line_no, t.seq, t.card_token, t.amount_minor, t.currency, t.auth_reference "
        f"HAVING SUM(CASE WHEN {R.among('a.status', UNANSWERED)} OR ({declined_on_card} "
        "AND a.as_of >= :tried_since) THEN 1 ELSE 0 END) = 0"
    )
    hard_card = (
        "EXISTS (SELECT 1 FROM payment_attempts h WHERE h.card_token = x.card_token "
        f"AND {R.equals('h.status', A.DECLINED)} AND {R.hard_decline('h.decline_code')})"
    )
    on_schedule = f"(x.declines = 0 OR (x.first_declined >= :window_from AND x.declines <= {due or '0'}))"
    due_now = (
        f"SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.card_token, CASE WHEN x.declines > 0 THEN 1 ELSE 0 END "
        f"ORDER BY x.sales_id, x.line_no, x.seq) AS card_rank FROM ({episodes}) x WHERE NOT {hard_card}"
        + ("" if manual else f" AND {on_schedule}")
        + (f" AND {busy}" if busy else "")
    )
    budget_used = (
        "(SELECT COUNT(*) FROM payment_attempts b WHERE b.card_token = y.card_token AND b.retry_no > 0 "
        "AND b.as_of > :budget_from)"
    )
    return (
        f"INSERT INTO payment_attempts ({_ATTEMPT_COLUMNS}, attempt_no, retry_no, status, reason, as_of, created_at) "
        f"SELECT {_KEY}, 'installment', x.sales_id, x.line_no, x.seq, :op, x.card_token, x.amount_minor, "
        f"x.currency, x.auth_reference, x.attempt_no, x.declines, {R.lit(A.PENDING)}, '', :as_of, :now FROM "
        f"(SELECT y.* FROM ({due_now}) y WHERE y.declines = 0 OR y.card_rank + {budget_used} <= :budget) x "
        f"WHERE 1 = 1 ON CONFLICT DO NOTHING RETURNING {_ATTEMPT_COLUMNS}"
    )


def _claim_params(claim: ClaimQuery, now: datetime) -> dict[str, object]:
    policy = claim.policy
    return {
        "as_of": claim.as_of,
        "now": now,
        "op": claim.operation,
        "window_from": policy.window_from(claim.as_of),
        "budget_from": policy.budget_from(claim.as_of),
        "budget": policy.card_budget,
        "tried_since": date.max if claim.manual else claim.as_of,  # an agent's retry: however often tried today
        "busy": json.dumps(sorted(claim.busy_cards)),
        **{f"cut{k}": cut for k, cut in enumerate(policy.retry_cutoffs(claim.as_of))},
    }


def _not_busy(conn: Connection) -> str:
    """x.card_token is none of the busy cards (:busy, a JSON array)."""
    if is_postgres(conn):
        return "x.card_token NOT IN (SELECT jsonb_array_elements_text(CAST(:busy AS jsonb)))"
    return "x.card_token NOT IN (SELECT value FROM json_each(:busy))"


#: the cards' lock buckets: a chunk holds at most this many advisory locks, whatever its size (one lock per
#: card ran out of PostgreSQL's shared lock table, max_locks_per_transaction, at a chunk of 2,000 cards)
CARD_LOCK_BUCKETS = 64
CARD_LOCK_SPACE = 7_212_021  # the first key of the two-key advisory locks: no other lock of ours uses it


def _lock_cards(conn: Connection) -> None:
    """PostgreSQL: the staged cards' buckets are locked (in one order: no deadlock) until this chunk commits,
    so two workers never both take a card's last retry of its budget. A bucket holds many cards: two chunks
    sharing one wait for each other, which is never wrong, only coarser. SQLite has one writer."""
    if is_postgres(conn):
        conn.execute(
            sql_text(
                "SELECT pg_advisory_xact_lock(:space, b.bucket) FROM (SELECT DISTINCT "
                "mod(abs(hashtext(card_token)::bigint), :buckets)::int AS bucket FROM tmp_claim ORDER BY 1) b"
            ),
            {"space": CARD_LOCK_SPACE, "buckets": CARD_LOCK_BUCKETS},
        )


def _mark_in_flight(conn: Connection) -> str:
    """The staged installments that just got their attempt are in flight from this commit on, before any
    gateway call: every reader sees it in their status, and no later claim takes them."""
    attempted = (
        "EXISTS (SELECT 1 FROM payment_attempts a WHERE a.subject = 'installment' AND a.sales_id = t.sales_id "
        f"AND a.line_no = t.line_no AND a.seq = t.seq AND a.operation = :op AND {R.equals('a.status', A.PENDING)})"
    )
    if is_postgres(conn):
        return R.set_status(
            "installments",
            P.IN_FLIGHT,
            "FROM tmp_claim t WHERE installments.sales_id = t.sales_id AND installments.line_no = t.line_no "
            f"AND installments.seq = t.seq AND {attempted}",
        )
    return R.set_status(
        "installments",
        P.IN_FLIGHT,
        f"WHERE (sales_id, line_no, seq) IN (SELECT t.sales_id, t.line_no, t.seq FROM tmp_claim t WHERE {attempted})",
    )


class PaymentStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock  # the audit entries' time

    def claim_next_chunk(self, claim: ClaimQuery, after: ClaimKey | None, now: datetime) -> ClaimedChunk:
        """Look at the next ``claim.chunk`` due installments after the keyset cursor ``after`` (claim
        order: due_date, sales_id, line_no, seq), insert the next attempt of those that may be charged
        now and commit. ``last_key`` is None once nothing is left after the cursor."""
        with transaction(self.engine) as conn:
            _plan_by_key(conn, in_claim_order=claim.sales_ids is None)
            if claim.sales_ids is not None:
                _ids_table(conn, claim.sales_ids)
            last_key = _stage_claim(conn, claim, after)
            if last_key is None:
                return ClaimedChunk([], None)
            _lock_cards(conn)
            statement = _insert_attempts(claim.policy, claim.manual, _not_busy(conn) if claim.busy_cards else "")
            rows = conn.execute(sql_text(statement), _claim_params(claim, now)).all()
            if rows:
                conn.execute(sql_text(_mark_in_flight(conn)), {"op": claim.operation})
        return ClaimedChunk([ClaimedAttempt(*r) for r in rows], last_key)

    def due_left(self, claim: ClaimQuery, after: ClaimKey | None, most: int) -> int:
        """How many installments after the keyset cursor ``after`` are due and in a status the claim takes
        (of ``claim.item_id``, if given), counted up to ``most``: the claim's range of the claim index, no
        more. An estimate of the work left: the held orders and the retries not due today are counted too."""
        with self.engine.connect() as conn:
            source, where = _claim_range(conn, claim, after)
            statement = sql_text(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} WHERE {R.installment_claimable('i')}{where} "
                "LIMIT :most) c"
            )
            params = {"as_of": claim.as_of, "item_id": claim.item_id, "most": most, **_cursor_params(after)}
            return int(conn.execute(_with_cursor(statement, after), params).scalar_one())

    def stale_attempts(self, older_than: datetime, after_key: str, limit: int) -> list[ClaimedAttempt]:
        """Attempts whose outcome is unknown, or pending ones left behind by a crashed worker."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sql_text(
                    f"SELECT {_ATTEMPT_COLUMNS} FROM payment_attempts WHERE idempotency_key > :after "
                    f"AND ({R.equals('status', A.UNKNOWN)} OR ({R.equals('status', A.PENDING)} "
                    "AND created_at < :older)) "
                    "ORDER BY idempotency_key LIMIT :limit"
                ),
                {"older": older_than, "after": after_key, "limit": limit},
            ).all()
        return [ClaimedAttempt(*r) for r in rows]

    def record_outcomes(self, outcomes: list[AttemptOutcome], as_of: date, policy: DunningPolicy | None = None) -> None:
        """Write a chunk's gateway answers in one transaction: stage them, then three set statements."""
        if not outcomes:
            return
        with transaction(self.engine) as conn:
            temp_table(conn, "tmp_outcome", _OUTCOME_COLUMNS)
            rows = [_outcome_row(o) for o in outcomes]
            if is_postgres(conn):  # one statement from one JSON array, not a statement per row
                conn.execute(sql_text(_STAGE_OUTCOMES), {"rows": json.dumps(rows)})
            else:  # in process: the driver's own loop over the rows is the cheapest
                conn.execute(sql_text(_STAGE_ROW), rows)
            conn.execute(
                sql_text(
                    R.set_status_to(
                        "payment_attempts",
                        "t.status",
                        AttemptStatus,
                        "FROM tmp_outcome t WHERE payment_attempts.idempotency_key = t.idempotency_key",
                        also="reason = t.reason, gateway_reference = t.reference, decline_code = t.decline_code",
                    )
                )
            )
            conn.execute(
                sql_text(
                    R.set_status_to(
                        "installments",
                        "t.next_status",
                        PaymentStatus,
                        "FROM tmp_outcome t WHERE t.subject = 'installment' AND t.next_status IS NOT NULL "
                        "AND installments.sales_id = t.sales_id AND installments.line_no = t.line_no "
                        "AND installments.seq = t.seq",
                        also=f"authorization_key = CASE WHEN {R.equals('t.next_status', P.AUTHORIZED)} "
                        "THEN t.idempotency_key ELSE installments.authorization_key END",
                    )
                )
            )
            _write_notices(conn, as_of, policy)

    def release_child_holds(self, as_of: date, job: str = "process-payments") -> int:
        """Child orders held for a payment problem (the codes CHILD_PAYMENT_CODES) go back to open once
        nothing due is unpaid; a hold put on by hand stays. The held orders are found through the partial
        index ix_sales_orders_held (hold_code <> '', migrations 0008 and 0021): the few held orders, never
        every order."""
        where = (
            f"WHERE hold_code <> '' AND {R.equals('status', S.ON_HOLD)} AND hold_code IN (:c1, :c2) "
            "AND NOT EXISTS (SELECT 1 FROM installments i WHERE "
            " (i.parent_sales_id = sales_orders.parent_sales_id OR i.sales_id = sales_orders.sales_id) "
            f" AND {R.payment_problem('i')} AND i.due_date <= :as_of)"
        )
        params = {"as_of": as_of, "c1": CHILD_PAYMENT_CODES[0], "c2": CHILD_PAYMENT_CODES[1]}
        with status_updates(self.engine) as conn:
            audit_orders(conn, self.clock.now(), job, "released", where, params, S.OPEN)
            return conn.execute(
                sql_text(R.set_status("sales_orders", S.OPEN, where, also="hold_reason = '', hold_code = ''")), params
            ).rowcount

    def hold_declined_children(self, as_of: date | None = None, job: str = "process-payments") -> int:
        """Hold open children whose own charge is declined or unresolved; with ``as_of`` also those
        (made earlier) whose parent now has such an installment due on or before as_of. Both are driven
        by the (few) problem installments (ix_installments_due), then each order by key: never a walk
        over every open child order, which grows with every night's children."""
        with status_updates(self.engine) as conn:
            # a child's own charge is the installment whose order is not its parent order
            own = "WHERE " + key_in(
                conn,
                "sales_id",
                f"SELECT i.sales_id FROM installments i WHERE {R.payment_problem('i')} "
                "AND i.sales_id <> i.parent_sales_id",
            )
            own += " AND " + R.equals("status", S.OPEN)
            parents = (
                "WHERE "
                + key_in(
                    conn,
                    "sales_id",
                    "SELECT c.sales_id FROM installments i CROSS JOIN "
                    f"sales_orders c WHERE c.parent_sales_id = i.parent_sales_id AND {R.payment_problem('i')} "
                    "AND i.due_date <= :as_of",
                )
                + " AND "
                + R.equals("status", S.OPEN)
            )
            steps: list[tuple[str, str, dict[str, object]]] = [(own, OWN_PAYMENT_HOLD, {"code": CHARGE_DECLINED})]
            if as_of is not None:
                steps.append((parents, PARENT_PAYMENT_HOLD, {"as_of": as_of, "code": PARENT_PAYMENT}))
            held = 0
            also = "hold_reason = :reason, hold_code = :code"
            for where, reason, params in steps:
                params["reason"] = reason
                audit_orders(conn, self.clock.now(), job, "held", where, params, S.ON_HOLD, reason)
                held += conn.execute(
                    sql_text(R.set_status("sales_orders", S.ON_HOLD, where, also=also)), params
                ).rowcount
            return held

    def write_upcoming_notices(
        self, as_of: date, notice_until: date, item_id: str | None, until_by_program: Mapping[str, date] | None = None
    ) -> int:
        """An upcoming-charge notice per installment due after as_of and no later than its program's
        ``until_by_program`` day (a program with its own lead days), else ``notice_until`` (the parameters')."""
        where = " AND i.item_id = :item_id" if item_id else ""
        leads = dict(until_by_program or {})
        with transaction(self.engine) as conn:
            temp_table(conn, "tmp_lead", "program_id VARCHAR(40) PRIMARY KEY, until_date DATE")
            if leads:
                conn.execute(
                    sql_text("INSERT INTO tmp_lead (program_id, until_date) VALUES (:p, :u)").bindparams(
                        bindparam("u", type_=Date())
                    ),
                    [{"p": p, "u": u} for p, u in leads.items()],
                )
            return conn.execute(
                sql_text(
                    "INSERT INTO notifications (dedupe_key, kind, account, sales_id, language, email, payload, as_of, "
                    "attempts, last_error) "
                    "SELECT 'upcoming:' || i.sales_id || ':' || "
                    + as_text("i.line_no")
                    + " || ':' || "
                    + as_text("i.seq")
                    + ", 'upcoming_charge', c.account, i.sales_id, c.language, c.email, "
                    "'{\"amount_minor\": ' || " + as_text("i.amount_minor") + ' || \', "currency": "\' || i.currency '
                    '|| \'", "due_date": "\' || ' + as_text("i.due_date") + " || '\"}', :as_of, 0, '' "
                    "FROM installments i JOIN sales_orders so ON so.sales_id = i.sales_id "
                    "JOIN customers c ON c.account = so.account LEFT JOIN items it ON it.item_id = i.item_id "
                    "LEFT JOIN tmp_lead l ON l.program_id = it.continuity_program_id "
                    f"WHERE {R.among('i.status', (P.NOT_SUBMITTED, P.AUTHORIZED))} AND i.due_date > :as_of "
                    "AND i.due_date <= :max_until AND i.due_date <= COALESCE(l.until_date, :until) "
                    f"AND {R.not_among('so.status', (S.DRAFT, S.CANCELLED))}" + where + " ON CONFLICT DO NOTHING"
                ),
                {
                    "as_of": as_of,
                    "until": notice_until,
                    "max_until": max([notice_until, *leads.values()]),
                    "item_id": item_id,
                },
            ).rowcount


_OUTCOME_COLUMNS = (
    "idempotency_key VARCHAR(120) PRIMARY KEY, subject VARCHAR(20), sales_id VARCHAR(40), line_no INTEGER, "
    "seq INTEGER, status VARCHAR(20), next_status VARCHAR(20), reason TEXT, reference VARCHAR(80), "
    "notice_kind VARCHAR(30), payload TEXT, decline_code VARCHAR(30)"
)
_OUTCOME_TYPES = {"line_no": "INTEGER", "seq": "INTEGER"}  # the other columns are text
_OUTCOME_NAMES = [column.split()[0] for column in _OUTCOME_COLUMNS.split(", ")]
# PostgreSQL: a chunk's answers staged in one statement, from one JSON array of rows
_STAGE_OUTCOMES = (
    f"INSERT INTO tmp_outcome ({', '.join(_OUTCOME_NAMES)}) SELECT {', '.join(_OUTCOME_NAMES)} "
    "FROM json_to_recordset(CAST(:rows AS json)) AS r("
    + ", ".join(f"{name} {_OUTCOME_TYPES.get(name, 'TEXT')}" for name in _OUTCOME_NAMES)
    + ")"
)
_STAGE_ROW = (
    f"INSERT INTO tmp_outcome ({', '.join(_OUTCOME_NAMES)}) VALUES ({', '.join(':' + n for n in _OUTCOME_NAMES)})"
)
_NOTICE = {
    ("capture", "approved"): "paid",
    ("capture", "declined"): "payment_declined",
    ("authorize", "declined"): "payment_declined",
}


def _outcome_row(o: AttemptOutcome) -> dict[str, object]:
    a = o.attempt
    moved_to = next_status(a.operation, AttemptStatus(o.status))
    code = decline_code(o.decline_code).value if o.status == A.DECLINED else ""
    kind = _NOTICE.get((a.operation, o.status))
    if kind == "payment_declined" and decline_class(code) == DeclineClass.HARD:
        kind = "update_card"  # a hard decline: never retried; the customer is asked for another card
    return {
        "idempotency_key": a.idempotency_key,
        "subject": a.subject,
        "sales_id": a.sales_id,
        "line_no": a.line_no,
        "seq": a.seq,
        "status": o.status,
        "next_status": None if moved_to is None else moved_to.value,
        "reason": o.reason,
        "reference": o.reference or None,
        "notice_kind": kind,
        "payload": json.dumps(
            {"amount_minor": a.amount_minor, "currency": a.currency, "reason": o.reason, "decline_code": code}
        ),
        "decline_code": code,
    }


_EPISODE = "t.sales_id || ':' || " + as_text("t.line_no") + " || ':' || " + as_text("t.seq") + " || ':' || a.card_token"
_NOTICE_COLUMNS = "dedupe_key, kind, account, sales_id, language, email, payload, as_of, attempts, last_error"
_NOTICE_FROM = (
    "FROM tmp_outcome t JOIN payment_attempts a ON a.idempotency_key = t.idempotency_key "
    "JOIN sales_orders so ON so.sales_id = t.sales_id JOIN customers c ON c.account = so.account "
    "WHERE t.subject = 'installment' AND t.notice_kind IS NOT NULL"
)


def _write_notices(conn: Connection, as_of: date, policy: DunningPolicy | None) -> None:
    """Paid notices one per charge; a decline one per episode (installment and card: its retries send
    nothing more), 'payment_declined' for a soft decline and 'update_card' for a hard one (which ends the
    episode); and a final 'retries_exhausted' once the last scheduled retry of a soft episode is declined."""
    conn.execute(
        sql_text(
            f"INSERT INTO notifications ({_NOTICE_COLUMNS}) SELECT t.notice_kind || ':' || CASE WHEN t.notice_kind IN "
            f"('payment_declined', 'update_card') THEN {_EPISODE} ELSE t.idempotency_key END, t.notice_kind, "
            f"c.account, so.sales_id, c.language, c.email, t.payload, :as_of, 0, '' {_NOTICE_FROM} "
            "ON CONFLICT DO NOTHING"
        ),
        {"as_of": as_of},
    )
    if policy is None:
        return
    conn.execute(
        sql_text(
            f"INSERT INTO notifications ({_NOTICE_COLUMNS}) SELECT 'retries_exhausted:' || {_EPISODE}, "
            "'retries_exhausted', c.account, so.sales_id, c.language, c.email, t.payload, :as_of, 0, '' "
            f"{_NOTICE_FROM} AND t.notice_kind = 'payment_declined' AND a.retry_no >= :last_retry "
            "ON CONFLICT DO NOTHING"
        ),
        {"as_of": as_of, "last_retry": len(policy.retry_days)},
    )


def _ids_table(conn: Connection, ids: list[str]) -> None:
    temp_table(conn, "tmp_ids", "value VARCHAR(60)")
    if ids:
        conn.execute(sql_text("INSERT INTO tmp_ids (value) VALUES (:v)"), [{"v": i} for i in ids])
