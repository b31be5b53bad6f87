"""The parser's side of the file checks (the checks themselves are core.uploads).

HTML needs no check before reading: BeautifulSoup's "lxml" builder uses libxml2's HTML
parser, which never expands entities declared in a DOCTYPE (``&x;`` stays literal text),
never loads external DTDs or entities, and lxml parsers default to ``no_network=True``
(see test_safety.py for the check). Word documents are parsed with ``resolve_entities=False``
(wordml.py) and openpyxl through defusedxml when it is installed; core.uploads.office's
DOCTYPE refusal makes both independent of that.
"""

import contextlib
import os

from core.uploads import FileRefused

from .errors import ParseError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _raised_in_package(exc):
    """True when the innermost frame of ``exc``'s traceback is code of this package."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    filename = os.path.abspath(last.tb_frame.f_code.co_filename)
    return os.path.dirname(filename) == _PACKAGE_DIR


@contextlib.contextmanager
def refusals_as_parse_errors():
    """A file check's refusal (core.uploads.FileRefused) as the parser's ParseError."""
    try:
        yield
    except ParseError:
        raise
    except FileRefused as exc:
        raise ParseError(exc.message) from exc


@contextlib.contextmanager
def reader_boundary(message):
    """Turn what a third-party reader raises on hostile bytes into ``ParseError(message)``.

    Exceptions raised by this package's own code pass through untouched: they are bugs to fix,
    not bad input, and the tests (and the property test) must see them.
    """
    try:
        yield
    except ParseError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception as exc:  # zipfile, lxml, openpyxl, pypdfium2, bs4, codecs…
        if _raised_in_package(exc) and not isinstance(exc, (RecursionError, MemoryError)):
            raise
        raise ParseError(f"{message}（{type(exc).__name__}）") from exc
