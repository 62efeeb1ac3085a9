"""Houzz's status and action names, spelled as in ``engine/machine.yaml``."""

from __future__ import annotations

# Canonical Houzz statuses.
NEW = "New"
IN_PRODUCTION = "InProduction"
CHARGED = "Charged"
SHIPPED = "Shipped"
CANCELLED = "Cancelled"
FAILED_TO_CHARGE = "FailedToCharge"

# Actions, plus Place and the PageDrift touch, which are not lifecycle transitions but
# appear in an order's history.
PLACE = "Place"
PROCESS = "Process"
CHARGE = "Charge"
SHIP = "Ship"
CANCEL = "Cancel"
AUTO_CHARGE = "AutoCharge"
CHARGE_FAILS = "ChargeFails"
CHARGE_DECLINED = "ChargeDeclined"
PAYMENT_FIXED = "PaymentFixed"
AUTHORIZATION_LAPSE = "AuthorizationLapse"
PAGE_DRIFT = "PageDrift"
