"""The `ctns` commands, one module each; `ctns.cli` registers them."""
