"""Mutation testing of the sync engine and of the API clients' paging and retries: `make mutate`.

    make mutate                                   every module in SCOPE, then the score of each
    make mutate MODULE=ctsync/sync/poller.py      one module (a path under layers/core, or its file name: poller)
    .venv/bin/python scripts/mutate.py --report   the scores of the last runs, without running anything

mutmut (pinned in pyproject's `mutate` extra; its configuration is `[tool.mutmut]` there) expects the code under
`src/`: it runs in build/mutate, where `src` links to layers/core and `tests` to tests/. Each mutant runs only the
unit and integration tests that reach the mutated function, one mutant at a time (MUTATE_JOBS=2 for two), each
with a CPU-time limit. How to read the results, and every surviving mutant explained: docs/mutation.md.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "mutate"
MINIMUM = 90.0  # percent killed each module must reach

# Module -> the functions that count (None: all of it). `Class.method` or a module-level function name.
SCOPE: dict[str, tuple[str, ...] | None] = {
    "ctsync/sync/poller.py": None,
    "ctsync/sync/worker.py": None,
    "ctsync/sync/queues.py": None,
    "ctsync/records/targets.py": None,
    "ctsync/unsettled.py": None,
    "ctsync/records/time_doubts.py": None,
    "ctsync/records/writeback.py": None,
    "ctsync/state/mappings.py": None,
    "ctsync/state/progress.py": None,
    "ctsync/state/runlog.py": None,
    "ctsync/money.py": None,
    "ctsync/minutes.py": None,
    "ctsync/retry.py": None,
    # The clients' transport: retries, SuiteQL paging (offset pages and keyset pages), the source's clock.
    "ctsync/netsuite/client.py": (
        "NetSuiteClient._send",
        "NetSuiteClient._signed",
        "NetSuiteClient._on_the_wire",
        "NetSuiteClient.suiteql_page",
        "NetSuiteClient.keyset_pages",
        "NetSuiteClient.rows",
        "NetSuiteClient.server_time",
        "_key_order",
    ),
    # The envelope, limit/offset paging, retries and Retry-After, the clock (the HTTP Date header).
    "ctsync/clicktime/client.py": (
        "ClickTimeClient.send",
        "ClickTimeClient.iterate",
        "ClickTimeClient.server_time",
        "_payload",
        "_retry_after",
        "_http_date",
    ),
}

# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code), as this report counts them.
KILLED = {1, 3, 36, -24, 24, 152, 255}  # failed tests, or the CPU-time limit (an endless loop)
SURVIVED = {0}
NO_TESTS = {5, 33}
NOT_RUN = {None, 2, 34}


def module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def patterns(path: str) -> list[str]:
    """mutmut's names of the mutants of `path` that count (fnmatch patterns)."""
    module = module_name(path)
    functions = SCOPE[path]
    if functions is None:
        return [f"{module}.*"]
    result = []
    for function in functions:
        owner, _, method = function.rpartition(".")
        result.append(f"{module}.xǁ{owner}ǁ{method}__mutmut_*" if owner else f"{module}.x_{method}__mutmut_*")
    return result


def resolve(selection: list[str]) -> list[str]:
    if not selection:
        return list(SCOPE)
    chosen = []
    for wanted in selection:
        wanted = wanted.removeprefix("layers/core/")
        matches = [p for p in SCOPE if p == wanted or Path(p).stem == wanted or module_name(p) == wanted]
        if not matches:
            raise SystemExit(f"mutate: {wanted!r} is not in scope; choose from: {', '.join(SCOPE)}")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def prepare(tests: Path) -> None:
    """build/mutate: links to the code, the tests and the configuration (mutmut copies them into mutants/)."""
    WORK.mkdir(parents=True, exist_ok=True)
    for name, target in (("src", ROOT / "layers" / "core"), ("tests", tests.resolve())):
        link = WORK / name
        wanted = os.path.relpath(target, WORK)
        if link.is_symlink() and os.readlink(link) != wanted:
            link.unlink()
        if not link.is_symlink():
            link.symlink_to(wanted, target_is_directory=True)
    config = WORK / "pyproject.toml"
    config.write_bytes((ROOT / "pyproject.toml").read_bytes())


def run(paths: list[str], jobs: int, only: str) -> int:
    mutmut = Path(sys.executable).parent / "mutmut"
    if only == "all":
        names = [pattern for path in paths for pattern in patterns(path)]
    else:
        # Kills stand (adding tests never revives a mutant): run again only what the last runs left open.
        names = []
        for score in scores(paths):
            if only == "open":
                names += score.survived + score.no_tests
            names += score.unchecked
        if not names:
            print("mutate: nothing left to run")
            return 0
    command = [str(mutmut), "run", "--max-children", str(jobs), *names]
    print(
        f"mutate: {len(paths)} module(s), {'every mutant' if only == 'all' else f'{len(names)} mutants'}, {jobs} at a time",
        flush=True,
    )
    return subprocess.call(command, cwd=WORK)


@dataclass
class Score:
    path: str
    killed: int = 0
    survived: list[str] = field(default_factory=list)
    no_tests: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def not_run(self) -> int:
        return len(self.unchecked)

    @property
    def tested(self) -> int:
        return self.killed + len(self.survived) + len(self.no_tests)

    @property
    def percent(self) -> float:
        return 100.0 * self.killed / self.tested if self.tested else 0.0


def scores(paths: list[str]) -> list[Score]:
    result = []
    for path in paths:
        score = Score(path)
        meta = WORK / "mutants" / "src" / f"{path}.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        wanted = patterns(path)
        for name, code in sorted(codes.items(), key=lambda item: _natural(item[0])):
            if not any(fnmatch.fnmatchcase(name, p) for p in wanted):
                continue
            if code in KILLED:
                score.killed += 1
            elif code in SURVIVED:
                score.survived.append(name)
            elif code in NO_TESTS:
                score.no_tests.append(name)
            else:
                score.unchecked.append(name)
        result.append(score)
    return result


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def report(results: list[Score]) -> bool:
    print()
    print(f"{'module':<30} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8} {'score':>7}")
    for s in results:
        note = f"  ({s.not_run} not run)" if s.not_run else ""
        print(
            f"{s.path.removeprefix('ctsync/'):<30} {s.tested:>7} {s.killed:>7} {len(s.survived):>8} "
            f"{len(s.no_tests):>8} {s.percent:>6.1f}%{note}"
        )
    total = sum(s.tested for s in results)
    killed = sum(s.killed for s in results)
    if total:
        print(f"{'all':<30} {total:>7} {killed:>7} {'':>8} {'':>8} {100.0 * killed / total:>6.1f}%")
    for s in results:
        for label, names in (("survived", s.survived), ("no tests", s.no_tests)):
            if names:
                print(f"\n{s.path} {label} (see docs/mutation.md; `mutmut show NAME` in build/mutate):")
                for name in names:
                    print("  ", name)
    (WORK / "scores.json").write_text(
        json.dumps(
            {
                s.path: {
                    "mutants": s.tested,
                    "killed": s.killed,
                    "score": round(s.percent, 1),
                    "survived": s.survived + s.no_tests,
                }
                for s in results
            },
            indent=2,
        )
    )
    return all(s.percent >= MINIMUM for s in results if s.tested)


def show(results: list[Score]) -> None:
    mutmut = Path(sys.executable).parent / "mutmut"
    for s in results:
        for name in s.survived + s.no_tests:
            out = subprocess.run([str(mutmut), "show", name], cwd=WORK, capture_output=True, text=True).stdout
            print("\n".join(line for line in out.splitlines() if line.startswith(("#", "@@", "-", "+"))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all in scope)")
    parser.add_argument("--report", action="store_true", help="only print the scores of earlier runs")
    parser.add_argument("--show", action="store_true", help="with --report: each survivor's change, as mutmut shows it")
    parser.add_argument(
        "--only",
        choices=("all", "open", "unchecked"),
        default=os.environ.get("MUTATE_ONLY", "all"),
        help="all: every mutant again; open: those the last runs left surviving, untested or unchecked; "
        "unchecked: those never run",
    )
    parser.add_argument("--tests", type=Path, default=ROOT / "tests", help="the tests to run (default: tests/)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "1")))
    args = parser.parse_args()
    paths = resolve([m for arg in args.modules for m in arg.split()])
    prepare(args.tests)
    if not args.report:
        code = run(paths, args.jobs, args.only)
        if code != 0:
            print(f"mutate: mutmut exited with {code}", file=sys.stderr)
            return code
    results = scores(paths)
    passed = report(results)
    if args.show:
        show(results)
    if not passed:
        print(f"\nmutate: a module is below {MINIMUM:.0f} % killed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
