"""Houzz's lifecycle rules: placing an order and applying actions to it.

Which action may move an order where comes only from the compiled table
(``engine.table.houzz_table``); a refused action is answered with the table's reason. On top
of the table this module keeps Houzz's own clocks (the 2021 auto-charge when the buyer's
cancel window closes, the lapse of a charge's authorization), charge failures, and the
buyer's cancel window, and records every change: status, modified time, history, the
listing index, the timeline and the subscribers. A Process or Charge on an order already
past it is refused with the table's reason, or, where the world's Houzz answers it as done
(``mark_step_done: no_op``), answered Success without any change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from houzzflow.engine.machine import Timing
from houzzflow.engine.ports import Ack
from houzzflow.engine.table import Rejection, Table
from houzzflow.simulator.houzz.deadlines import Deadlines
from houzzflow.simulator.houzz.listing import ListingIndex
from houzzflow.simulator.houzz.names import (
    AUTHORIZATION_LAPSE,
    AUTO_CHARGE,
    CANCEL,
    CHARGE,
    CHARGE_DECLINED,
    CHARGE_FAILS,
    CHARGED,
    IN_PRODUCTION,
    NEW,
    PLACE,
    SHIP,
)
from houzzflow.simulator.houzz.orders import (
    STATUS_BY_CODE,
    TIME_LIMIT,
    HouzzOrder,
    OrderStore,
    history_code,
    status_code,
)
from houzzflow.simulator.kernel.clock import Clock
from houzzflow.simulator.kernel.streams import Keyed, unit
from houzzflow.simulator.kernel.timeline import Happening, Timeline

Subscriber = Callable[[HouzzOrder, str], None]

# A step of the lifecycle as the fake applies it: the resulting status, its status code, its
# history code, and the subscribers told about it.
_Step = tuple[str, int, int, tuple[Subscriber, ...]]
_OK = Ack(True)
_NEW = status_code(NEW)
_CHARGED = status_code(CHARGED)


def _tracking_text(tracking: str) -> str:
    """Tracking numbers as Houzz keeps them: comma-joined, blanks and empties dropped."""
    if tracking.isalnum() or (
        tracking.replace(",", "").isalnum()
        and tracking[0] != ","
        and tracking[-1] != ","
        and ",," not in tracking
    ):
        return tracking  # already clean: the common case, kept without a copy
    return ",".join(n for n in (t.strip() for t in tracking.split(",")) if n)


def _detail(order: HouzzOrder, action: str) -> str:
    """What a Ship or a Cancel said, for the timeline."""
    if action == SHIP:
        method = order.shipping_method
        return f"tracking {order.tracking.replace(',', ', ') or 'none'}" + (
            f" via {method}" if method else ""
        )
    note = order.cancel_note
    if action == CANCEL and note is not None:
        code, comments = note
        return f"code {code or '-'}: {comments}" if comments else f"code {code}"
    return ""


class Lifecycle:
    """Places orders in ``store`` and applies actions to them (by handle), by ``table``.

    ``timing`` gives the buyer's cancel window and the authorization's length;
    ``charge_failure_rate`` is the share of charges that fail (the 2021 auto-charge, and in
    the legacy era a Charge, which is then refused as declined). With ``own_clocks=False``
    Houzz makes no move by itself. Whether a charge fails is a keyed draw (``charges``, see
    ``kernel.streams``) about the order and its history's length, so it does not depend on
    which other orders were charged before it. Every change is entered in ``index``, added to
    ``timeline`` when there is one, and told to the subscribers of its resulting status.
    ``restart`` starts over with a new store and index, dropping every pending deadline.
    Subscribers are told of a change with a ``HouzzOrder`` view of the order.
    """

    def __init__(
        self,
        table: Table,
        timing: Timing,
        *,
        clock: Clock,
        charges: Keyed,
        timeline: Timeline | None,
        charge_failure_rate: float,
        own_clocks: bool,
        store: OrderStore,
        index: ListingIndex,
    ) -> None:
        self.table = table
        self.clock = clock
        self.charges = charges
        self.timeline = timeline
        self.charge_failure_rate = charge_failure_rate
        self.cancel_window = timing.cancel_window
        self.authorization = timing.authorization
        self._cancel_action = timing.cancel_action
        self._window_actors = frozenset(timing.cancel_window_actors)
        moves = table.moves
        # A scripted world (a replayed counterexample) makes Houzz's own moves itself.
        self._auto_charge = own_clocks and (table.initial, AUTO_CHARGE) in moves
        self._lapse = own_clocks and (CHARGED, AUTHORIZATION_LAPSE) in moves
        self._declines = charge_failure_rate > 0 and (IN_PRODUCTION, CHARGE_DECLINED) in moves
        # (status, action) Houzz answers as done without a change (mark_step_done: no_op);
        # never among the learnt steps, so only a step not learnt yet looks here.
        self._no_ops = table.no_ops
        # The table's allowed steps, learnt once per (status, action, actor) (a refusal is
        # asked of the table each time). Placing an order records the same history code.
        self._steps: dict[tuple[str, str, str], _Step] = {}
        self._placed = history_code("customer", PLACE, table.initial)
        self._subscribers: list[tuple[Subscriber, frozenset[str] | None]] = []
        self._heard: dict[str, tuple[Subscriber, ...]] = {state: () for state in table.states}
        self._start(store, index)

    def _start(self, store: OrderStore, index: ListingIndex) -> None:
        self.store = store
        self.index = index
        self._auto_charges = Deadlines(
            self.clock, self.cancel_window, self._auto_charge_due, self._still_new
        )
        self._lapses = Deadlines(
            self.clock, self.authorization, self._lapse_due, self._still_charged
        )

    def restart(self, store: OrderStore, index: ListingIndex) -> None:
        """Drop every pending deadline and go on with ``store`` and ``index``; keep the
        subscribers and the steps learnt."""
        self._auto_charges.close()
        self._lapses.close()
        self._start(store, index)

    def _still_new(self, handle: int, stamp: int) -> bool:
        return self.store.status[handle] == _NEW

    def _still_charged(self, handle: int, stamp: int) -> bool:
        # Charged leads only to Shipped, Cancelled or a lapse: once it left, this charge is
        # over. (The status first: reading when it was charged walks the history.)
        store = self.store
        return store.status[handle] == _CHARGED and store.charged_at(handle) == stamp

    def subscribe(self, callback: Subscriber, statuses: Iterable[str] | None) -> None:
        """Tell ``callback(order, action)`` of each change that leaves an order in one of
        ``statuses`` (every change when ``None``)."""
        self._subscribers.append((callback, None if statuses is None else frozenset(statuses)))
        self._heard = {
            state: tuple(cb for cb, only in self._subscribers if only is None or state in only)
            for state in self.table.states
        }
        self._steps.clear()  # the steps learnt so far name the subscribers they tell

    def place(self, order_id: str, when: int, items: int) -> int:
        """Place the order ``order_id``, created at ``when``, store it and return its handle.

        Seller orders start New, Vendor orders Charged; an order placed in the past has
        already lived through Houzz's clocks up to now."""
        status = self.table.initial
        store = self.store
        handle = store.add(order_id, status, when, items)
        store.record(handle, when, self._placed)
        index = self.index
        times = index.times  # ListingIndex.add, inlined
        if times and times[-1] > when:
            index.in_order = False
        times.append(when)
        index.entries.append(handle)
        index.last_listing = None  # a listing read before this change is out of date
        if self.timeline is not None:
            self._tell(when, order_id, "customer", PLACE, "", status)
        told = self._heard[status]
        if told:
            order = HouzzOrder(store, handle)
            for notify in told:
                notify(order, PLACE)
        # Houzz's clocks last, so subscribers see Place before anything caught up since then.
        if status == CHARGED:
            if self._lapse:
                self._lapses.add(handle, when)
        elif self._auto_charge:
            self._auto_charges.add(handle, when)
        return handle

    def _auto_charge_due(self, handle: int, stamp: int, due: int) -> None:
        if self.store.status[handle] != _NEW:
            return  # cancelled within the window
        action = AUTO_CHARGE
        rate = self.charge_failure_rate
        if rate and self._charge_fails(handle, rate):
            action = CHARGE_FAILS
        step = self._step((NEW, action, "houzz"))
        if not isinstance(step, Rejection):
            self._change(handle, step, action, "houzz", due)

    def _charge_fails(self, handle: int, rate: float) -> bool:
        """Whether this charge of the order fails: its draw is keyed by the order and the
        length of its history (each attempt follows a different history)."""
        store = self.store
        key = self.charges.key(store.ids[handle])
        return unit(key, 2 * store.history_length(handle)) < rate

    def _lapse_due(self, handle: int, stamp: int, due: int) -> None:
        if not self._still_charged(handle, stamp):
            return  # shipped, cancelled, or charged again since
        step = self._step((CHARGED, AUTHORIZATION_LAPSE, "houzz"))
        if not isinstance(step, Rejection):
            detail = f"not shipped within {self.authorization // 86400} days of the charge"
            self._change(handle, step, AUTHORIZATION_LAPSE, "houzz", due, detail)

    def perform(
        self,
        handle: int,
        action: str,
        actor: str,
        tracking: str,
        method: str,
        cancel_code: str,
        comments: str,
    ) -> Ack:
        """``actor`` performs ``action`` on the order ``handle``, if the table and the cancel
        window allow it; a Ship keeps ``tracking`` and ``method``, a Cancel its code and
        comments."""
        store = self.store
        if (
            action == self._cancel_action
            and actor in self._window_actors
            and self.clock.now - store.created[handle] >= self.cancel_window
        ):
            minutes = self.cancel_window // 60
            return Ack(False, f"the {actor} may cancel only within {minutes} minutes of ordering")
        status = STATUS_BY_CODE[store.status[handle]]
        key = (status, action, actor)
        step = self._steps.get(key)
        if step is None:
            if (status, action) in self._no_ops:
                # mark_step_done: no_op. Done already: Success, and nothing changes.
                if self.timeline is not None:
                    done = "already done: answered Success without a change"
                    self._tell(self.clock.now, store.ids[handle], actor, action, done, status)
                return _OK
            learnt = self._step(key)
            if isinstance(learnt, Rejection):
                return Ack(False, learnt.reason)
            step = learnt
        now = self.clock.now
        if (
            self._declines
            and action == CHARGE
            and self._charge_fails(handle, self.charge_failure_rate)
        ):
            declined = self._step((status, CHARGE_DECLINED, "houzz"))
            if not isinstance(declined, Rejection):
                self._change(handle, declined, CHARGE_DECLINED, "houzz", now, "card declined")
                return Ack(False, "the card was declined; the order is Failed to Charge")
        if action == SHIP:
            store.set_shipped(handle, _tracking_text(tracking), method)
        elif action == CANCEL:
            if cancel_code or comments:
                store.notes[handle] = (cancel_code, comments)
            else:
                store.notes.pop(handle, None)
        if self.timeline is None:
            self._change(handle, step, action, actor, now)
        else:
            detail = _detail(HouzzOrder(store, handle), action)
            self._change(handle, step, action, actor, now, detail)
        return _OK

    def _step(self, key: tuple[str, str, str]) -> _Step | Rejection:
        """The table's answer to (status, action, actor); allowed steps are remembered."""
        step = self._steps.get(key)
        if step is not None:
            return step
        status, action, actor = key
        dest = self.table.step(status, action, actor)
        if isinstance(dest, Rejection):
            return dest
        step = self._steps[key] = (
            dest,
            status_code(dest),
            history_code(actor, action, dest),
            self._heard.get(dest, ()),
        )
        return step

    def _change(
        self, handle: int, step: _Step, action: str, actor: str, at: int, detail: str = ""
    ) -> None:
        dest, dest_code, code, told = step
        store = self.store
        store.status[handle] = dest_code
        store.modified[handle] = at
        # OrderStore.record, inlined: this is the per-change hot path (16 = CODE_BITS:
        # tests/test_order_store.py checks).
        if not -TIME_LIMIT <= at < TIME_LIMIT:
            store.record(handle, at, code)  # raises, saying why
        log, last = store.log, store.last
        store.prev.append(last[handle])
        last[handle] = len(log)
        log.append((at << 16) | code)
        store.views[handle] = None
        index = self.index
        if index.by_modified:  # ListingIndex.add, inlined: this is the per-change hot path
            times, entries = index.times, index.entries
            if entries[-1] != handle or times[-1] != at:
                if times[-1] > at:
                    index.in_order = False
                times.append(at)
                entries.append(handle)
        index.last_listing = None  # a listing read before this change is out of date
        if dest_code == _CHARGED and self._lapse:
            self._lapses.add(handle, at)
        if self.timeline is not None:
            self._tell(at, store.ids[handle], actor, action, detail, dest)
        if told:
            order = HouzzOrder(store, handle)
            for notify in told:
                notify(order, action)

    def _tell(
        self, at: int, order_id: str, actor: str, action: str, detail: str, status: str
    ) -> None:
        timeline = self.timeline
        if timeline is not None and timeline.wants(order_id):
            timeline.add(Happening(at, order_id, actor, action, detail, status))
