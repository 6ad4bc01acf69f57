"""Entry point: no arguments opens the window; subcommands run headless (see --help)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from gui.app import run_app

        return run_app()
    from cli.commands import run_cli

    return run_cli(argv)


if __name__ == "__main__":
    sys.exit(main())
