"""``python -m newsstore``: the ``newsstore`` command, for where its script is not on PATH."""

# mypy checks the CLI as cli/; it installs as newsstore_cli (pyproject's package-dir), a name
# only the installed package's import hook knows.
from newsstore_cli.app import main  # type: ignore[import-not-found]

if __name__ == "__main__":
    main()
