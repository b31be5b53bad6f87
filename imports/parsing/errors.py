"""The one exception a reader or the parser raises for input it cannot turn into a plan."""

from core.uploads import FileRefused


class ParseError(FileRefused):
    """Input that cannot be parsed; ``str(exc)`` is a message for the user."""
