"""Errors in one shape, with Chinese messages: `{"detail": "…", "code": "…"}`, plus
`"errors": {field: [messages]}` when the input was wrong.

Rules raise Django's ValidationError and PermissionDenied (tasks.services, indicators.services):
they arrive here and answer 400 and 403 like DRF's own."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class PreconditionFailed(exceptions.APIException):
    """412: the If-Match did not match; `extra` (the current state) goes into the body and
    `headers` (its ETag) into the answer."""

    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"

    def __init__(self, detail=None, code=None, *, extra=None, headers=None):
        super().__init__(detail, code)
        self.extra, self.headers = extra or {}, headers or {}


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_code = "precondition_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def _replaced() -> dict[type, str]:
    # Ours, not DRF's catalogue (its messages carry English parser errors and media types),
    # so every one is in Chinese and says what to do.
    return {
        exceptions.MethodNotAllowed: _("不支持此请求方法。"),
        exceptions.UnsupportedMediaType: _("不支持此请求内容类型，请使用 application/json。"),
        exceptions.NotAcceptable: _("无法按请求的格式返回，请接受 application/json。"),
        exceptions.ParseError: _("请求内容无法解析，请检查 JSON 格式。"),
    }


def _defaults() -> dict[type, str]:
    # Replaced only when the exception carries DRF's default text, not a message of ours.
    return {
        exceptions.NotAuthenticated: _("未登录：请在 Authorization 请求头中提供 API 令牌，或先登录。"),
        exceptions.NotFound: _("未找到。"),
        exceptions.PermissionDenied: _("您无权执行此操作。"),
    }


def _first_code(codes) -> str:
    while isinstance(codes, (list, dict)):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        errors = response.data
        if not isinstance(errors, dict):
            errors = {api_settings.NON_FIELD_ERRORS_KEY: errors}
        if "__all__" in errors:
            errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop("__all__")
        response.data = {"detail": _("提交的内容有误，请按提示修改。"), "code": "invalid", "errors": errors}
        return response

    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = _first_code(exc.get_codes()) if isinstance(exc, exceptions.APIException) else "error"
    if isinstance(exc, exceptions.Throttled):
        detail = _("请求过于频繁，请 %(wait)d 秒后再试。") % {"wait": exc.wait or 1}
    elif type(exc) in _replaced():
        detail = _replaced()[type(exc)]
    elif type(exc) in _defaults() and str(detail) == str(type(exc).default_detail):
        detail = _defaults()[type(exc)]
    response.data = {"detail": str(detail), "code": code, **getattr(exc, "extra", {})}
    for name, value in getattr(exc, "headers", {}).items():
        response[name] = value
    return response
