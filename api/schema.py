"""The OpenAPI schema's shared parts: the token scheme, the error body every endpoint may
answer with, and the Idempotency-Key header every POST accepts."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object

from api import idempotency

ERROR_SCHEMA = {
    "type": "object",
    "description": gettext_lazy(
        "错误：detail 为中文说明，code 为机器可读的错误码；输入有误（400）时 errors 按字段列出。"
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}

ERRORS = {
    "400": gettext_lazy("输入有误"),
    "401": gettext_lazy("未认证（缺少或无效的令牌）"),
    "403": gettext_lazy("角色不能使用此接口，或无权修改此对象"),
    "404": gettext_lazy("不存在，或不在您的可见范围内"),
    "429": gettext_lazy("请求过于频繁"),
}
WRITE_ERRORS = {
    "409": gettext_lazy("同一 Idempotency-Key 的请求仍在处理中"),
    "415": gettext_lazy("不支持的请求内容类型"),
    "422": gettext_lazy("Idempotency-Key 已用于内容不同的请求"),
}


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


def add_common_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: the error answers and the Idempotency-Key header."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            extra = dict(ERRORS)
            if method == "post":
                extra.update(WRITE_ERRORS)
                operation.setdefault("parameters", []).append(
                    {
                        "in": "header",
                        "name": idempotency.HEADER,
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
                        "description": _("可选。同一键在 24 小时内重试同一请求时返回第一次的响应，不会重复写入。"),
                    }
                )
            for code, description in extra.items():
                responses.setdefault(code, {"description": description, "content": error})
    return result
