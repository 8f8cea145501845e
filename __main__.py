"""Pulumi entry point (`main` in Pulumi.yaml); the program lives in envparity.stack.program."""

from pathlib import Path

from envparity.stack.program import read_render, read_services, run

# The project directory is where this file is, whichever checkout or copy pulumi runs.
run(repo=Path(__file__).resolve().parent, live_reader=read_render, service_reader=read_services)
