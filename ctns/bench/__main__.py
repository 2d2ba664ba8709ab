"""`python -m ctns.bench`: see `ctns.bench.cli`."""

from ctns.bench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
