"""Execution environments as processes, fed by the SQS event source mapping as Lambda feeds them.

The local runner (`ctns.runner`) runs every execution environment as a thread of one process against
in-process moto behind one lock: at a few workers one core is saturated and the figures measure the runner.
Here each of a worker's W concurrent execution environments is a fresh interpreter that loads the
function's handler the way Lambda does (its code folder and layers on `sys.path`, its environment
variables set) and then runs the events it is handed, one at a time. The event source mapping stays
outside the environments, as in Lambda: one thread per environment in the benchmark's process receives up
to the template's batch size, invokes, deletes what succeeded and makes the partial batch failures visible
again; its SQS client is tagged, so its calls are not counted as the function's. AWS is the moto server
every process reaches (`ctns.bench.awsserver`). The mapping stops when the queue holds nothing visible, in
flight or delayed, twice in a row.

The poller still runs in the benchmark's process through the local runner (one invocation at a time, as
the schedule and its lease allow); what it enqueues is drained by the fleet.

`python -m ctns.bench.environments` is one environment: its spec is a JSON line on stdin; it answers
`ready` (with its init time) on the pipe it is given, then one answer per event line, and its own figures
after `stop`. It imports nothing heavy before the handler: the init time is the handler's.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ctns.bench import timeline


class Context:
    """The attributes Powertools and the core read from Lambda's context."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.function_name = spec["function_name"]
        self.invoked_function_arn = spec["function_arn"]
        self.memory_limit_in_mb = 512
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec['function_name']}"
        self.log_stream_name = "bench"
        self._deadline = time.monotonic() + spec["timeout"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_handler(spec: dict[str, Any]) -> Any:
    sys.path.insert(0, spec["code_dir"])
    for layer in spec["layer_dirs"]:
        if layer not in sys.path:
            sys.path.append(layer)
    module_file, name = spec["handler"].rsplit(".", 1)
    path = os.path.join(spec["code_dir"], module_file.replace(".", "/") + ".py")
    module_spec = importlib.util.spec_from_file_location(module_file, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_file] = module
    module_spec.loader.exec_module(module)
    return getattr(module, name)


def _record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "bench"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType", "String")}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }


# What a worker builds on its first invocation (config, secrets, clients, stores), built before the clock
# starts: the fleet's throughput is then the steady state's; the import and this are reported as the cold start.
WARM = {
    "worker": ("config", "netsuite", "clicktime", "mappings", "progress", "runlog", "worker", "apply_once"),
    "poller": ("config", "netsuite", "clicktime", "mappings", "progress", "runlog", "definition", "work_queue"),
}


def _warm_up(role: str) -> None:
    try:
        from ctsync import runtime

        current = runtime.current()
        for name in WARM[role]:
            getattr(current, name, None)
    except Exception:  # noqa: BLE001 - best effort: the first invocation builds whatever is left
        pass


def environment_main() -> None:
    spec = json.loads(sys.stdin.readline())
    report = os.fdopen(spec["report_fd"], "w", buffering=1)
    os.environ.update(spec["env"])
    modules_before = len(sys.modules)
    wall, cpu = time.perf_counter(), time.process_time()
    handler = _load_handler(spec)
    init = {
        "init_seconds": time.perf_counter() - wall,
        "init_cpu_seconds": time.process_time() - cpu,
        "modules_at_init": len(sys.modules) - modules_before,
    }
    started, cpu = time.perf_counter(), time.process_time()
    _warm_up(spec.get("role", "worker"))
    init["warm_up_seconds"] = time.perf_counter() - started
    init["warm_up_cpu_seconds"] = time.process_time() - cpu
    timeline.install()  # after the init's figures: they are the handler's alone
    report.write(json.dumps({"ready": init}) + "\n")
    durations: list[float] = []
    modules_after_first = None
    cpu = time.process_time()
    for line in sys.stdin:
        if line.strip() == "stop":
            break
        started = time.perf_counter()
        try:
            response = handler(json.loads(line), Context(spec))
            answer = {"response": response}
        except Exception as error:  # noqa: BLE001 - a failed invocation, reported as Lambda would
            answer = {"error": f"{type(error).__name__}: {error}"}
        ended = time.perf_counter()
        durations.append(ended - started)
        timeline.invoked(started, ended)
        if modules_after_first is None:
            modules_after_first = len(sys.modules)
        report.write(json.dumps(answer, default=str) + "\n")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report.write(
        json.dumps(
            {
                "done": {
                    "invocations": len(durations),
                    "cpu_seconds": time.process_time() - cpu,
                    "invoke_seconds": sum(durations),
                    "first_invocation_seconds": durations[0] if durations else None,
                    "warm_invocation_median_seconds": statistics.median(durations[1:]) if len(durations) > 1 else None,
                    "modules_imported_by_first_invocation": (modules_after_first or len(sys.modules))
                    - modules_before
                    - init["modules_at_init"],
                    "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
                    "timeline": timeline.summary(),
                    **init,
                }
            }
        )
        + "\n"
    )


@dataclass
class Environment:
    process: subprocess.Popen[str]
    report: Any  # the pipe's reading end
    ready: dict[str, Any] = field(default_factory=dict)
    done: dict[str, Any] = field(default_factory=dict)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        line = self.report.readline()
        if not line:
            raise RuntimeError("the execution environment died")
        return json.loads(line)

    def stop(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        line = self.report.readline()
        self.process.wait()
        self.report.close()
        self.done = json.loads(line)["done"] if line else {}
        return self.done


@dataclass
class Drained:
    seconds: float = 0.0
    invocations: int = 0
    delivered: int = 0
    batch_item_failures: int = 0
    environments: list[dict[str, Any]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)  # every message body delivered, in order (to deliver again)
    errors: list[str] = field(default_factory=list)  # what the invocations that failed as a whole raised


class DrainFailed(RuntimeError):
    """An invocation of the worker failed as a whole (its handler raised: an import error, a broken build), so the
    drain measured nothing. The message names the first error and the functions' log."""


IDLE_PAUSE_SECONDS = (0.02, 0.32)  # an idle poller's first pause, doubled up to the last


class Fleet:
    """W execution environments of one worker function, started together, then fed by the event source
    mapping (one thread per environment here, AWS's pollers in Lambda) until the queue is empty."""

    def __init__(self, spec: dict[str, Any], size: int, log_path: str, sqs: Any) -> None:
        self.spec = spec
        self.size = size
        self.log_path = log_path
        self.sqs = sqs  # tagged as the ESM's: its calls are not the function's
        self.environments: list[Environment] = []

    def start(self) -> Fleet:
        with open(self.log_path, "a") as log:  # the children's stdout and stderr: the functions' logs
            for _ in range(self.size):
                read_fd, write_fd = os.pipe()
                process = subprocess.Popen(
                    [sys.executable, "-m", "ctns.bench.environments"],
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=log,
                    text=True,
                    pass_fds=(write_fd,),
                )
                os.close(write_fd)
                assert process.stdin is not None
                process.stdin.write(json.dumps({**self.spec, "report_fd": write_fd}) + "\n")
                process.stdin.flush()
                self.environments.append(Environment(process, os.fdopen(read_fd)))
        return self

    def wait_ready(self) -> None:
        for environment in self.environments:
            line = environment.report.readline()
            if not line:
                raise RuntimeError(f"an execution environment died during init; see {self.log_path}")
            environment.ready = json.loads(line)["ready"]

    def drain(self) -> Drained:
        import threading

        result = Drained()
        lock = threading.Lock()
        url, arn = self.spec["queue_url"], self.spec["queue_arn"]

        finished = [0.0]  # when the last batch was done with (its messages deleted or returned)
        failed = threading.Event()  # an invocation failed as a whole

        def poll(environment: Environment) -> None:
            idle = 0
            pause = IDLE_PAUSE_SECONDS[0]
            while not failed.is_set():
                messages = self.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=self.spec["batch_size"],
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not messages:
                    if self._queue_empty(url):
                        idle += 1
                        if idle >= 2:
                            return
                    # Lambda's pollers long-poll an empty queue at no cost to the functions; here each poll is two
                    # requests to the one AWS server the busy environments are waiting on: poll less and less often
                    time.sleep(pause)
                    pause = min(pause * 2, IDLE_PAUSE_SECONDS[1])
                    continue
                idle = 0
                pause = IDLE_PAUSE_SECONDS[0]
                answer = environment.invoke({"Records": [_record(m, arn) for m in messages]})
                if "error" in answer:
                    # Lambda would retry the batch until its messages reached the dead-letter queue, and the pass
                    # would report zeros: a measurement of nothing. The drain stops and says why instead.
                    with lock:
                        result.errors.append(answer["error"])
                    failed.set()
                    failures = {m["MessageId"] for m in messages}
                else:
                    response = answer.get("response") or {}
                    failures = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
                    if failures and not self.spec["report_batch_item_failures"]:
                        failures = {m["MessageId"] for m in messages}
                done = [m for m in messages if m["MessageId"] not in failures]
                if done:
                    self.sqs.delete_message_batch(
                        QueueUrl=url,
                        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                    )
                for message in messages:
                    if message["MessageId"] in failures:
                        self.sqs.change_message_visibility(
                            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                        )
                with lock:
                    finished[0] = max(finished[0], time.perf_counter())
                    result.bodies.extend(m["Body"] for m in messages)
                    result.invocations += 1
                    result.delivered += len(messages)
                    result.batch_item_failures += len(failures)

        started = time.perf_counter()
        threads = [threading.Thread(target=poll, args=(e,), daemon=True) for e in self.environments]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # The drain ends with its last batch, not when the pollers have made sure the queue stays empty
        result.seconds = (finished[0] or time.perf_counter()) - started
        result.environments = [e.stop() for e in self.environments]
        if result.errors:
            raise DrainFailed(
                f"{len(result.errors)} invocation(s) of the worker failed as a whole, the first with"
                f" {result.errors[0]}; the functions' log: {self.log_path}"
            )
        return result

    def _queue_empty(self, url: str) -> bool:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return all(int(attributes.get(name, 0)) == 0 for name in names)

    def kill(self) -> None:
        for environment in self.environments:
            if environment.process.poll() is None:
                environment.process.kill()
                environment.process.wait()


if __name__ == "__main__":
    environment_main()
