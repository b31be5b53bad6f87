"""OFD (GB/T 33190) text: the pages' TextCode elements in reading order, one line per baseline."""

from __future__ import annotations

import posixpath
import zipfile

from django.utils.translation import gettext as _
from lxml import etree

from .errors import ParseError
from .safety import reader_boundary

_NS = "{http://www.ofdspec.org/2016}"
# lxml parser for the parts: no DTD, no entities, no network (open_ofd already refused any
# part that declares a DOCTYPE or an entity).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False)


def _tag(element: etree._Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    return tag.rsplit("}", 1)[-1]


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element.iter() if _tag(child) == name]


class _Package:
    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.names = {name.replace("\\", "/").lstrip("/").lower(): name for name in archive.namelist()}

    def xml(self, path: str) -> etree._Element:
        name = self.names.get(posixpath.normpath(path.replace("\\", "/")).lstrip("/").lower())
        if name is None:
            raise ParseError(_("OFD 文件已损坏：缺少部件“%(part)s”") % {"part": path[:80]})
        return etree.fromstring(self.archive.read(name), _PARSER)


def _resolve(base_dir: str, loc: str) -> str:
    loc = (loc or "").strip().replace("\\", "/")
    return loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc)


def _numbers(value: str | None) -> list[float]:
    try:
        return [float(x) for x in (value or "").split()]
    except ValueError:
        return []


def read_ofd_pages(archive: zipfile.ZipFile) -> list[list[str]]:
    """Lines of text per page of the first document in an OFD package."""
    with reader_boundary(_("无法读取 OFD 文件：文件内容已损坏")):
        return _pages(_Package(archive))


def _pages(package: _Package) -> list[list[str]]:
    root = package.xml("OFD.xml")
    doc_roots = [el.text or "" for el in _children(root, "DocRoot")]
    if not doc_roots:
        raise ParseError(_("OFD 文件已损坏：没有找到文档（DocRoot）"))
    doc_path = _resolve("", doc_roots[0])
    document = package.xml(doc_path)
    doc_dir = posixpath.dirname(doc_path)
    pages = []
    for page in _children(document, "Page"):
        loc = page.get("BaseLoc")
        if not loc:
            continue
        content = package.xml(_resolve(doc_dir, loc))
        pages.append(_page_lines(content))
    return pages


def _page_lines(content: etree._Element) -> list[str]:
    """The page's text, grouped into lines by baseline and read left to right."""
    pieces = []  # (y, x, text, size)
    for obj in _children(content, "TextObject"):
        box = _numbers(obj.get("Boundary"))
        bx, by = (box[0], box[1]) if len(box) >= 2 else (0.0, 0.0)
        size = (_numbers(obj.get("Size")) or [3.5])[0]
        for code in _children(obj, "TextCode"):
            text = code.text or ""
            if not text.strip():
                continue
            x = bx + ((_numbers(code.get("X")) or [0.0])[0])
            y = by + ((_numbers(code.get("Y")) or [0.0])[0])
            pieces.append((y, x, text, size))
    pieces.sort()
    lines: list[list[tuple[float, str]]] = []
    last_y = None
    for y, x, text, size in pieces:
        if last_y is None or y - last_y > max(0.5, size * 0.4):
            lines.append([])
            last_y = y
        lines[-1].append((x, text))
    return ["".join(text for _x, text in sorted(line)) for line in lines]
