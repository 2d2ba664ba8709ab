"""Server fixtures shared by the NetSuite simulator test modules."""

from tests.integration.simulators.netsuite_support import clock, make_server, ns, stopping

__all__ = ["clock", "make_server", "ns", "stopping"]
