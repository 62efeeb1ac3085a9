"""The conformance battery as data: worlds to drive a connector under test through.

A world (``World``) is read from YAML (``worlds.yaml`` beside this module is the built-in
battery; ``houzzflow conformance --worlds FILE`` takes another, checked like every input
file: each mistake with its file:line:column). ``stage`` sets a harness up for a world: it
schedules the orders' placements and the acts staff and customers perform on them, and
adds the world's fault rules, so everything happens on the simulated clock as the driver
advances it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from houzzflow.engine.machine import Era, Program
from houzzflow.engine.policy import Duration, at_most, format_duration
from houzzflow.engine.yamlsource import load_yaml_file, load_yaml_text, validate_model
from houzzflow.simulator.harness import FaultKind, HarnessConfig, HouzzHarness, Operation
from houzzflow.simulator.judge.warehouse import MAX_PACKAGES, MAX_SHIP_DELAY, WarehouseConfig

MAX_ORDERS = 2_000  # orders one world places
MAX_WORLDS = 100
MAX_SPAN = 30 * 86400  # the longest a world may last
Span = Annotated[Duration, at_most(MAX_SPAN)]
ShipDelay = Annotated[Duration, at_most(MAX_SHIP_DELAY)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrdersSpec(_Strict):
    count: int = Field(ge=0, le=MAX_ORDERS, description="orders placed")
    within: Span = Field(default=3600, description="spread evenly over this long from the start")
    items: int = Field(default=1, ge=1, le=50, description="items per order")


class ActSpec(_Strict):
    orders: list[Annotated[int, Field(ge=0, lt=MAX_ORDERS)]] = Field(
        description="which orders (0 is the first placed)", max_length=MAX_ORDERS
    )
    after: Span = Field(description="how long after the order is placed")
    action: str = Field(min_length=1, max_length=40, description="Process, Charge, Cancel...")
    actor: Literal["staff", "customer", "houzz"] = "staff"


class FaultSpec(_Strict):
    kind: FaultKind
    operation: Operation = "any"
    call: int | None = Field(default=None, ge=1)
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    times: int | None = Field(default=None, ge=1, le=100_000)
    retry_after: int = Field(default=30, ge=0, le=86400)
    status: int = Field(default=503, ge=500, le=599)


class WarehouseSpec(_Strict):
    ships: bool = True
    ship_delay: tuple[ShipDelay, ShipDelay] = (3600, 4 * 3600)
    packages: tuple[
        Annotated[int, Field(ge=1, le=MAX_PACKAGES)], Annotated[int, Field(ge=1, le=MAX_PACKAGES)]
    ] = (1, 1)


class World(_Strict):
    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    about: str = Field(default="", max_length=200)
    program: Program
    era: Era
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    orders: OrdersSpec
    acts: list[ActSpec] = Field(default_factory=list, max_length=1000)
    faults: list[FaultSpec] = Field(default_factory=list, max_length=100)
    warehouse: WarehouseSpec = WarehouseSpec()
    poll_interval: Annotated[Duration, at_most(86400)] = Field(default=1800, ge=60)
    duration: Span = Field(default=12 * 3600, description="how long the connector runs")

    def describe(self) -> str:
        return (
            f"{self.program} {self.era}, {self.orders.count} orders, polls every "
            f"{format_duration(self.poll_interval)} for {format_duration(self.duration)}"
        )


class Battery(_Strict):
    worlds: list[World] = Field(min_length=1, max_length=MAX_WORLDS)


BUILT_IN = "worlds.yaml"


def load_battery(path: str | Path | None = None) -> list[World]:
    """The worlds of ``path`` (the built-in battery when None); ``InputError`` with every
    mistake, located, when the file is unusable."""
    if path is None:
        text = resources.files(__package__).joinpath(BUILT_IN).read_text(encoding="utf-8")
        doc = load_yaml_text(text, BUILT_IN)
    else:
        doc = load_yaml_file(path)
    battery = validate_model(doc, Battery)
    names = [world.name for world in battery.worlds]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"world names must be unique: {', '.join(duplicated)}")
    return battery.worlds


def world_config(world: World) -> HarnessConfig:
    """The harness configuration of a world (its orders and acts come with ``stage``)."""
    w = world.warehouse
    return HarnessConfig(
        program=world.program,
        era=world.era,
        seed=world.seed,
        warehouse=WarehouseConfig(ships=w.ships, ship_delay=w.ship_delay, packages=w.packages),
    )


def stage(harness: HouzzHarness, world: World) -> None:
    """Schedule the world's orders and acts on the harness's clock, and add its faults."""
    for spec in world.faults:
        harness.add_fault(
            spec.kind,
            operation=spec.operation,
            call=spec.call,
            probability=spec.probability,
            times=spec.times,
            retry_after=spec.retry_after,
            status=spec.status,
        )
    acts: dict[int, list[ActSpec]] = {}
    for act in world.acts:
        for index in act.orders:
            acts.setdefault(index, []).append(act)
    count = world.orders.count
    for index in range(count):
        at = harness.now + (world.orders.within * index) // max(count, 1)
        harness.clock.at(at, _Place(harness, world.orders.items, acts.get(index, [])))


class _Place:
    """Places one order when the clock gets there, and plans what is done to it."""

    def __init__(self, harness: HouzzHarness, items: int, acts: list[ActSpec]) -> None:
        self.harness = harness
        self.items = items
        self.acts = acts

    def __call__(self) -> None:
        order_id = self.harness.place_order(items=self.items)
        for act in self.acts:
            self.harness.act_at(self.harness.now + act.after, order_id, act.action, act.actor)
