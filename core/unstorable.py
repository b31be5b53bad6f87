"""Input no database column can hold, refused at the door with a Chinese 400.

PostgreSQL's text types cannot store a NUL character, and psycopg2 cannot send a string
holding a lone UTF-16 surrogate (which only JSON's ``\\ud800`` escapes can produce): either
one, in a search box, a filter, a login name or a JSON field, used to reach a query and
answer 500. Rather than teach every form, filter and serializer, one middleware looks at
everything a view may read before any of them runs:

- the path, and every name and value of the query string and of a urlencoded body, after
  percent-decoding: a NUL, or bytes that are not UTF-8 (Django would quietly turn them
  into U+FFFD; an encoded surrogate such as ``%ED%A0%80`` is not UTF-8 either);
- the fields of a multipart body (names and values) and the names of its files; Django
  has already replaced bytes that are not UTF-8 there, and dropped unprintable characters
  from file names, so a NUL or a surrogate is what is left to find;
- a JSON body's keys and string values at any depth, after decoding its escapes.

The answer is JSON (``{"detail": …, "code": "unstorable_input"}``, the API's error shape)
for the API and for callers that ask for JSON, and the Chinese 400 page for people; it
names where the character was, never echoes it.
"""

import json
import logging
import re
from urllib.parse import unquote_to_bytes

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

from core.net import API_PAGES, wants_json

logger = logging.getLogger("django.security.UnstorableInput")

CODE = "unstorable_input"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"


def unstorable(text: str) -> bool:
    """True when `text` holds a character PostgreSQL cannot store (NUL, a lone surrogate)."""
    return _UNSTORABLE.search(text) is not None


def _shown(name: str) -> str:
    """A field name fit to show: its unstorable characters dropped, cut to 40 characters."""
    return _UNSTORABLE.sub("", name)[:40]


def _bad_bytes(value: bytes) -> bool:
    if b"\x00" in value:
        return True
    try:
        value.decode("utf-8")  # strict: also refuses encoded surrogates (ED A0 80 … ED BF BF)
    except UnicodeDecodeError:
        return True
    return False


def urlencoded_problem(raw: bytes) -> str | None:
    """The name of the first pair of a query string or urlencoded body whose name or value,
    percent-decoded, holds a NUL or is not UTF-8 (its name as far as it can be shown); None
    when all are fine."""
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _sep, value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(name.replace(b"+", b" "))
        if _bad_bytes(name_bytes) or _bad_bytes(unquote_to_bytes(value.replace(b"+", b" "))):
            return _shown(name_bytes.decode("utf-8", "replace"))
    return None


def json_problem(data) -> str | None:
    """The key under which the first unstorable string of decoded JSON sits ("" at the top
    or when the key itself is unstorable); None when there is none. Walks without recursion."""
    stack = [("", data)]
    while stack:
        key, value = stack.pop()
        if isinstance(value, str):
            if unstorable(value):
                return _shown(key)
        elif isinstance(value, dict):
            for inner_key, inner in value.items():
                if unstorable(inner_key):
                    return _shown(inner_key)
                stack.append((inner_key, inner))
        elif isinstance(value, list):
            stack.extend((key, inner) for inner in value)
    return None


def multipart_problem(data, files) -> tuple[str, str] | None:
    """(where, field name) of the first multipart field (name or value) or uploaded file name
    that holds an unstorable character; None when there is none. `data` and `files` are
    MultiValueDicts as Django's and DRF's parsers give them."""
    for name, values in data.lists():
        if unstorable(name) or any(isinstance(value, str) and unstorable(value) for value in values):
            return str(_("表单字段")), _shown(name)
    for name, uploads in files.lists():
        if unstorable(name) or any(unstorable(uploaded.name or "") for uploaded in uploads):
            return str(_("上传文件")), _shown(name)
    return None


def message(place: str, name: str) -> str:
    """The refusal, in the current language: where the character was, never the character."""
    if name:
        return _(
            "%(place)s“%(name)s”中含有无法保存的字符（如空字符 NUL、不成对的代理字符或非 UTF-8 编码），"
            "请删除这些字符后重试。"
        ) % {"place": place, "name": name}
    return _(
        "%(place)s中含有无法保存的字符（如空字符 NUL、不成对的代理字符或非 UTF-8 编码），请删除这些字符后重试。"
    ) % {"place": place}


def is_api(request) -> bool:
    """A request to the REST API (DRF), not to one of the pages under /api/."""
    return request.path.startswith("/api/") and not request.path.startswith(API_PAGES)


def _query_bytes(query_string: str) -> bytes:
    # WSGI hands the query string over as latin-1 text (PEP 3333), so latin-1 gives the bytes back.
    try:
        return query_string.encode("latin-1")
    except UnicodeEncodeError:
        return query_string.encode("utf-8", "surrogatepass")


class UnstorableInputMiddleware:
    """Refuses a request whose input holds characters PostgreSQL cannot store (see the
    module's docstring); sits before any middleware or view that reads the input."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.check(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def check(self, request) -> HttpResponse | None:
        if unstorable(request.path_info):
            return self.refuse(request, _("网址"), "")
        name = urlencoded_problem(_query_bytes(request.META.get("QUERY_STRING", "")))
        if name is not None:
            return self.refuse(request, _("网址参数"), name)
        content_type = request.content_type or ""
        if request.method in ("GET", "HEAD", "OPTIONS") and not request.META.get("CONTENT_LENGTH"):
            return None
        if content_type == _FORM:
            name = urlencoded_problem(request.body)
            if name is not None:
                return self.refuse(request, _("表单字段"), name)
        elif content_type == _MULTIPART:
            # Pages: parsed here as CSRF would parse it. The API's multipart bodies are left
            # to its parser (api.parsers.MultiPartParser), which keeps its own limits and
            # errors and applies multipart_problem to what it parsed.
            if request.method == "POST" and not is_api(request):
                return self.check_multipart(request)
        elif content_type == "application/json" or content_type.endswith("+json"):
            return self.check_json(request)
        return None

    def check_multipart(self, request) -> HttpResponse | None:
        found = multipart_problem(request.POST, request.FILES)
        if found is not None:
            return self.refuse(request, *found)
        return None

    def check_json(self, request) -> HttpResponse | None:
        body = request.body
        # JSON can carry a NUL or a lone surrogate only as a \u escape (a raw control character
        # or invalid UTF-8 is no JSON at all): without one, no need to parse the body twice.
        if b"\\u" not in body:
            return None
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return None  # not JSON at all: the API's parser says so in its own words
        name = json_problem(data)
        if name is not None:
            return self.refuse(request, _("JSON 字段"), name)
        return None

    def refuse(self, request, place: str, name: str) -> HttpResponse:
        text = message(place, name)
        logger.warning("Refused unstorable input in %s %r of %s %r", place, name, request.method, request.path)
        if wants_json(request):
            return JsonResponse({"detail": text, "code": CODE}, status=400, json_dumps_params={"ensure_ascii": False})
        return HttpResponseBadRequest(loader.render_to_string("errors/400_unstorable.html", {"message": text}))
