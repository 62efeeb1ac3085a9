"""An order's customer details (name, address, items, totals), derived from its id number.

Derived, not stored: the same order always shows the same details, and a run of 100,000
orders does not hold 100,000 address dicts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One line of an order; Houzz's ``OrderItems`` fields Type, SKU, Quantity, Price,
    Shipping and Tax, in snake case."""

    type: str
    sku: str
    quantity: int
    price: Decimal
    shipping: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class OrderDetails:
    """What the customer ordered and where it goes (derived from the order id)."""

    customer_name: str
    address: tuple[tuple[str, str], ...]
    items: tuple[OrderItem, ...]
    order_total: Decimal
    flat_shipping: Decimal


_FIRST = ("Ava", "Ben", "Chloe", "Diego", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonah")
_LAST = ("Nguyen", "Smith", "Garcia", "Okafor", "Kowalski", "Patel", "Rossi", "Berg", "Kim")
_STREETS = ("Oak St", "Maple Ave", "Pine Rd", "Cedar Ln", "Elm St", "Lakeview Dr", "Hill Ct")
_PLACES = (
    ("Portland", "OR", "97201"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Raleigh", "NC", "27601"),
    ("Madison", "WI", "53703"),
    ("Boise", "ID", "83702"),
)
_PRODUCTS = (
    ("LAMP-ARC-BRS", Decimal("189.00")),
    ("RUG-5X8-IVY", Decimal("249.50")),
    ("STOOL-OAK-24", Decimal("129.99")),
    ("MIRROR-RND-30", Decimal("159.00")),
    ("VASE-CER-LG", Decimal("45.25")),
    ("SCONCE-BLK-2", Decimal("98.40")),
)
_CENT = Decimal("0.01")
_TAX_RATE = Decimal("0.0725")


@lru_cache(maxsize=4096)
def order_details(number: int, item_count: int) -> OrderDetails:
    """The customer, address and items of the order with this id number (deterministic)."""
    rng = random.Random(number)
    city, state, zip_code = rng.choice(_PLACES)
    address = (
        ("Address", f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)}"),
        ("Address1", f"Apt {rng.randrange(1, 400)}" if rng.random() < 0.3 else ""),
        ("City", city),
        ("State", state),
        ("Zip", zip_code),
        ("Country", "US"),
        ("Phone", f"555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"),
    )
    items = []
    for _ in range(item_count):
        sku, price = rng.choice(_PRODUCTS)
        quantity = rng.randrange(1, 4)
        shipping = Decimal(rng.choice((0, 0, 995, 1495))) / 100
        tax = (price * quantity * _TAX_RATE).quantize(_CENT)
        items.append(OrderItem("Product", sku, quantity, price, shipping, tax))
    flat_shipping = Decimal(rng.choice((0, 0, 0, 2500))) / 100
    total = sum((i.price * i.quantity + i.shipping + i.tax for i in items), Decimal(0))
    return OrderDetails(
        customer_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        address=address,
        items=tuple(items),
        order_total=(total + flat_shipping).quantize(_CENT),
        flat_shipping=flat_shipping.quantize(_CENT),
    )
