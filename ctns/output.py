"""What `ctns` prints: one place for the terminal, so secrets never reach it and errors read the same way.

- Every line goes through `Output`, which masks every secret value the command has seen (`remember_secret`):
  a value from a secrets file or Secrets Manager cannot reach the terminal even inside an error message.
- Errors the operator can fix are `CliError`s: one line saying what to fix, and an exit code (2: usage or
  configuration). Validation errors are described by field and rule, never with the value given (pydantic's
  `input_value` would print part of a secret).
- `--json` commands print one JSON document on stdout; progress always goes to stderr. A command that ends on a
  problem without its own document prints `{"error": the line, "exit_code": n}`: a script reading stdout gets one.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

OK, FAILURES, USAGE, INTERNAL = 0, 1, 2, 3
MASK = "********"
_MIN_SECRET = 4  # shorter values are not masked (they would garble ordinary text), and are not secrets anyway


class CliError(Exception):
    """A mistake the operator can fix: printed as one line (no traceback), exit code 2 unless said otherwise."""

    def __init__(self, message: str, *, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


_secrets: set[str] = set()
_lock = threading.Lock()


def remember_secret(value: object) -> None:
    """Mask this value wherever ctns prints or logs it, for the rest of the process."""
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    if isinstance(text, str) and len(text.strip()) >= _MIN_SECRET:
        with _lock:
            _secrets.add(text)
            _secrets.add(text.strip())


def remember_secrets_in(document: Any) -> None:
    """Every string in a secrets document, whatever its shape (a wrong shape still holds secrets)."""
    if isinstance(document, dict):
        for value in document.values():
            remember_secrets_in(value)
    elif isinstance(document, list):
        for value in document:
            remember_secrets_in(value)
    else:
        remember_secret(document)


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingStream:
    """A text stream that masks remembered secrets in everything written to it (function logs, EMF, prints)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        # The first write that failed (a full disk): later writes are dropped, and the owner raises it once the
        # command's work is over (`failure`), rather than a logging handler printing a traceback for each line.
        self.failure: OSError | None = None

    def write(self, text: str) -> int:
        if self.failure is None:
            try:
                self._stream.write(redact(text))
            except OSError as error:
                self.failure = error
        return len(text)

    def flush(self) -> None:
        if self.failure is None:
            try:
                self._stream.flush()
            except OSError as error:
                self.failure = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def describe_validation(error: ValidationError, *, prefix: str = "") -> list[str]:
    """One line per problem: where (dotted path) and what is wrong. The value given is never repeated."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item.get("loc", ()))
        where = f"{prefix}.{where}" if prefix and where else (prefix or where)
        lines.append(f"{where}: {_reason(item)}" if where else _reason(item))
    return lines


def _reason(item: dict[str, Any]) -> str:
    kind = item.get("type", "")
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a setting here (misspelt, or in the wrong section)"
    if kind in ("string_type", "str_type"):
        return "must be a string"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a JSON object"
    if kind == "bool_type":
        return "must be true or false (JSON, unquoted)"
    if kind == "int_type":
        return "must be a whole number (JSON, unquoted)"
    if kind == "float_type":
        return "must be a number (JSON, unquoted)"
    if kind in ("string_too_short", "too_short") and (item.get("ctx") or {}).get("min_length") == 1:
        return "is empty"
    message = str(item.get("msg", "is not valid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


class Output:
    """The terminal of one command: human text or JSON on stdout, progress and problems on stderr."""

    def __init__(self, *, json_mode: bool = False, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.json_mode = json_mode
        self._out = stdout or sys.stdout
        self._err = stderr or sys.stderr
        self._started = time.monotonic()
        self._documented = False

    def line(self, text: str = "") -> None:
        """Human output (left out in --json mode, where `document` says it all)."""
        if not self.json_mode:
            self._out.write(redact(text) + "\n")
            self._out.flush()

    def lines(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.line(text)

    def document(self, value: Any) -> None:
        if self.json_mode:
            self._documented = True
            self._out.write(redact(json.dumps(value, indent=2, default=str)) + "\n")
            self._out.flush()

    def progress(self, text: str) -> None:
        self._err.write(redact(f"[{time.monotonic() - self._started:6.1f}s] {text}") + "\n")
        self._err.flush()

    def announce(self, text: str) -> None:
        """What a command is about to do, said once before it starts: with the human output (stdout), or on stderr
        in --json mode, where stdout holds the document alone."""
        if self.json_mode:
            self.note(text)
        else:
            self.line(text)

    def note(self, text: str) -> None:
        """A remark on stderr (shown in --json mode too): what was run against, what was not done."""
        self._err.write(redact(text) + "\n")
        self._err.flush()

    def problem(self, text: str) -> None:
        self._err.write(redact(f"ctns: {text}") + "\n")
        self._err.flush()

    def failed(self, text: str, exit_code: int) -> None:
        """The problem a command ends on: its line on stderr and, in --json mode, a document saying it on stdout,
        where a script looks (unless the command printed its own: stdout holds one document)."""
        self.problem(text)
        if not self._documented:
            try:
                # Masked before JSON escapes it: a secret with a quote or a backslash would no longer match.
                self.document({"error": redact(text), "exit_code": exit_code})
            except OSError:  # stdout gone or full: the line on stderr has said it
                pass


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, right: Iterable[int] = ()) -> list[str]:
    """A plain text table; columns in `right` are right-aligned (numbers)."""
    right_aligned = set(right)
    body = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def render(cells: Sequence[str]) -> str:
        parts = [cell.rjust(widths[i]) if i in right_aligned else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return "  ".join(parts).rstrip()

    out = [render(list(headers)), "  ".join("-" * w for w in widths)]
    out.extend(render(row) for row in body)
    return out


def ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds}s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60}m ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m ago"
    return f"{seconds // 86400}d ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return "<1s"
    if seconds < 120:
        return f"{seconds:.1f}s"
    return f"{int(seconds) // 60}m{int(seconds) % 60:02d}s"


def write_whole(path: Path, text: str) -> None:
    """`text` as the whole of the file at `path`, or the file as it was: written beside it and moved over it, so a
    full disk leaves no half a report or state file for a script or the next command to read (OSError raised as
    the write raised it). A link is written through (the file it names is replaced); a path in /dev or /proc
    (`--report /dev/stdout`, whatever stdout is) and anything not a regular file are written directly. A new file
    gets the mode `open` gives (0666 less the umask), an existing one keeps its own. Folders are created."""
    given = Path(path)
    if str(given.absolute()).startswith(("/dev/", "/proc/")) or (given.exists() and not given.is_file()):
        given.write_text(text)
        return
    target = Path(os.path.realpath(given))
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    beside = target.parent / f".{target.name}.{os.urandom(6).hex()}.part"
    handle = os.open(beside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as to open()
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        if mode is not None:
            os.chmod(beside, mode)
        os.replace(beside, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(beside)
        raise
