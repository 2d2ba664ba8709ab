"""The hand-made mutants of `make mutate` (scripts/named_mutants.py) still apply to the code they mutate: a
refactor that rewrites a mutated line must rewrite its mutant too, or the mutant silently stops testing anything."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("named_mutants", ROOT / "scripts" / "named_mutants.py")
named_mutants = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
sys.modules.setdefault("named_mutants", named_mutants)  # its dataclasses look their module up there
spec.loader.exec_module(named_mutants)  # type: ignore[union-attr]


@pytest.mark.parametrize("mutant", named_mutants.MUTANTS, ids=lambda m: m.title)
def test_each_named_mutant_changes_exactly_one_place_of_its_module(mutant) -> None:
    text = (ROOT / "layers" / "core" / mutant.path).read_text()
    assert text.count(mutant.old) == 1, f"{mutant.title}: {mutant.old!r} must occur once in {mutant.path}"
    assert mutant.new != mutant.old
    for node in mutant.tests:
        assert (ROOT / node.split("::")[0]).is_file(), node
