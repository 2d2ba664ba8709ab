"""`function_output` sends the functions' logs to a file while a command runs. Found 2026-12-04: when the logger's
handler still held a stream that had been closed (the logger was made while an earlier pytest session in the same
process captured stdout, as `mutmut run` does: a stats session, then the clean test), swapping it flushed the
closed stream and `ctns demo` ended on "unexpected error: I/O operation on closed file"."""

from __future__ import annotations

import io
import logging
import sys

from ctns.commands.common import function_output
from ctsync.observability import logger


def _stream_handlers() -> list[logging.StreamHandler]:
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the functions' logger prints through a stream handler"
    return handlers


def test_a_handler_whose_stream_was_closed_logs_to_the_file_and_then_to_stdout(tmp_path, monkeypatch):
    gone = io.StringIO()
    gone.close()
    for handler in _stream_handlers():
        monkeypatch.setattr(handler, "stream", gone)

    log = tmp_path / "functions.log"
    with function_output(log):
        logger.info("written while the command runs")

    assert "written while the command runs" in log.read_text()
    assert all(h.stream is sys.stdout for h in _stream_handlers())


def test_an_open_stream_is_put_back_as_it_was(tmp_path, monkeypatch):
    kept = io.StringIO()
    for handler in _stream_handlers():
        monkeypatch.setattr(handler, "stream", kept)

    with function_output(tmp_path / "functions.log"):
        pass

    assert all(h.stream is kept for h in _stream_handlers())
    assert not kept.closed
