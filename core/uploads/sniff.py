"""What bytes are, judged by their signature rather than their name."""

import re

# OLE compound files: .doc/.xls, and Office files saved with an opening password.
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Tags that make a browser treat bytes as a page; real images and PDFs never carry them
# where we look.
MARKUP = re.compile(rb"<(?:html|script|svg|body|iframe|!doctype\s+html)", re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """What the bytes are by their signature: exe, png, jpeg, gif, webp, zip, ole, pdf,
    svg or html; None when it is none of these."""
    head = data[:1024]
    if head.startswith((b"MZ", b"\x7fELF")):
        return "exe"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head.startswith(CFB_MAGIC):
        return "ole"
    if b"%PDF-" in head:  # readers accept the header anywhere in the first 1024 bytes
        return "pdf"
    markup = MARKUP.search(head)
    if markup:
        return "svg" if markup.group().lower() == b"<svg" else "html"
    return None
