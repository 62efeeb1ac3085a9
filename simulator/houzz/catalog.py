"""``FakeHouzz.orders``: the store's orders by id, as a read-only mapping of ``HouzzOrder``
views (one made for each order asked for).

Kept apart from ``orders.py``: a compiled build compiles that module's classes as native
classes, which cannot derive from ``collections.abc.Mapping``; this one stays a Python class.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from houzzflow.simulator.houzz.orders import HouzzOrder, OrderStore


class Orders(Mapping[str, HouzzOrder]):
    """Every order of ``store`` by order id, in the order they were placed."""

    __slots__ = ("store",)

    def __init__(self, store: OrderStore) -> None:
        self.store = store

    def __getitem__(self, order_id: str) -> HouzzOrder:
        handle = self.store.find(order_id) if isinstance(order_id, str) else -1
        if handle < 0:
            raise KeyError(order_id)
        return HouzzOrder(self.store, handle)

    def get(self, order_id: str, default: HouzzOrder | None = None) -> HouzzOrder | None:  # type: ignore[override]
        handle = self.store.find(order_id) if isinstance(order_id, str) else -1
        return default if handle < 0 else HouzzOrder(self.store, handle)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self.store

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.ids)

    def __len__(self) -> int:
        return len(self.store.ids)

    def __repr__(self) -> str:
        return f"<{len(self)} Houzz orders>"
