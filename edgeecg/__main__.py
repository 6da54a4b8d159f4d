"""`python -m edgeecg` is the same as the `edgeecg` command."""

from edgeecg.cli import main

main()
