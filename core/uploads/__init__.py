"""Checks on an uploaded file that run before any library reads it, by format family.

The plan importer (imports.parsing) and the evidence rules (supervision.evidence) both take
files from people; both call these checks first, so a hostile file is refused the same way
whichever door it comes through. Each check raises FileRefused with a message for the user
and a code: ``empty``, ``too_large``, ``invalid`` (damaged, or not what it claims to be),
``unsafe`` (built to attack a reader: bombs, climbing paths, entity declarations, polyglots,
macros, active content) or ``encrypted``.

- limits: sizes (``check_size``, ``read_at_most``) and the archive limits (``Limits``);
- sniff: what bytes are by their signature, and the markup a browser would run;
- office: zip packages (.docx/.xlsx), their XML parts, OLE compound files (.doc/.xls and
  password-protected Office files);
- active: what runs or reaches out when an Office package kept as evidence is opened
  (external relationships, embedded objects, DDE fields and formulas);
- pdf: bounded inflation of Flate streams (PDF bombs), the envelope (header, %%EOF, markup
  around them), and active content in a PDF kept as evidence (JavaScript, actions,
  embedded files), parsed by qpdf;
- images: PNG, JPEG, GIF and WebP read to their end, nothing hidden after or inside;
- text: decoded text that is mostly characters no document is written in.
"""

from core.uploads.errors import FileRefused
from core.uploads.limits import DEFAULT_LIMITS, DEFAULT_MAX_BYTES, MB, Limits, check_size, read_at_most, size_text

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_BYTES",
    "MB",
    "FileRefused",
    "Limits",
    "check_size",
    "read_at_most",
    "size_text",
]
