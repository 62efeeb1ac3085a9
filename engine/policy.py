"""The policy: one Houzz cart's CartRover settings and the assumptions they rely on.

``PolicyFile`` is exactly the user-facing format (DESIGN.md "The policy file"); settings the
user leaves out take CartRover's defaults for the connection type and era, giving the
resolved, immutable ``Policy`` that the rules, the connector and the explorer read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    WithJsonSchema,
    create_model,
)

from houzzflow.engine.assumptions import About, default_register, fact_fields
from houzzflow.engine.limits import MAX_DURATION, MAX_DURATION_DIGITS
from houzzflow.engine.machine import Era, Program

OrderStatus = Literal["new", "in_production", "new_or_in_production", "charged"]
Habit = Literal["never", "always", "sometimes"]
CancelHabit = Literal["never", "sometimes"]

ORDER_STATUSES: tuple[OrderStatus, ...] = (
    "new",
    "in_production",
    "new_or_in_production",
    "charged",
)

# Which Houzz states each Order Status setting loads (engine/machine.yaml state names).
LOADS: dict[OrderStatus, frozenset[str]] = {
    "new": frozenset({"New"}),
    "in_production": frozenset({"InProduction"}),
    "new_or_in_production": frozenset({"New", "InProduction"}),
    "charged": frozenset({"Charged"}),
}

# CartRover's names for its settings and values, for messages in the user's words.
SETTING_NAMES: dict[str, str] = {
    "connection_type": "Connection Type",
    "order_status": "Order Status",
    "mark_processed": "Mark Orders as Processed",
    "mark_charged": "Mark Orders as Charged",
    "cancel_download": "Order Cancel Download",
    "poll_interval": "poll interval",
    "earliest_order_date": "Earliest Order Date",
}
STATUS_NAMES: dict[str, str] = {
    "new": "New",
    "in_production": "In Production",
    "new_or_in_production": "New or In Production",
    "charged": "Charged",
}
PROGRAM_NAMES: dict[str, str] = {"seller": "Houzz Seller", "vendor": "Houzz Vendor"}

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> int:
    """Seconds in ``30s``, ``15m``, ``4h``, ``2d`` (a bare integer is seconds)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 15m, 4h or 2d")
    if isinstance(value, int):
        seconds = value
    else:
        text = str(value)
        match = _DURATION.match(text) if len(text) <= 40 else None
        if not match:
            shown = repr(value) if len(text) <= 40 else f"a text of {len(text):,} characters"
            raise ValueError(f"expected a duration like 30s, 15m, 4h or 2d, not {shown}")
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > MAX_DURATION_DIGITS:
            raise ValueError(f"{match.group(1)[:12]}... is longer than any duration allowed")
        seconds = int(digits) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    if seconds > MAX_DURATION:
        # Every field has its own, smaller limit; this one keeps the arithmetic sane.
        shown = format_duration(seconds) if seconds < 10**15 else "it"
        raise ValueError(f"{shown} is longer than the 3650d limit")
    return seconds


def format_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _era(value: object) -> object:
    # `era: 2021` unquoted is an int in YAML; the user meant the era, not a number.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# The JSON Schema (for editors) describes what users write, not the parsed value: `15m` and
# an unquoted `era: 2021` are valid in a file although the model holds 900 and "2021".
_DURATION_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*[0-9]+\s*[smhd]\s*$"},
        {"type": "integer", "exclusiveMinimum": 0},
    ],
    "examples": ["30s", "15m", "4h", "2d"],
}
Duration = Annotated[int, BeforeValidator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
EraField = Annotated[Era, BeforeValidator(_era, json_schema_input_type=Era | Literal[2021])]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Credentials(_Strict):
    """Houzz Settings > API. Every value is a secret: never printed, logged or reported."""

    application_id: SecretStr | None = None
    username: SecretStr | None = None
    token: SecretStr | None = None


class StaffHabits(_Strict):
    """What staff do by hand in Houzz's seller UI."""

    process: Habit = "never"
    charge: Habit = "never"
    cancel: CancelHabit = "never"


def _facts_model(about: About, title: str) -> type[BaseModel]:
    """The ``assume.houzz`` / ``assume.cartrover`` section: each field pins one open question
    of the register to one alternative."""
    return create_model(title, __base__=_Strict, **fact_fields(about, pinned=True))


if TYPE_CHECKING:
    HouzzFacts = _Strict
    CartRoverFacts = _Strict
else:
    HouzzFacts = _facts_model("houzz", "HouzzFacts")
    CartRoverFacts = _facts_model("cartrover", "CartRoverFacts")


MAX_POLL_INTERVAL = 30 * 86400
MAX_SHIPS_WITHIN = 60 * 86400


def duration_schema(limit: int, *, zero: bool = False) -> WithJsonSchema:
    """The JSON Schema of a duration of at most ``limit`` seconds (0 allowed when ``zero``)."""
    low = {"minimum": 0} if zero else {"exclusiveMinimum": 0}
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[0-9]+\s*[smhd]\s*$"},
                {"type": "integer", **low, "maximum": limit},
            ],
            "description": f"a duration of at most {format_duration(limit)}",
            "examples": ["30s", "15m", "4h", "2d"],
        }
    )


def at_most(limit: int) -> AfterValidator:
    def check(seconds: int) -> int:
        if seconds > limit:
            raise ValueError(
                f"{format_duration(seconds)} is longer than the {format_duration(limit)} limit"
            )
        return seconds

    return AfterValidator(check)


class WarehouseFacts(_Strict):
    """What the merchant knows of the warehouse (WMS) the orders go to."""

    ships_within: Annotated[
        Duration, at_most(MAX_SHIPS_WITHIN), duration_schema(MAX_SHIPS_WITHIN)
    ] = Field(
        default=3 * 86400,
        description="the longest the warehouse takes to ship an order it received (at most 60d)",
    )


class Assumptions(_Strict):
    account: Program | None = Field(
        default=None, description="program the Houzz account is really in"
    )
    era: EraField = Field(default="2021", description='legacy (before 2021-09-01) or "2021"')
    staff: StaffHabits = StaffHabits()
    warehouse: WarehouseFacts = WarehouseFacts()
    houzz: HouzzFacts = Field(
        default_factory=HouzzFacts, description="open questions about Houzz you have confirmed"
    )
    cartrover: CartRoverFacts = Field(
        default_factory=CartRoverFacts,
        description="open questions about CartRover you have confirmed",
    )

    def pins(self) -> tuple[tuple[str, str], ...]:
        """The open questions this policy answers, as (assumption, alternative), sorted."""
        chosen = {**self.houzz.model_dump(), **self.cartrover.model_dump()}
        return tuple(sorted((k, v) for k, v in chosen.items() if v is not None))


class PolicyFile(_Strict):
    """One Houzz cart's CartRover settings, exactly as written in a policy file."""

    connection_type: Program = Field(description="seller | vendor: the Houzz program")
    order_status: OrderStatus | None = Field(
        default=None, description="status an order must have before CartRover loads it"
    )
    mark_processed: bool | None = Field(default=None, description="CartRover calls Process")
    mark_charged: bool | None = Field(default=None, description="CartRover calls Charge")
    cancel_download: bool = Field(default=True, description="Order Cancel Download")
    poll_interval: Annotated[
        Duration, at_most(MAX_POLL_INTERVAL), duration_schema(MAX_POLL_INTERVAL)
    ] = Field(default=900, description="30s, 15m, 4h, 2d (at most 30d)")
    earliest_order_date: dt.date | None = None
    credentials: Credentials | None = None
    assume: Assumptions = Assumptions()


@dataclass(frozen=True, slots=True)
class Policy:
    """A resolved policy: every setting has a value; hashable and cheap to compare."""

    connection_type: Program
    order_status: OrderStatus
    mark_processed: bool
    mark_charged: bool
    cancel_download: bool
    poll_interval: int
    account: Program
    era: Era
    staff_process: Habit
    staff_charge: Habit
    staff_cancel: CancelHabit
    earliest_order_date: dt.date | None = None
    ships_within: int = 3 * 86400  # the warehouse's longest delay from receipt to shipment
    # Open questions the policy answers (assume.houzz / assume.cartrover), sorted pairs.
    pins: tuple[tuple[str, str], ...] = ()
    # Settings the user wrote down (the rest are defaults); for messages and locations.
    explicit: frozenset[str] = frozenset()

    @property
    def pinned(self) -> dict[str, str]:
        return dict(self.pins)

    @property
    def charges_itself(self) -> bool:
        """True where Houzz charges orders without anyone's step (Vendor; 2021 Seller)."""
        return self.account == "vendor" or self.era == "2021"

    def settings(self) -> dict[str, Any]:
        """The CartRover settings (not the assumptions), as policy-file keys."""
        return {
            "connection_type": self.connection_type,
            "order_status": self.order_status,
            "mark_processed": self.mark_processed,
            "mark_charged": self.mark_charged,
            "cancel_download": self.cancel_download,
        }

    def with_settings(self, **changes: Any) -> Policy:
        return replace(self, explicit=self.explicit | set(changes), **changes)

    def to_file_dict(self) -> dict[str, Any]:
        """The policy as a policy-file mapping (no credentials), e.g. for saved scenarios."""
        data: dict[str, Any] = dict(self.settings())
        data["poll_interval"] = format_duration(self.poll_interval)
        if self.earliest_order_date:
            data["earliest_order_date"] = self.earliest_order_date.isoformat()
        data["assume"] = {
            "account": self.account,
            "era": self.era,
            "staff": {
                "process": self.staff_process,
                "charge": self.staff_charge,
                "cancel": self.staff_cancel,
            },
            "warehouse": {"ships_within": format_duration(self.ships_within)},
        }
        register = default_register().assumptions
        for about in ("houzz", "cartrover"):
            facts = {k: v for k, v in self.pins if register[k].about == about}
            if facts:
                data["assume"][about] = facts
        return data


def cartrover_defaults(connection_type: str, era: str) -> dict[str, Any]:
    """CartRover's defaults for a connection type and era (DOMAIN.md section 3).

    Where Houzz charges by itself (Vendor, 2021 Seller) CartRover loads Charged orders and
    offers no Mark step that could apply, so both default off.
    """
    if connection_type == "vendor" or era == "2021":
        return {"order_status": "charged", "mark_processed": False, "mark_charged": False}
    return {"order_status": "new_or_in_production", "mark_processed": True, "mark_charged": True}


def resolve(policy_file: PolicyFile) -> Policy:
    """Apply CartRover's defaults to the settings the user left out."""
    assume = policy_file.assume
    defaults = cartrover_defaults(policy_file.connection_type, assume.era)
    explicit = frozenset(policy_file.model_fields_set)
    if "assume" in explicit:
        explicit |= {f"assume.{k}" for k in assume.model_fields_set}
        explicit |= {f"assume.staff.{k}" for k in assume.staff.model_fields_set}

    def pick(name: str) -> Any:
        value = getattr(policy_file, name)
        return defaults[name] if value is None else value

    return Policy(
        connection_type=policy_file.connection_type,
        order_status=pick("order_status"),
        mark_processed=pick("mark_processed"),
        mark_charged=pick("mark_charged"),
        cancel_download=policy_file.cancel_download,
        poll_interval=policy_file.poll_interval,
        account=assume.account or policy_file.connection_type,
        era=assume.era,
        staff_process=assume.staff.process,
        staff_charge=assume.staff.charge,
        staff_cancel=assume.staff.cancel,
        earliest_order_date=policy_file.earliest_order_date,
        ships_within=assume.warehouse.ships_within,
        pins=assume.pins(),
        explicit=explicit,
    )
