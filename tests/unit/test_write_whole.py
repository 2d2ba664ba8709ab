"""`ctns/output.py::write_whole` (the demo report, the local stack's state file) against what `path.write_text` did
before it: found by a review of the 2026-12-02 change that made the write whole-or-nothing (each test failed before
its fix). The full-disk cases are in `test_cli_parts.py`."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ctns.output import write_whole

ROOT = Path(__file__).resolve().parents[2]  # the repository: `ctns` importable from the child


# Run in a private mount namespace (`unshare`), so the machine's own /dev is never touched: "user" binds /dev
# read-only (as an ordinary user finds it: no file can be created there); "root" puts a scratch /dev holding only the
# stdout link (as root finds it: writable).
SETUPS = {
    "user": "mount --bind -o ro /dev /dev",
    "root": "mount -t tmpfs none /dev && ln -s /proc/self/fd/1 /dev/stdout",
}


def _private_mounts() -> bool:
    """Whether this machine lets a test make a mount namespace of its own (root, or a kernel that allows it)."""
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--mount", "--propagation", "private", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _private_mounts(), reason="needs a mount namespace of its own (unshare --mount)")
@pytest.mark.parametrize("who", sorted(SETUPS))
def test_report_to_dev_stdout_redirected_to_a_file_is_written(tmp_path, who):
    """`ctns demo --report /dev/stdout > report.json`: the docstring says /dev/stdout is written directly, and
    `output_file` accepts it. With stdout redirected to a file, /dev/stdout -> /proc/self/fd/1 is a regular file
    (`is_file()`), so the text goes to a temporary file in /dev moved over /dev/stdout: an ordinary user gets an
    OSError after the whole demo ran; root replaces the /dev/stdout link with a file. report.json stays empty."""
    out = tmp_path / "report.json"
    script = (
        "from pathlib import Path; from ctns.commands.common import output_file; from ctns.output import write_whole;"
        "output_file('/dev/stdout'); write_whole(Path('/dev/stdout'), '{\\\"ok\\\": true}\\n')"
    )
    command = f'{SETUPS[who]} && exec {sys.executable} -c "{script}"'
    with out.open("w") as stdout:
        done = subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
            cwd=ROOT,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    assert done.returncode == 0 and out.read_text() == '{"ok": true}\n', (
        f"--report /dev/stdout with stdout redirected to a file ({who}): exit {done.returncode}, "
        f"the file holds {out.read_text()!r}; stderr: {done.stderr.strip().splitlines()[-1:]}"
    )


def test_a_report_path_that_is_a_symlink_updates_the_file_it_points_to(tmp_path):
    """A report path kept as a link to a shared file (write_text wrote through it): the link is replaced by a
    regular file and the file it pointed to keeps the old report."""
    shared = tmp_path / "shared" / "demo-report.json"
    shared.parent.mkdir()
    shared.write_text("old\n")
    link = tmp_path / "build" / "demo-report.json"
    link.parent.mkdir()
    link.symlink_to(shared)

    write_whole(link, "new\n")

    assert shared.read_text() == "new\n", (
        f"the link {link} is now {'a link' if link.is_symlink() else 'a regular file'}; the file it pointed to "
        f"still holds {shared.read_text()!r}"
    )


def test_a_new_file_follows_the_umask(tmp_path):
    """write_text created the file 0666 & ~umask; write_whole sets 0644 whatever the umask: with umask 077 (a
    private account) the report and state file become readable by every user of the machine."""
    old = os.umask(0o077)
    try:
        write_whole(tmp_path / "state.json", "{}\n")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "state.json").stat().st_mode)
    assert mode == 0o600, f"created {oct(mode)} under umask 077"


def test_an_existing_file_keeps_its_mode(tmp_path):
    """An operator made the state file private (chmod 600): each save makes it 0644 again."""
    state = tmp_path / "serve.json"
    state.write_text("{}\n")
    state.chmod(0o600)
    write_whole(state, '{"pid": 1}\n')
    mode = stat.S_IMODE(state.stat().st_mode)
    assert mode == 0o600, f"chmod 600 file is {oct(mode)} after a save"
