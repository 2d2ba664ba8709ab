"""`make bench`: what the product costs and how fast it goes, measured side by side in one run (see `cli`)."""
