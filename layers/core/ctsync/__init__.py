"""ctsync: the shared core of the ClickTime <-> NetSuite sync.

Everything the Lambda functions do lives here: the NetSuite and ClickTime clients, the state store (mappings,
watermarks, leases, run log), the sync engine (poller and worker) and one module per record type. It imports
no simulator and no local tooling, and it runs without AWS when given fakes or moto.
"""
