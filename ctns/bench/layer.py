"""What the DepsLayer ships after `sam build`: its size, its biggest packages, and anything the runtime has."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from ctns.bench.coldstart import ROOT

BUILT = ROOT / ".aws-sam" / "build"
MB = 1_000_000


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _zipped(path: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(path))
    return buffer.tell()


def measure(layer: str = "DepsLayer") -> dict[str, Any]:
    folder = BUILT / layer
    if not (folder / "python").is_dir():
        return {"value": None, "note": f"no {folder.relative_to(ROOT)}: run `make build` (sam build) first"}
    runtime = {
        _canonical(line.split("#", 1)[0].strip())
        for line in (ROOT / "layers" / "deps" / "runtime-provided.txt").read_text().splitlines()
        if line.split("#", 1)[0].strip()
    }
    python = folder / "python"
    distributions = {}
    for info in python.glob("*.dist-info"):
        name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
        distributions[_canonical(name)] = version
    packages = sorted(
        (
            (p.name, _size(p) if p.is_dir() else p.stat().st_size)
            for p in python.iterdir()
            if not p.name.endswith(".dist-info")
        ),
        key=lambda item: -item[1],
    )
    total = _size(folder)
    pinned = {}
    for line in (ROOT / "layers" / "deps" / "requirements.txt").read_text().splitlines():
        text = line.split("#", 1)[0].strip()
        if "==" in text:
            name, version = text.split("==", 1)
            pinned[_canonical(name)] = version.split(";")[0].strip()
    return {
        "value": round(total / MB, 2),
        "unit": "MB (10^6 bytes, unzipped: the sum of the files' sizes)",
        "zipped_mb": round(_zipped(folder) / MB, 2),
        "distributions": dict(sorted(distributions.items())),
        "ships_what_the_runtime_has": sorted(set(distributions) & runtime),
        "largest": {name: round(size / MB, 2) for name, size in packages[:6]},
        "stale": distributions != pinned,  # built from another list than layers/deps/requirements.txt
        "built_by": "sam build (make build)",
    }
