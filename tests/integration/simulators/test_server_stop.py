"""A stopped simulator answers nothing more, not even on a connection a client kept alive.

`SimulatorServer.stop` stopped accepting but left each kept-alive connection served by its handler thread. A client
whose pool held such a connection (the product's clients keep one `requests.Session` per process, as on Lambda)
was still answered by the stopped simulator — even after a new simulator took the same port, so a test's requests
reached an earlier test's simulator (seen in CI: a later test's run met an earlier test's hand-made ClickTime client).
Failed before the fix."""

from __future__ import annotations

import requests

from simulators.common.server import App, Response, SimulatorServer


def app_saying(word: str) -> App:
    app = App()

    @app.route("GET", "/who")
    def who(_request):  # noqa: ANN001, ANN202
        return Response(200, {"who": word})

    return app


def test_a_kept_alive_connection_is_not_answered_by_a_stopped_simulator_on_the_same_port():
    client = requests.Session()
    first = SimulatorServer(app_saying("first")).start()
    url = first.url
    assert client.get(f"{url}/who", timeout=5).json() == {"who": "first"}  # the connection stays in the pool
    port = int(url.rsplit(":", 1)[1])
    first.stop()

    second = SimulatorServer(app_saying("second"), port=port).start()
    try:
        assert client.get(f"{url}/who", timeout=5).json() == {"who": "second"}
    finally:
        second.stop()
        client.close()
