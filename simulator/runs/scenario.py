"""Scenario files: a policy, a world, a seed, a duration, and what the run should show.

A scenario is a test written as data (DESIGN.md "The policy file" and "The simulator")::

    name: seller-default
    seed: 7
    duration: 2d
    policy: policies/seller-legacy-default.yaml     # or the policy inline, as a mapping
    world:
      houzz: {era: legacy}                          # program, era, window_field, ...
      orders: {count: 2000, cancel_probability: 0.02}
      backlog: {count: 20, within: 30d}             # orders already on Houzz at the start
      staff: {process: sometimes}                   # or {mode, probability, delay}
      backend: {ship_delay: [1h, 1d], packages: [1, 3]}
      faults: {error_rate: 0.05, crash_every_polls: 7}
    drain: 14d                                      # after the order stream: until settled
    expect: {lost: 0, duplicated: 0, alerts: ["held in Error"]}

Loading goes through ``engine.yamlsource`` so every mistake, in the scenario or in a policy
file it names, is reported with file:line:column; ``--set dotted.key=value`` overrides any
value (``policy.*`` reaches into a policy file the scenario names). Each expectation keeps
where it was written, so a failed one cites its line.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    create_model,
    model_validator,
)

from houzzflow.engine.assumptions import default_register, fact_fields
from houzzflow.engine.connector import DEFAULT_EPOCH
from houzzflow.engine.diagnostics import Diagnostic, InputError, Location, Severity
from houzzflow.engine.file_kind import wrong_kind
from houzzflow.engine.limits import (
    MAX_CALL_NUMBER,
    MAX_DELAY,
    MAX_ITEMS,
    MAX_LISTED_CALLS,
    MAX_ORDERS,
    MAX_PACKAGES,
    MAX_PAGE_SIZE,
    MAX_POLLS,
    MAX_RATE_PER_HOUR,
    MAX_RETRY_AFTER,
    MAX_RUN,
    Amount,
    Count,
    Probability,
    Seed,
)
from houzzflow.engine.machine import Era, Facts, Program
from houzzflow.engine.policy import (
    Duration,
    EraField,
    Policy,
    PolicyFile,
    at_most,
    duration_schema,
    format_duration,
    parse_duration,
)
from houzzflow.engine.validation import policy_from_doc
from houzzflow.engine.yamlsource import (
    NamedText,
    SourceDoc,
    apply_override,
    load_yaml_file,
    load_yaml_source,
    load_yaml_text,
    validate_model,
)


def _seconds(value: object) -> int:
    """A duration that may also be zero (the low end of a range), at most ``MAX_DELAY``."""
    if value == 0 and not isinstance(value, bool):
        return 0
    seconds = parse_duration(value)
    if seconds > MAX_DELAY:
        limit = format_duration(MAX_DELAY)
        raise ValueError(f"{format_duration(seconds)} is longer than the {limit} limit")
    return seconds


def _range(value: object) -> object:
    """``5m`` means exactly 5m; ``[5m, 2h]`` a uniform range."""
    if isinstance(value, list | tuple):
        return list(value)
    return [value, value]


def _int_range(value: object) -> object:
    if isinstance(value, list | tuple):
        return list(value)
    return [value, value]


# The JSON Schema (for editors) describes what users write, not the parsed value: `1h`, a
# range `[1h, 1d]` or one value for both ends, a count check like ">= 1".
_SECONDS_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*0*[1-9][0-9]*\s*[smhd]\s*$"},
        {"type": "integer", "minimum": 0, "maximum": MAX_DELAY},
    ],
    "examples": ["30s", "15m", "4h", "2d"],
    "description": f"a duration of at most {MAX_DELAY // 86400}d",
}


def _pair_schema(one: dict[str, Any]) -> dict[str, Any]:
    pair = {"type": "array", "prefixItems": [one, one], "minItems": 2, "maxItems": 2}
    return {"anyOf": [one, pair]}


Seconds = Annotated[int, BeforeValidator(_seconds), WithJsonSchema(_SECONDS_SCHEMA)]
SecondsRange = Annotated[
    tuple[Seconds, Seconds],
    BeforeValidator(_range),
    WithJsonSchema({**_pair_schema(_SECONDS_SCHEMA), "examples": ["5m", ["1h", "1d"]]}),
]


def _range_schema(limit: int) -> dict[str, Any]:
    one = {"type": "integer", "minimum": 0, "maximum": limit}
    return {**_pair_schema(one), "examples": [1, [1, 3]]}


# One count or a range ``[low, high]`` of counts, each a whole number up to its limit.
_Items = Annotated[int, Count(MAX_ITEMS)]
ItemsRange = Annotated[
    tuple[_Items, _Items], BeforeValidator(_int_range), WithJsonSchema(_range_schema(MAX_ITEMS))
]
_Packages = Annotated[int, Count(MAX_PACKAGES)]
PackagesRange = Annotated[
    tuple[_Packages, _Packages],
    BeforeValidator(_int_range),
    WithJsonSchema(_range_schema(MAX_PACKAGES)),
]
Rate = Probability


def _fraction_or_duration(value: object) -> object:
    """``place_within``: a share of the run (``0.6``) or a duration (``12h``)."""
    if isinstance(value, bool):
        raise ValueError("expected a share of the run (0.6) or a duration (12h)")
    if isinstance(value, str):
        return _seconds(value)
    if isinstance(value, int):
        if value == 1:
            return 1.0  # the whole run
        raise ValueError("write a share of the run (0.6) or a duration with its unit (12h)")
    return value


PlaceWithin = Annotated[
    float | int,
    BeforeValidator(_fraction_or_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                _SECONDS_SCHEMA["anyOf"][0],
            ],
            "description": "the share of the run (0.6) or the time from the start (12h) in "
            "which `count` orders are placed",
            "examples": [0.6, "12h"],
        }
    ),
]


def _ordered(low_high: tuple[int, int], what: str) -> tuple[int, int]:
    if low_high[0] > low_high[1]:
        raise ValueError(f"{what} is a range [low, high] with low <= high")
    return low_high


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _HouzzAccount(_Strict):
    """The Houzz account: its real program and era (default: the policy's assumptions), the
    share of charges that fail, and Houzz's answers to the register's open questions (each
    defaulting to the simulator's default, engine/assumptions.yaml)."""

    program: Program | None = None
    era: EraField | None = None
    charge_failure_rate: Rate = 0.0


class _CartRoverWorld(_Strict):
    """What CartRover really does where the sources are silent (engine/assumptions.yaml)."""


if TYPE_CHECKING:
    HouzzWorld = _HouzzAccount
    CartRoverWorld = _CartRoverWorld
else:
    HouzzWorld = create_model(
        "HouzzWorld", __base__=_HouzzAccount, **fact_fields("houzz", pinned=False)
    )
    CartRoverWorld = create_model(
        "CartRoverWorld", __base__=_CartRoverWorld, **fact_fields("cartrover", pinned=False)
    )


class BurstSpec(_Strict):
    at: Seconds = 0
    count: Annotated[int, Count(MAX_ORDERS)]


class OrdersSpec(_Strict):
    """The customers: how many orders, when, and what they do afterwards."""

    count: Annotated[int, Count(MAX_ORDERS)] | None = None
    # Poisson arrivals for the whole of ``duration`` (not only within ``place_within``).
    rate_per_hour: Annotated[float, Amount(MAX_RATE_PER_HOUR)] | None = None
    burst: BurstSpec | None = None
    items: ItemsRange = (1, 3)
    cancel_probability: Rate = 0.0
    fix_payment_probability: Rate = 1.0
    fix_payment_delay: SecondsRange = (3600, 86400)
    # ``count`` orders arrive within this share of the run, or this long from its start.
    place_within: PlaceWithin = 0.6

    @model_validator(mode="after")
    def _check(self) -> OrdersSpec:
        if isinstance(self.place_within, float) and not 0.0 < self.place_within <= 1.0:
            raise ValueError("place_within: a share of the run is more than 0 and at most 1")
        if isinstance(self.place_within, int) and self.place_within <= 0:
            raise ValueError("place_within: a duration is positive")
        if self.items[0] < 1:
            raise ValueError("items: an order has at least one item")
        _ordered(self.items, "items")
        _ordered(self.fix_payment_delay, "fix_payment_delay")
        return self


class BacklogSpec(_Strict):
    """Orders already on Houzz when CartRover is switched on (created in the past)."""

    count: Annotated[int, Count(MAX_ORDERS)]
    # created at random moments this long before the start
    within: Annotated[Duration, at_most(MAX_DELAY), duration_schema(MAX_DELAY)] = 30 * 86400


HabitMode = Literal["never", "always", "sometimes"]


def _habit_or_mode(schema: dict[str, Any]) -> None:
    # `process: sometimes` is shorthand for `process: {mode: sometimes}` (see _shorthand).
    spelled_out = dict(schema)
    schema.clear()
    mode = {"type": "string", "enum": list(get_args(HabitMode))}
    schema.update({"title": spelled_out.get("title", "HabitSpec"), "anyOf": [mode, spelled_out]})


class HabitSpec(_Strict):
    model_config = ConfigDict(json_schema_extra=_habit_or_mode)

    mode: HabitMode = "never"
    probability: Rate = 0.5
    delay: SecondsRange = (300, 7200)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        return {"mode": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> HabitSpec:
        _ordered(self.delay, "delay")
        return self


class StaffSpec(_Strict):
    """Staff by hand; a habit left out follows the policy's ``assume.staff``.

    ``resolve_errors``: whether (and how soon after a hold) a person resolves an order
    CartRover holds in Error, so that CartRover resends it; default never. It is a fact of
    the world, not a setting: the policy assumes nothing about it.
    """

    process: HabitSpec | None = None
    charge: HabitSpec | None = None
    cancel: HabitSpec | None = None
    resolve_errors: HabitSpec | None = None


class BackendSpec(_Strict):
    ship_delay: SecondsRange = (3600, 2 * 86400)
    packages: PackagesRange = (1, 1)
    refuse_cancel_after_ship: bool = True

    @model_validator(mode="after")
    def _check(self) -> BackendSpec:
        _ordered(self.ship_delay, "ship_delay")
        if self.packages[0] < 1:
            raise ValueError("packages: a shipment has at least one package")
        _ordered(self.packages, "packages")
        return self


class FaultsSpec(_Strict):
    error_rate: Rate = 0.0
    fail_calls: Annotated[
        tuple[Annotated[int, Count(MAX_CALL_NUMBER, 1)], ...], Field(max_length=MAX_LISTED_CALLS)
    ] = ()
    timeout_after_write_rate: Rate = 0.0
    rate_limit_rate: Rate = 0.0
    retry_after: Annotated[
        Seconds, at_most(MAX_RETRY_AFTER), duration_schema(MAX_RETRY_AFTER, zero=True)
    ] = 60
    page_drift_rate: Rate = 0.0
    crash_every_polls: Annotated[int, Count(MAX_CALL_NUMBER, 1)] | None = None
    seed: Seed = 0


# What each actor may do in a scripted world (a replayed counterexample).
SCRIPT_ACTIONS: dict[str, tuple[str, ...]] = {
    "customer": ("Place", "Cancel", "PaymentFixed"),
    "staff": ("Process", "Charge", "Cancel"),
    "houzz": ("AutoCharge", "ChargeFails", "ChargeDeclined", "AuthorizationLapse"),
    "backend": ("Ship",),
    "connector": ("Poll", "Confirm"),
}


class ScriptFault(_Strict):
    """A one-shot fault on CartRover's next write of this kind for this order, or the
    customer's card declined at CartRover's next Charge of it (``declined``)."""

    order: Annotated[int, Count(MAX_ORDERS, 1)]
    write: Literal["Process", "Charge", "Send", "Ship"]
    kind: Literal["transient", "lost", "declined"]

    @model_validator(mode="after")
    def _check(self) -> ScriptFault:
        if self.kind == "declined" and self.write != "Charge":
            raise ValueError("a card is declined at a Charge (write: Charge)")
        return self


class ScriptStep(_Strict):
    """One scripted event: at a simulated second, an actor does an action (to an order)."""

    at: Seconds
    actor: Literal["customer", "staff", "houzz", "backend", "connector"]
    action: str
    order: Annotated[int, Count(MAX_ORDERS, 1)] | None = None
    fault: ScriptFault | None = None

    @model_validator(mode="after")
    def _check(self) -> ScriptStep:
        allowed = SCRIPT_ACTIONS[self.actor]
        if self.action not in allowed:
            raise ValueError(
                f"{self.actor} cannot {self.action!r} in a script; expected one of "
                + ", ".join(allowed)
            )
        if self.order is None and self.action != "Poll":
            raise ValueError(f"{self.action} needs the order's number (order: 1, 2, ...)")
        if self.fault is not None and self.action not in ("Poll", "Confirm"):
            raise ValueError("a fault rides on CartRover's Poll or Confirm")
        return self


class WorldSpec(_Strict):
    houzz: HouzzWorld = Field(default_factory=HouzzWorld)
    cartrover: CartRoverWorld = Field(default_factory=CartRoverWorld)
    orders: OrdersSpec = OrdersSpec(count=100)
    backlog: BacklogSpec | None = None
    staff: StaffSpec = StaffSpec()
    backend: BackendSpec = BackendSpec()
    faults: FaultsSpec = FaultsSpec()
    # A script replaces the order stream, staff, Houzz's own clocks, the warehouse's
    # timing and CartRover's poll schedule: everything happens where the script says.
    script: tuple[ScriptStep, ...] = ()

    def answer(self, question: str) -> str:
        """This world's answer to one open question of the register."""
        return str(dict(self.facts())[question])

    def facts(self) -> Facts:
        """This world's answers to every open question of the register, sorted pairs."""
        answers = {**self.houzz.model_dump(), **self.cartrover.model_dump()}
        register = default_register().assumptions
        return tuple(sorted((k, v) for k, v in answers.items() if k in register))

    @model_validator(mode="after")
    def _check_script(self) -> WorldSpec:
        placed = 0
        last = -1
        for k, step in enumerate(self.script):
            if step.at < last:
                raise ValueError(f"script step {k + 1} is earlier than the step before it")
            last = step.at
            if step.action == "Place":
                placed += 1
                if step.order != placed:
                    raise ValueError(
                        f"script step {k + 1}: orders are numbered in placement order; "
                        f"this one is order {placed}"
                    )
            elif step.order is not None and step.order > placed:
                raise ValueError(f"script step {k + 1}: order {step.order} is not placed yet")
            if step.fault is not None and step.fault.order > placed:
                raise ValueError(f"script step {k + 1}: order {step.fault.order} is not placed")
        return self


DEFAULT_DRAIN = 14 * 86400
MAX_DRAIN = 60 * 86400


class ConnectorSpec(_Strict):
    """How the simulated CartRover pages and overlaps its polls."""

    page_size: Annotated[int, Count(MAX_PAGE_SIZE, 1)] = 1000
    overlap: Seconds | None = None  # default: one poll interval


# Overrides of these never appear in a report (credentials are secrets).
_SECRET_KEY = re.compile("credential|token|password|secret|username|application_id", re.I)
_COMPARISON = re.compile(r"^\s*(==|>=|<=|>|<)?\s*(\d+)\s*$")
_BETWEEN = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$")


def _count_check(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a count like 0, '>= 1' or '10..20'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a count is 0 or more")
        return value
    if isinstance(value, str) and (_COMPARISON.match(value) or _BETWEEN.match(value)):
        return value.strip()
    raise ValueError(f"expected a count like 0, '>= 1' or '10..20', not {value!r}")


_COUNT_CHECK_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {
            "type": "string",
            "pattern": r"^\s*((==|>=|<=|>|<)?\s*[0-9]+|[0-9]+\s*\.\.\s*[0-9]+)\s*$",
        },
    ],
    "examples": [0, ">= 1", "10..20"],
}
CountCheck = Annotated[
    int | str, BeforeValidator(_count_check), WithJsonSchema(_COUNT_CHECK_SCHEMA)
]


class ExpectSpec(_Strict):
    """Counts the run must show; only the ones written are checked."""

    lost: CountCheck | None = None
    duplicated: CountCheck | None = None
    unpaid_shipped: CountCheck | None = None
    cancelled_shipped: CountCheck | None = None
    unconfirmed: CountCheck | None = None
    unaccounted: CountCheck | None = None
    lost_silently: CountCheck | None = None
    held: CountCheck | None = None
    held_accounted: CountCheck | None = None
    stuck: CountCheck | None = None
    in_flight: CountCheck | None = None
    confirmed: CountCheck | None = None
    skipped_by_design: CountCheck | None = None
    loaded: CountCheck | None = None
    alerts: CountCheck | list[str] | None = None


def _as_written(value: object) -> object:
    return value


MarkName = Literal["skip", "xfail"]
MAX_SEEDS = 1000


class PytestSpec(_Strict):
    """How the pytest plugin runs the file (``houzzflow run`` ignores this section)."""

    marks: list[MarkName | dict[MarkName, str]] = Field(
        default_factory=list,
        max_length=2,
        description="skip or xfail, or {skip: reason} / {xfail: reason}",
    )
    seeds: list[Annotated[int, Field(ge=0, le=2**63 - 1)]] = Field(
        default_factory=list,
        max_length=MAX_SEEDS,
        description="run the scenario once per seed (one test each) instead of its seed",
    )

    @model_validator(mode="after")
    def _distinct(self) -> PytestSpec:
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds: each seed at most once")
        return self


class ScenarioFile(_Strict):
    """A scenario file exactly as written (the policy is checked on its own)."""

    name: str = Field(min_length=1)
    description: str = ""
    seed: Seed = 0
    duration: Annotated[Duration, at_most(MAX_RUN), duration_schema(MAX_RUN)]
    # Editors check an inline policy as a policy file; a string is a policy file's path.
    policy: Annotated[
        dict[str, Any] | str, BeforeValidator(_as_written, json_schema_input_type=PolicyFile | str)
    ]
    # The calendar date of simulated second 0: the day CartRover goes live.
    start: dt.date | None = Field(
        default=None,
        description="the calendar date the run starts on (go-live); default 2026-01-01, or "
        "the policy's Earliest Order Date when that is later",
    )
    world: WorldSpec = WorldSpec()
    connector: ConnectorSpec = ConnectorSpec()
    # After ``duration`` no order is placed, but the world goes on until every order has
    # settled, for at most this long (0: judge the run as the order stream leaves it).
    drain: Annotated[Seconds, at_most(MAX_DRAIN), duration_schema(MAX_DRAIN, zero=True)] = Field(
        default=DEFAULT_DRAIN,
        description=f"how long the world may go on after the order stream, until every order "
        f"has settled (at most {format_duration(MAX_DRAIN)})",
    )
    expect: ExpectSpec | None = None
    pytest: PytestSpec | None = None


EXPECT_KEYS = tuple(ExpectSpec.model_fields)
# Without an ``expect`` section a run must keep every invariant, and every order must settle.
DEFAULT_EXPECT = {
    "lost": 0,
    "duplicated": 0,
    "unpaid_shipped": 0,
    "cancelled_shipped": 0,
    "unconfirmed": 0,
    "unaccounted": 0,
    "stuck": 0,
}


@dataclass(frozen=True, slots=True)
class Expectation:
    key: str
    expected: int | str | list[str]
    location: Location
    # Not written in the file: every order must settle unless ``expect`` says otherwise.
    implied: bool = False
    # A violation a scripted world (a saved counterexample) exists to reproduce.
    reproduces: bool = False

    def describe(self) -> str:
        if isinstance(self.expected, list):
            return f"{self.key} include " + ", ".join(repr(s) for s in self.expected)
        tail = " (implied: every order settles)" if self.implied else ""
        if isinstance(self.expected, int):
            text = f"{self.key} = {self.expected}{tail}"
        else:
            text = f"{self.key} {self.expected}{tail}"
        if self.reproduces:
            text += " (else the counterexample no longer reproduces)"
        return text

    def met_by(self, count: int, messages: Sequence[str] = ()) -> bool:
        expected = self.expected
        if isinstance(expected, list):
            return all(any(s in m for m in messages) for s in expected)
        if isinstance(expected, int):
            return count == expected
        between = _BETWEEN.match(expected)
        if between:
            return int(between.group(1)) <= count <= int(between.group(2))
        match = _COMPARISON.match(expected)
        assert match is not None  # validated when loaded
        op, number = match.group(1) or "==", int(match.group(2))
        return {
            "==": count == number,
            ">=": count >= number,
            "<=": count <= number,
            ">": count > number,
            "<": count < number,
        }[op]


@dataclass(frozen=True)
class Scenario:
    """A loaded scenario: the file's data, the resolved policy, and where things are written."""

    file: str
    spec: ScenarioFile
    policy: Policy
    expectations: tuple[Expectation, ...]
    policy_doc: SourceDoc = field(repr=False)
    policy_at: tuple[str | int, ...] = ()
    overrides: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def shown_overrides(self) -> tuple[str, ...]:
        """The ``--set`` overrides as they may be printed: secrets masked."""
        return tuple(
            f"{text.partition('=')[0]}=***" if _SECRET_KEY.search(text.partition("=")[0]) else text
            for text in self.overrides
        )

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def start(self) -> dt.date:
        """The calendar date of simulated second 0 (go-live): as written, else the default
        epoch, moved to the policy's Earliest Order Date when that is later, so the orders of
        the run are not all before it."""
        if self.spec.start is not None:
            return self.spec.start
        eod = self.policy.earliest_order_date
        return max(DEFAULT_EPOCH, eod) if eod is not None else DEFAULT_EPOCH

    @property
    def duration(self) -> int:
        return self.spec.duration

    @property
    def drain(self) -> int:
        """How long the world may go on after the order stream (a scripted world does not:
        it has no clocks of its own, see ``world.script``)."""
        return 0 if self.spec.world.script else self.spec.drain

    @property
    def program(self) -> Program:
        return self.spec.world.houzz.program or self.policy.account

    @property
    def era(self) -> Era:
        return self.spec.world.houzz.era or self.policy.era


def split_override(text: str) -> tuple[str, str]:
    """``dotted.key=value`` as its two parts (the value is read as YAML later)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        message = f"'{text.split('=')[0]}...' is not dotted.key=value"
        fix = "write --set world.orders.count=100000, for example"
        raise InputError([Diagnostic("SET001", Severity.ERROR, message, Location("--set"), fix)])
    return key.strip(), value


def _override_texts(overrides: Sequence[str] | Mapping[str, Any]) -> list[str]:
    if isinstance(overrides, Mapping):
        return [
            f"{key}={value if isinstance(value, str) else json.dumps(value)}"
            for key, value in overrides.items()
        ]
    return list(overrides)


def load_scenario(
    source: str | Path | Mapping[str, Any] | NamedText,
    overrides: Sequence[str] | Mapping[str, Any] = (),
) -> Scenario:
    """Read, override and validate one scenario; InputError with every mistake found.

    ``source`` is a scenario file, or its content as a mapping (a policy path in it is then
    relative to the working directory). ``overrides`` are ``dotted.key=value`` texts, as
    ``--set`` takes them, or a mapping of dotted keys to values.
    """
    if isinstance(source, Mapping):
        doc = load_yaml_text(yaml.safe_dump(dict(source), sort_keys=False), "<scenario>")
    else:
        doc = load_yaml_source(source)
    mistaken = wrong_kind(doc.data, "scenario", doc.file)
    if mistaken is not None:
        raise InputError([mistaken])
    overrides = _override_texts(overrides)
    pairs = [split_override(text) for text in overrides]
    raw_policy = doc.data.get("policy") if isinstance(doc.data, dict) else None
    policy_pairs = []
    for key, value in pairs:
        if isinstance(raw_policy, str) and key.startswith("policy."):
            policy_pairs.append((key.removeprefix("policy."), value))
        else:
            doc = apply_override(doc, key, value)
    diagnostics: list[Diagnostic] = []
    spec: ScenarioFile | None = None
    try:
        spec = validate_model(doc, ScenarioFile)
    except InputError as exc:
        diagnostics += exc.diagnostics
    policy: Policy | None = None
    policy_doc: SourceDoc = doc
    policy_at: tuple[str | int, ...] = ("policy",)
    raw_policy = doc.data.get("policy") if isinstance(doc.data, dict) else None
    try:
        if isinstance(raw_policy, str):
            where = Path(doc.file).parent / raw_policy
            try:
                policy_doc = load_yaml_file(where)
            except InputError as exc:
                at = doc.locate(("policy",))
                raise InputError(
                    [
                        Diagnostic(
                            d.code,
                            d.severity,
                            f"{d.message} (the policy named at {at})",
                            d.location,
                            d.fix,
                        )
                        for d in exc.diagnostics
                    ]
                ) from None
            for key, value in policy_pairs:
                # Reported as the user wrote it: --set policy.order_status=..., not the key
                # inside the policy file.
                policy_doc = apply_override(policy_doc, key, value, shown=f"policy.{key}")
            policy_at = ()
            policy = policy_from_doc(policy_doc)
        elif isinstance(raw_policy, dict):
            policy = policy_from_doc(doc, policy_at)
    except InputError as exc:
        diagnostics += exc.diagnostics
    if diagnostics or spec is None or policy is None:
        raise InputError(_unique(diagnostics))
    over = over_budget(spec, policy.poll_interval, doc)
    if over:
        raise InputError(over)
    expect = spec.expect
    if expect is None:
        expectations = tuple(
            Expectation(key, value, doc.locate(())) for key, value in DEFAULT_EXPECT.items()
        )
    else:
        stated = [
            Expectation(
                key,
                getattr(expect, key),
                doc.locate(("expect", key), key=True),
                reproduces=_reproduces(spec, key, getattr(expect, key)),
            )
            for key in EXPECT_KEYS
            if getattr(expect, key) is not None
        ]
        # In the order they are written (an override's come after the file's).
        expectations = tuple(
            sorted(stated, key=lambda e: (e.location.line or 1 << 30, e.location.column))
        )
        if expect.stuck is None and not spec.world.script:
            at = doc.locate(("expect",), key=True)
            expectations += (Expectation("stuck", 0, at, implied=True),)
    return Scenario(
        file=doc.file,
        spec=spec,
        policy=policy,
        expectations=expectations,
        policy_doc=policy_doc,
        policy_at=policy_at,
        overrides=tuple(overrides),
    )


def declared_orders(spec: ScenarioFile) -> int:
    """The orders a run of ``spec`` places, as declared (a rate counts at its mean)."""
    o = spec.world.orders
    total = (o.count or 0) + (o.burst.count if o.burst else 0)
    total += spec.world.backlog.count if spec.world.backlog else 0
    if o.rate_per_hour:
        total += math.ceil(o.rate_per_hour * spec.duration / 3600)
    return total


def over_budget(spec: ScenarioFile, poll_interval: int, doc: SourceDoc) -> list[Diagnostic]:
    """LIMIT001 when the work a scenario declares passes a stated budget, said before the run
    starts: more orders than ``MAX_ORDERS`` in all, more polls than ``MAX_POLLS``, or
    ``count`` orders placed in a window longer than the run."""
    found = []
    orders = declared_orders(spec)
    if orders > MAX_ORDERS and not spec.world.script:
        message = (
            f"the run would place about {orders:,} orders (count, rate_per_hour over the "
            f"duration, burst and backlog together); the limit is {MAX_ORDERS:,}"
        )
        fix = "lower world.orders.count or rate_per_hour, or shorten duration"
        where = doc.locate(("world", "orders"), key=True)
        found.append(Diagnostic("LIMIT001", Severity.ERROR, message, where, fix))
    polls = (spec.duration + spec.drain) // poll_interval
    if polls > MAX_POLLS:
        message = (
            f"the run would poll about {polls:,} times (duration and drain over the policy's "
            f"poll_interval); the limit is {MAX_POLLS:,}"
        )
        where = doc.locate(("duration",), key=True)
        found.append(Diagnostic("LIMIT001", Severity.ERROR, message, where, "shorten duration"))
    within = spec.world.orders.place_within
    if isinstance(within, int) and within > spec.duration:
        message = (
            f"place_within {format_duration(within)} is longer than the run's duration "
            f"({format_duration(spec.duration)})"
        )
        where = doc.locate(("world", "orders", "place_within"))
        fix = "use a share of the run (0.6) or a shorter duration"
        found.append(Diagnostic("LIMIT001", Severity.ERROR, message, where, fix))
    return found


def _reproduces(spec: ScenarioFile, key: str, expected: object) -> bool:
    """Whether an expectation is the violation a scripted world replays (a counterexample
    saved by ``houzzflow validate``): then 0 means it no longer reproduces."""
    return bool(spec.world.script) and key in DEFAULT_EXPECT and expected == ">= 1"


def _unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for d in diagnostics:
        key = (d.code, str(d.location), d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
