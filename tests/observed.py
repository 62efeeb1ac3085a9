"""What a run leaves behind, made by hand: ``Observations`` for the invariants' own tests."""

from __future__ import annotations

from typing import Any

from houzzflow.engine.connector import ConnectorState
from houzzflow.engine.policy import PolicyFile, resolve
from houzzflow.simulator.runs.invariants import Observations


def end_state(**fields: Any) -> Observations:
    """The end of a run on ``houzz`` (a FakeHouzz): a legacy Seller cart with CartRover's
    defaults, three complete polls, nothing loaded or shipped, unless ``fields`` say."""
    houzz = fields.pop("houzz")
    base: dict[str, Any] = {
        "policy": resolve(PolicyFile(connection_type="seller", assume={"era": "legacy"})),
        "table": houzz.table,
        "orders": houzz.orders,
        "received": {},
        "shipped": {},
        "state": ConnectorState(),
        "poll_times": [0, 900, 1800],
        "earliest": None,
    }
    return Observations(**{**base, **fields})
