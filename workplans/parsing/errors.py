"""The one exception a reader or the parser raises for input it cannot turn into a plan."""


class ParseError(Exception):
    """Input that cannot be parsed; ``str(exc)`` is a message in Chinese for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return self.message
