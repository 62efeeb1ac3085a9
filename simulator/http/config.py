"""How the fake Houzz is served: ``ServerConfig`` and its defaults.

Apart from ``server.py`` so that the endpoints, the journal and the dispatcher can read it
without importing the HTTP layer that imports them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from houzzflow.engine.machine import Era, Facts, Program
from houzzflow.simulator.harness import HarnessConfig
from houzzflow.simulator.houzz import wire
from houzzflow.simulator.houzz.state import WindowField
from houzzflow.simulator.judge.warehouse import WarehouseConfig
from houzzflow.simulator.kernel.faults import FaultPlan
from houzzflow.simulator.kernel.pace import WallPace

DEFAULT_TOKEN = "houzzflow-token"
DEFAULT_USERNAME = "seller@example.com"
DEFAULT_APP_NAME = "houzzflow"
MAX_BODY = 1 << 20  # bytes in one request body
JOURNAL_LIMIT = 10_000  # entries kept; older ones are dropped (and counted)


@dataclass(frozen=True)
class ServerConfig:
    """How to serve: where, which Houzz world, and the credentials clients must send."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: the system picks a free port (see ``RunningServer.port``)
    program: Program = "seller"
    era: Era = "2021"
    seed: int = 0
    token: str = field(default=DEFAULT_TOKEN, repr=False)
    username: str = DEFAULT_USERNAME
    app_name: str = DEFAULT_APP_NAME
    epoch: dt.datetime = wire.DEFAULT_EPOCH
    window_field: WindowField | None = None  # None: the facts' answer (default modified)
    connection: Program | None = None
    faults: FaultPlan | None = None
    charge_failure_rate: float = 0.0
    facts: Facts = ()  # Houzz's answers to the register's open questions
    max_body: int = MAX_BODY
    journal_limit: int = JOURNAL_LIMIT
    # Required by the admin API when set (and to serve beyond loopback); see admin_guard.
    admin_token: str = field(default="", repr=False)
    warehouse: WarehouseConfig | None = None  # how the fake plays the connector's warehouse
    # Wall-clock mode: simulated seconds per real second (None: simulated time moves only
    # when told to); ``wall`` is the real clock (injected by tests).
    clock_speed: float | None = None
    wall: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def wall_pace(self) -> WallPace | None:
        """The pace simulated time keeps in wall-clock mode (None otherwise)."""
        return None if self.clock_speed is None else WallPace(self.clock_speed, self.wall)

    def harness_config(self) -> HarnessConfig:
        return HarnessConfig(
            program=self.program,
            era=self.era,
            seed=self.seed,
            epoch=self.epoch,
            window_field=self.window_field,
            connection=self.connection,
            faults=self.faults,
            charge_failure_rate=self.charge_failure_rate,
            facts=self.facts,
            warehouse=self.warehouse,
        )
