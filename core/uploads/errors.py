"""The one exception a file check raises."""


class FileRefused(Exception):
    """A file refused before any reader touched it.

    `message` is for the user, in the current language. `code` says why (empty, too_large,
    invalid, unsafe, encrypted). `about_file` marks a message written as a statement about
    the file ("不完整……"), which reads after the file's name; otherwise it is a sentence of
    its own ("文件已损坏：……")."""

    def __init__(self, message: str, code: str = "invalid", *, about_file: bool = False):
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.about_file = about_file

    def __str__(self):
        return self.message


class KindMismatch(FileRefused):
    """The bytes are another kind of file than the name or the caller says; `actual` is
    what they are (a key of core.uploads.sniff, or an Office kind: docx, xlsx, pptx)."""

    def __init__(self, actual: str):
        super().__init__(actual, "content_mismatch")
        self.actual = actual
