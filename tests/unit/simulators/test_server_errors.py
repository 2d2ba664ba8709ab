"""The simulators' HTTP server prints no traceback for a client that went away (found on the demo's console in a
fresh clone: a `ConnectionResetError` from a kept-alive connection the client had reset), and still prints one for
anything else, which would be a simulator bug."""

from __future__ import annotations

import pytest

from simulators.clicktime import ClickTimeSimulator
from simulators.common.server import SimulatorServer


def handle_error_during(error: BaseException) -> None:
    server = SimulatorServer(ClickTimeSimulator())
    try:
        try:
            raise error
        except BaseException:
            server._httpd.handle_error(None, ("127.0.0.1", 50000))
    finally:
        server._httpd.server_close()


@pytest.mark.parametrize(
    "error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe"), ConnectionAbortedError()]
)
def test_a_client_that_went_away_prints_nothing(capsys, error) -> None:
    handle_error_during(error)
    assert capsys.readouterr().err == ""


def test_a_simulator_bug_is_still_printed(capsys) -> None:
    handle_error_during(ValueError("a bug"))
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: a bug" in err
