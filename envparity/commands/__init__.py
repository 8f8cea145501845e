"""CLI subcommands, grouped by what they act on; each module has `register(subparsers)`."""
