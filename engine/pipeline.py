"""Each loaded order's pipeline of writes: the Mark steps, the send, a withdrawal, a cancel.

The enabled Mark steps run strictly (Process, then Charge; a refusal holds the order in
Error), then the send to the warehouse; a shipment's Ship call and a cancellation at the
warehouse run here too. A failed write keeps the order at its stage, and what happens when
it is tried again (re-read first, counted done if the order got there, the warehouse asked
before a second send, backoff, giving up) is ``houzzflow.engine.recovery``'s.

A card declined at CartRover's own Charge is an open question (``charge_decline`` in
engine/assumptions.yaml). ``hold``: the refusal holds the order in Error like any other.
``retry``: a Charge refused on an order CartRover saw In Production waits for the next
poll's re-read. Failed to Charge there: the card was declined; CartRover raises one alert
and looks again at every poll, charging again once the customer's fix brings the order back
to In Production, and holds it in Error if the payment is not fixed within the 15 days
it retries anything. Anywhere else: the refusal was not a decline, and holds the order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from houzzflow.engine.decisions import (
    AfterDecline,
    after_refused_charge,
    hold_reason,
    mark_steps,
    maybe_declined,
)
from houzzflow.engine.ledger import (
    ALERT_CANCEL,
    ALERT_DECLINED,
    CANCEL,
    CHECK,
    DECLINED,
    DUE,
    EXTRA,
    HOUZZ_WRITES,
    HZ,
    SHIP,
    SINCE,
    ST,
    TRIES,
    WAIT,
    Books,
    Clerk,
)
from houzzflow.engine.policy import Policy
from houzzflow.engine.ports import (
    BackendPort,
    HouzzPort,
    Outcome,
    ReplyLost,
    TransientError,
    Write,
    send_orders,
    update_orders,
)
from houzzflow.engine.recovery import (
    SEND,
    WITHDRAW,
    Resume,
    backoff,
    gives_up,
    resume,
    warehouse_answer,
)
from houzzflow.engine.table import CANCELLED, Rejection, houzz_table

T = TypeVar("T")
# Stage by stage: the due orders of one stage (id, pipeline entry), and every stage's.
Group = list[tuple[str, list[Any]]]
Stages = dict[str, Group]

# What one Houzz write came to.
NOT_DONE, WRITTEN, RECONCILED = range(3)
CHARGE = "Charge"


def _write_targets() -> dict[str, str]:
    """The Houzz status each write of CartRover's leads to, read off the machine."""
    targets: dict[str, str] = {}
    for program in ("seller", "vendor"):
        for era in ("legacy", "2021"):
            for (_, action), move in houzz_table(program, era).moves.items():
                if action in HOUZZ_WRITES and "connector" in move.actors:
                    targets.setdefault(action, move.dest)
    return targets


class Pipeline(Clerk):
    """Moves one connector's loaded orders through their writes."""

    def __init__(
        self,
        policy: Policy,
        houzz: HouzzPort,
        backend: BackendPort,
        books: Books,
        *,
        retry_declines: bool = False,
        by_stage: bool = False,
    ) -> None:
        super().__init__(books)
        self.houzz = houzz
        self.backend = backend
        # Which Houzz lifecycle a re-read is judged against: the one the policy assumes.
        self.houzz_table = houzz_table(policy.account, policy.era)
        self.retry_declines = retry_declines
        self.targets = _write_targets()
        self.steps = mark_steps(policy)
        self.first_stage = self.steps[0] if self.steps else SEND
        self.next_stage = dict(zip(self.steps, (*self.steps[1:], SEND), strict=False))
        # ``write_order: stage_by_stage``: each stage for every due order, in this order.
        self.by_stage = by_stage
        self.stages = (*self.steps, SEND, WITHDRAW, CANCEL, SHIP)

    def work(self, now: int) -> None:
        """Move every due order on as far as it goes: order by order, or stage by stage
        (``write_order`` in engine/assumptions.yaml)."""
        work = self.state.work
        if not work:
            return
        if self.by_stage:
            self._work_by_stage(now)
            return
        # Each order's steps touch only its own entry, so a copy of the items is safe.
        for oid, entry in list(work.items()):
            if entry[DUE] <= now:
                self._advance(now, oid, entry)

    def _work_by_stage(self, now: int) -> None:
        """Every due order's current stage, stage by stage in pipeline order; an order that
        gets through a stage joins the next one's batch in the same pass."""
        stages: Stages = {stage: [] for stage in self.stages}
        for oid, entry in self.state.work.items():
            if entry[DUE] <= now:
                stages[entry[ST]].append((oid, entry))
        for stage in self.stages:
            group = stages[stage]
            if not group:
                continue
            if stage in HOUZZ_WRITES:
                self._write_stage(now, stage, group, stages)
            elif stage == SEND:
                self._send_stage(now, group)
            else:  # WITHDRAW, CANCEL: a backend question or a cancel, order by order
                for oid, entry in group:
                    if entry[ST] == stage:
                        self._advance(now, oid, entry)

    def _write_stage(
        self,
        now: int,
        action: str,
        group: Group,
        stages: Stages,
    ) -> None:
        """One Houzz write for every order of the group, as one batch where nothing has to
        be re-read first; an order that had a failure or a refusal goes on its own."""
        s = self.state
        batch: Group = []
        for oid, entry in group:
            if entry[WAIT]:
                continue  # waits for the next full poll to re-read the order
            if entry[TRIES] or entry[DECLINED] is not None:
                self._write_batch(now, action, batch, stages)
                batch = []
                if now < s.houzz_blocked_until:
                    self._blocked(s.houzz_blocked_until, entry)
                    continue
                done = self._houzz_write(now, oid, entry, action)
                self._written(now, oid, entry, action, done, stages)
            elif now < s.houzz_blocked_until:
                self._blocked(s.houzz_blocked_until, entry)
            else:
                entry[WAIT] = True  # in flight (see _houzz_write)
                entry[TRIES] = 1
                batch.append((oid, entry))
        self._write_batch(now, action, batch, stages)

    def _write_batch(
        self,
        now: int,
        action: str,
        batch: Group,
        stages: Stages,
    ) -> None:
        """Make the batch's writes (each order marked in flight already) and take in each
        answer; the writes a rate limit stopped wait like any blocked write."""
        if not batch:
            return
        writes = [
            Write(oid, action)
            if entry[EXTRA] is None
            else Write(oid, action, entry[EXTRA][0], entry[EXTRA][1])
            for oid, entry in batch
        ]
        results: list[Outcome] = []
        try:
            update_orders(self.houzz, writes, results)
        finally:
            # Interrupted (the connector crashed mid-batch) or not, every call made is
            # taken in; the rest stay marked in flight, as a crash leaves them.
            for (oid, entry), result in zip(batch, results, strict=False):
                done = self._answered(now, oid, entry, action, result)
                self._written(now, oid, entry, action, done, stages)
        blocked = self.state.houzz_blocked_until
        for _, entry in batch[len(results) :]:
            self._blocked(blocked, entry)

    def _written(
        self,
        now: int,
        oid: str,
        entry: list[Any],
        stage: str,
        done: int,
        stages: Stages,
    ) -> None:
        if done != NOT_DONE and self._moved_on(now, oid, entry, stage, done):
            stages[entry[ST]].append((oid, entry))

    def _send_stage(self, now: int, group: Group) -> None:
        """Send every order of the group to the warehouse, as one batch; an order whose
        earlier send may have got through is asked about first, on its own."""
        batch: Group = []
        for oid, entry in group:
            if entry[WAIT]:
                continue
            if entry[CHECK]:
                self._send(now, oid, entry)
                continue
            entry[CHECK] = entry[WAIT] = True  # in flight
            entry[TRIES] += 1
            batch.append((oid, entry))
        if not batch:
            return
        results: list[Outcome] = []
        try:
            send_orders(self.backend, [oid for oid, _ in batch], results)
        finally:
            for (oid, entry), result in zip(batch, results, strict=False):
                self._send_answered(now, oid, entry, result)

    def _advance(self, now: int, oid: str, entry: list[Any]) -> None:
        s = self.state
        while True:
            stage = entry[ST]
            if stage in HOUZZ_WRITES:
                if entry[WAIT]:
                    return  # waits for the next full poll to re-read the order
                if now < s.houzz_blocked_until:
                    self._blocked(s.houzz_blocked_until, entry)
                    return
                done = self._houzz_write(now, oid, entry, stage)
                if done == NOT_DONE or not self._moved_on(now, oid, entry, stage, done):
                    return
            elif stage == SEND:
                if not entry[WAIT]:
                    self._send(now, oid, entry)
                return
            elif stage == WITHDRAW:
                self._withdraw(now, oid, entry)
                if entry[ST] != CANCEL:
                    return
            elif stage == CANCEL:
                self._cancel_at_backend(now, oid, entry)
                return
            else:  # pragma: no cover - entries are only ever made with the stages above
                raise AssertionError(f"unknown pipeline stage {stage!r}")

    @staticmethod
    def _blocked(until: int, entry: list[Any]) -> None:
        # Houzz failed this tick: the step waits, like a failed one, for a re-read (by then
        # the order may have moved on) and counts as tried.
        entry[DUE] = until
        entry[WAIT] = True
        entry[TRIES] = max(entry[TRIES], 1)

    def _moved_on(self, now: int, oid: str, entry: list[Any], stage: str, done: int) -> bool:
        """After a write that is done: on to the next stage (True), or confirmed (a Ship)."""
        if stage == SHIP:
            del self.state.work[oid]
            self.books.move(now, oid, "Confirm", "connector", "tracking posted to Houzz")
            return False
        # A pipeline a fault interrupted stays interrupted: the next stage is entered as
        # tried, so it goes through ``resume`` before its call.
        interrupted = done == RECONCILED or entry[TRIES] > 1 or entry[SINCE]
        entry[ST] = self.next_stage[stage]
        entry[TRIES] = 1 if interrupted else 0
        entry[SINCE] = 0
        return True

    def _houzz_write(self, now: int, oid: str, entry: list[Any], action: str) -> int:
        """One Houzz write: WRITTEN (accepted), RECONCILED (a re-read found it done) or
        NOT_DONE (failed, refused, or waiting)."""
        if entry[DECLINED] is not None and not self._after_decline(now, oid, entry):
            return NOT_DONE
        if (
            entry[TRIES]
            and resume(self.houzz_table, action, entry[HZ], self.targets[action]) is Resume.DONE
        ):
            if self.sink is not None:
                self.sink(now, oid, "Reconciled", f"re-read: {action} had taken effect", "", "")
            return RECONCILED
        entry[WAIT] = True  # in flight: if this call never answers, re-read before retrying
        entry[TRIES] += 1
        extra = entry[EXTRA]
        result: Outcome
        try:
            if extra is None:
                result = self.houzz.update_order(oid, action)
            else:
                result = self.houzz.update_order(
                    oid, action, shipping_method=extra[1], tracking_number=extra[0]
                )
        except TransientError as exc:
            result = exc
        return self._answered(now, oid, entry, action, result)

    def _answered(self, now: int, oid: str, entry: list[Any], action: str, ack: Outcome) -> int:
        """Take in Houzz's answer to one write (see ``_houzz_write``)."""
        if isinstance(ack, TransientError):
            # Lost reply or not, someone may have moved the order meanwhile: re-read first.
            self._retry_later(now, oid, entry, action, ack)
            if not isinstance(ack, ReplyLost):
                self.books.block_houzz(now, ack)
            return NOT_DONE
        extra = entry[EXTRA]
        entry[WAIT] = False
        if ack.ok:
            target = entry[HZ] = self.targets[action]
            if self.sink is not None:
                detail = f"{action} accepted" + (f": {extra[0]} ({extra[1]})" if extra else "")
                self.sink(now, oid, action, detail, target, "")
            return WRITTEN
        known = entry[HZ]
        if self.retry_declines and maybe_declined(self.houzz_table, action, known):
            self._maybe_declined(now, oid, entry, ack.reason)
            return NOT_DONE
        del self.state.work[oid]
        if action == SHIP:
            reason = f"Houzz refused the shipment confirmation: {ack.reason}"
        else:
            reason = hold_reason(Rejection(known, action, "connector", ack.reason))
        if self.sink is not None:
            self.sink(now, oid, action, f"{action} refused: {ack.reason}", "", "")
        self.books.hold(now, oid, reason)
        return NOT_DONE

    def _maybe_declined(self, now: int, oid: str, entry: list[Any], reason: str) -> None:
        """A Charge refused on an order seen In Production: a declined card, perhaps. Keep
        the order and let the next poll's re-read tell (``_after_decline``)."""
        entry[DECLINED] = reason
        entry[WAIT] = True
        if not entry[SINCE]:
            entry[SINCE] = now
        if self.sink is not None:
            detail = f"Charge refused: {reason}; the next poll re-reads the order"
            self.sink(now, oid, CHARGE, detail, "", "")

    def _after_decline(self, now: int, oid: str, entry: list[Any]) -> bool:
        """After a refused Charge, the re-read says what comes next: True to charge (again)."""
        status = entry[HZ]
        refusal = entry[DECLINED]
        then = after_refused_charge(self.houzz_table, status, declined=refusal is True)
        if then is AfterDecline.WAIT:
            if refusal is not True:
                entry[DECLINED] = True
                self.books.alert(
                    now,
                    oid,
                    ALERT_DECLINED,
                    "the customer's card was declined (Failed to Charge in Houzz); CartRover "
                    "charges the order again once the customer has fixed the payment",
                )
            if gives_up(entry[SINCE], now):
                del self.state.work[oid]
                reason = "the card was declined and the payment was not fixed within 15 days"
                self.books.hold(now, oid, reason)
            else:
                entry[WAIT] = True  # look again at the next poll
            return False
        entry[DECLINED] = None
        if then is AfterDecline.CHARGE:
            entry[SINCE] = 0
            return True
        del self.state.work[oid]  # HOLD: the refusal was not a decline, and stands
        self.books.hold(now, oid, hold_reason(Rejection(status, CHARGE, "connector", refusal)))
        return False

    def _send(self, now: int, oid: str, entry: list[Any]) -> None:
        backend = self.backend
        if entry[CHECK]:
            try:
                present = backend.has_order(oid)
            except TransientError as exc:
                self._retry_later(now, oid, entry, SEND, exc)
                return
            entry[CHECK] = False
            if warehouse_answer(present, cancelled=False) is Resume.SENT:
                self._sent(now, oid, "the warehouse already had it (an earlier send got through)")
                return
        entry[CHECK] = entry[WAIT] = True  # in flight
        entry[TRIES] += 1
        result: Outcome
        try:
            result = backend.send_order(oid)
        except TransientError as exc:
            result = exc
        self._send_answered(now, oid, entry, result)

    def _send_answered(self, now: int, oid: str, entry: list[Any], ack: Outcome) -> None:
        """Take in the warehouse's answer to one send (see ``_send``)."""
        if isinstance(ack, TransientError):
            # Re-read the order before sending again (it may be cancelled by then); after a
            # lost reply, ask the warehouse too.
            entry[CHECK] = isinstance(ack, ReplyLost)
            self._retry_later(now, oid, entry, SEND, ack)
            return
        entry[CHECK] = entry[WAIT] = False
        if ack.ok:
            self._sent(now, oid, "sent to the warehouse")
            return
        del self.state.work[oid]
        self.books.hold(now, oid, f"the warehouse refused it: {ack.reason}")

    def _sent(self, now: int, oid: str, detail: str) -> None:
        del self.state.work[oid]
        self.books.move(now, oid, "Send", "connector", detail)

    def _withdraw(self, now: int, oid: str, entry: list[Any]) -> None:
        """Cancelled in Houzz while a send's outcome was unknown: does the warehouse have it?"""
        present = self._try(now, oid, entry, WITHDRAW, self.backend.has_order)
        if present is None:
            return
        if warehouse_answer(present, cancelled=True) is Resume.CANCEL_AT_BACKEND:
            self.books.move(now, oid, "Send", "connector", "the warehouse already had it")
            entry[ST] = CANCEL
            entry[TRIES] = entry[SINCE] = 0
            entry[CHECK] = False
            return
        del self.state.work[oid]
        self.books.move(
            now, oid, "CancelBeforeSend", "connector", "cancelled in Houzz before it was sent"
        )

    def _cancel_at_backend(self, now: int, oid: str, entry: list[Any]) -> None:
        s = self.state
        ack = self._try(now, oid, entry, CANCEL, self.backend.cancel_order)
        if ack is None:
            return
        del s.work[oid]
        if ack.ok:
            self.books.move(now, oid, "CancelAtBackend", "backend", "the warehouse cancelled it")
            return
        s.cancel_refused.add(oid)
        if self.sink is not None:
            self.sink(now, oid, "CancelRefused", ack.reason, CANCELLED, s.ledger.get(oid, ""))
        self.books.alert(
            now,
            oid,
            ALERT_CANCEL,
            f"cancelled in Houzz, but the warehouse refused to cancel it ({ack.reason}): "
            "shipped before the cancellation was seen",
        )

    def _try(
        self, now: int, oid: str, entry: list[Any], stage: str, call: Callable[[str], T]
    ) -> T | None:
        """One backend call at ``stage``, counted as a try; None if it failed (retried later)."""
        entry[TRIES] += 1
        try:
            return call(oid)
        except TransientError as exc:
            self._retry_later(now, oid, entry, stage, exc)
            return None

    def _retry_later(
        self, now: int, oid: str, entry: list[Any], stage: str, exc: TransientError
    ) -> None:
        if not entry[SINCE]:
            entry[SINCE] = now
        wait = backoff(max(entry[TRIES], 1), exc.retry_after)
        entry[DUE] = now + wait
        lost = isinstance(exc, ReplyLost)
        if self.sink is not None:
            what = "reply lost" if lost else "failed"
            self.sink(now, oid, "Retry", f"{stage} {what}: {exc}; retry in {wait} s", "", "")
        if gives_up(entry[SINCE], now):
            s = self.state
            del s.work[oid]
            if s.ledger.get(oid) == "AtWMS":  # a cancel nobody could deliver
                self.books.alert(
                    now, oid, ALERT_CANCEL, f"gave up cancelling it at the warehouse: {exc}"
                )
            else:
                self.books.hold(now, oid, f"{stage} kept failing for 15 days: {exc}")
