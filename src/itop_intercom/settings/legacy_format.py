"""What the PHP and the XML readers of the extension's settings share: the module's name and the
error they both raise, so that the import command reports both alike."""

from __future__ import annotations

#: The PHP extension whose module settings are imported.
DEFAULT_MODULE = "combodo-intercom-integration"


class LegacyFormatError(Exception):
    """The legacy settings cannot be read; says where (1-based line and column) when known.

    Shared by the PHP and the XML readers so that the import command reports both alike.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"
