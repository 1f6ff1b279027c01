"""``python -m kldiv_cli`` is the same program as ``kldiv``."""

from kldiv_cli.cli import main

if __name__ == "__main__":
    main()
