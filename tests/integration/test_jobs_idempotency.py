"""Every job run twice for the same as_of: the second run creates, charges and changes nothing."""

from __future__ import annotations

from datetime import date

from jobs_support import (
    DECLINE,
    START,
    TIMEOUT,
    WORK_TABLES,
    captures,
    counts,
    demo_programs,
    enter_order,
    job,
    set_up,
    snapshot,
    use_card,
    with_threshold_two_and_tea,
)

from continuity.services.jobs.registry import JOBS, NIGHTLY

#: Counts that describe the state rather than work done: they may be the same on a second run.
STATE_COUNTS = {"programs", "pending", "skipped_expired_card"}
WATCHED = WORK_TABLES + ("continuity_lines", "programs")


class RecordingMailer:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, to: str, subject: str, body: str, message_id: str) -> None:
        self.sent.append(message_id)

    def close(self) -> None:
        return None


def test_every_job_run_a_second_time_for_the_same_as_of_creates_and_charges_nothing(demo_app):
    app = demo_app
    with_threshold_two_and_tea(app)
    enter_order(app, "88000")
    enter_order(app, "0021")
    enter_order(app, "0016")
    enter_order(app, "0030")
    use_card(app, enter_order(app, "0021", account="004011"), TIMEOUT)  # its charges end up unknown
    use_card(app, enter_order(app, "88000", account="004020"), DECLINE)  # its charges are declined
    mailer = RecordingMailer()
    deps = app.job_deps(mailer=mailer)
    cut = NIGHTLY.index("invoice-shipped")
    nightly = NIGHTLY[:cut] + ["fulfil-children"] + NIGHTLY[cut:]  # run_all(fulfil=True), job by job
    assert set(nightly) | {"continuity-update", "tax-rate-change"} == set(JOBS)
    did_work: set[str] = set()

    for step, as_of in enumerate([START, date(2026, 12, 23), date(2027, 2, 23)]):  # the last one catches up
        sequence = nightly
        if step == 1:  # a merchandiser changes the book club: continuity-update has work to push
            book_club = demo_programs()["BOOKCLUB"]
            book_club["events"][4]["price"] = "11.11"
            set_up(app, {"programs": [book_club]})
            # and Norway taxes books from the next month: tax-rate-change re-prices the open orders
            set_up(
                app, {"tax_rates": [{"tax_group": "books", "region": "NO", "rate": "12", "valid_from": "2027-01-01"}]}
            )
            sequence = ["continuity-update", "tax-rate-change"] + nightly
        for name in sequence:
            first = job(app, name, as_of, deps=deps)
            if any(v for k, v in first["counts"].items() if k not in STATE_COUNTS):
                did_work.add(name)
            before, rows_before, charged, mails = snapshot(app, WATCHED), counts(app), captures(app), len(mailer.sent)

            second = job(app, name, as_of, deps=deps)

            assert second["status"] == "succeeded"
            assert {k: v for k, v in second["counts"].items() if v and k not in STATE_COUNTS} == {}, (name, as_of)
            assert counts(app) == rows_before, (name, as_of)
            assert captures(app) == charged and len(mailer.sent) == mails, (name, as_of)
            assert snapshot(app, WATCHED) == before, (name, as_of)

    assert did_work == set(JOBS)  # each job really had something to do on its first run
