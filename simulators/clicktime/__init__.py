"""ClickTime REST API v2 simulator (see simulators/README.md, "ClickTime simulator contract")."""

from simulators.clicktime.app import ClickTimeSimulator
from simulators.clicktime.seeding import SeededIds

__all__ = ["ClickTimeSimulator", "SeededIds"]
