"""Request parsers: multipart whose size limits answer a JSON 400 in Chinese (Django's own
limits otherwise end the request with its HTML 400 page)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

from core import unstorable


class RequestTooLarge(exceptions.ParseError):
    default_code = "too_large"


class UnstorableInput(exceptions.ParseError):
    default_code = unstorable.CODE


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except (TooManyFilesSent, TooManyFieldsSent, RequestDataTooBig):
            raise RequestTooLarge(
                _("请求过大：一次最多上传 %(n)d 个文件，每个不超过 %(mb)d MB。")
                % {"n": settings.EVIDENCE_MAX_FILES, "mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
            ) from None
        # The one check core.unstorable's middleware leaves to this parser (it does not
        # consume an API request's multipart body).
        found = unstorable.multipart_problem(parsed.data, parsed.files)
        if found is not None:
            raise UnstorableInput(unstorable.message(*found))
        return parsed
