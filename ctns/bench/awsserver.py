"""The AWS side of the benchmark: a moto server in a process of its own, counting every call it serves.

Execution environments run as separate processes, so AWS has to be a server they all reach
(`AWS_ENDPOINT_URL`), as DynamoDB and SQS are for Lambda. The server serves one request at a time (each
real DynamoDB or SQS request is atomic; moto's backends are not thread-safe) and counts each request by
who made it, service and operation, and how long it was busy answering (in all and per operation). Its
DynamoDB `Query` reads one partition, as DynamoDB's does, not every item of the table as moto's would
(`ctns.bench.dynamodb_cost`), and its item operations' answers are written with one `json.dumps`, as plain as
DynamoDB's, not value by value through moto's serializer (`ctns.bench.dynamodb_answers`). Who: the benchmark's
own clients tag their user agent (`ctns-bench/<who>`: the event source mapping it plays, its own reads); every
other request is the functions'.

`python -m ctns.bench.awsserver` prints the port it listens on, then serves until killed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from typing import Any

from ctns.bench import dynamodb_answers, dynamodb_cost
from ctns.motoserver import OneAtATime, make_moto_server, moto_app

TAG = "ctns-bench/"
BUSY = ("server", "busy", "microseconds")
BUSY_BY_OPERATION = "server-busy-microseconds"
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def who(user_agent: str) -> str:
    """`function` unless the benchmark tagged the client (botocore Config user_agent_extra)."""
    if TAG in user_agent:
        return user_agent.split(TAG, 1)[1].split()[0]
    return "function"


def operation(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, operation) from the request's signature scope and X-Amz-Target (JSON protocols)."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    service = scope.group(1) if scope else "?"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return service, target.rsplit(".", 1)[-1] if target else environ.get("REQUEST_METHOD", "?")


class CountingApp(OneAtATime):
    """One request at a time (see `ctns.motoserver`), each counted; `/__bench__/counts` answers the counts."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/__bench__/counts":
            with self.lock:
                rows = [[w, s, o, n] for (w, s, o), n in sorted(self.counts.items())]
            body = json.dumps(rows).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        service, op = operation(environ)
        with self.lock:
            started = time.perf_counter()
            self.counts[(who(environ.get("HTTP_USER_AGENT", "")), service, op)] += 1
            response = list(self.app(environ, start_response))
            # How long the server was busy, as a count (whole microseconds): one request at a time, so past
            # a share of a drain near 1 the drain's pace is this server's, not the product's.
            spent = int((time.perf_counter() - started) * 1_000_000)
            self.counts[BUSY] += spent
            self.counts[(BUSY_BY_OPERATION, service, op)] += spent
            return response


def _cheap_sqs_sends_and_receives() -> None:
    """Moto's SendMessage reads the queue's `attributes` once, and its ReceiveMessage three times per message it
    hands out (for MessageRetentionPeriod). Those `attributes` count every message of the queue, twice each, for
    the three ApproximateNumberOfMessages figures: a send or a receive costs O(queue length), a poller enqueueing
    100,000 projects takes hours, and a batch received from the 2,000 timesheets of 20,000 time entries took
    a second. Neither reads those counts: while one runs, they are left uncounted (0). GetQueueAttributes still
    counts them."""
    from moto.sqs import models

    quiet = threading.local()
    for name in (
        "approximate_number_of_messages",
        "approximate_number_of_messages_delayed",
        "approximate_number_of_messages_not_visible",
    ):
        counted = getattr(models.Queue, name).fget

        def count(queue: Any, counted: Any = counted) -> int:
            return 0 if getattr(quiet, "now", False) else counted(queue)

        setattr(models.Queue, name, property(count))

    def without_counts(operation: Any) -> Any:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            quiet.now = True
            try:
                return operation(self, *args, **kwargs)
            finally:
                quiet.now = False

        return run

    models.SQSBackend.send_message = without_counts(models.SQSBackend.send_message)  # type: ignore[method-assign]
    models.SQSBackend.receive_message = without_counts(models.SQSBackend.receive_message)  # type: ignore[method-assign]


def serve(port: int = 0) -> None:
    _cheap_sqs_sends_and_receives()
    dynamodb_cost.install()
    dynamodb_answers.install()
    server = make_moto_server(CountingApp(moto_app()), port)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class AwsServer:
    """The moto server process; `counts()` is a snapshot to subtract."""

    def __init__(self, log_path: str | None = None) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> AwsServer:
        log = open(self.log_path or os.devnull, "a")  # noqa: SIM115 - kept open for the child's life
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ctns.bench.awsserver"], stdout=subprocess.PIPE, stderr=log, text=True
        )
        assert self.process.stdout is not None
        port = int(self.process.stdout.readline().strip())
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (user + system, from /proc; 0 where there is none)."""
        if self.process is None:
            return 0.0
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> AwsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every resource (a fresh account for the next session); the counts go on."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=30).read()

    def counts(self) -> Counts:
        with urllib.request.urlopen(f"{self.url}/__bench__/counts", timeout=30) as response:
            return Counts({(w, s, o): n for w, s, o, n in json.loads(response.read())})

    def environment(self) -> dict[str, str]:
        """What a process needs to reach this server as its AWS."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


class Counts(dict[tuple[str, str, str], int]):
    def __sub__(self, other: Counts) -> Counts:
        return Counts({k: v - other.get(k, 0) for k, v in self.items() if v - other.get(k, 0)})

    def total(self, *, who: str | None = "function", service: str | None = None) -> int:
        return sum(
            n for (w, s, _), n in self.items() if (who is None or w == who) and (service is None or s == service)
        )

    def busy_seconds(self) -> float:
        """How long the server spent answering requests (one at a time)."""
        return self.get(BUSY, 0) / 1_000_000

    def busy_seconds_by_operation(self) -> dict[str, float]:
        """How long the server spent answering each service's operation, largest first."""
        spent = {f"{s}:{o}": n / 1_000_000 for (w, s, o), n in self.items() if w == BUSY_BY_OPERATION}
        return {k: round(v, 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}

    def by_operation(self, *, who: str = "function", service: str | None = None) -> dict[str, int]:
        out: Counter[str] = Counter()
        for (w, s, o), n in self.items():
            if w == who and (service is None or s == service):
                out[f"{s}:{o}"] += n
        return dict(sorted(out.items()))


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{url}/__bench__/counts", timeout=5).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
