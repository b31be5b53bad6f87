"""/api/v1/tokens/: a user's API tokens (admins: everyone's), made by their own user only
and revoked here or on the /api/tokens/ page. Both are in the token's audit trail."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.authentication import SessionAuthentication
from api.choices import RevokeReason
from api.filters import DateTimeFilter, IdFilter, NameFilter
from api.models import ApiToken
from api.serializers import ApiTokenCreateSerializer, ApiTokenSerializer, IssuedApiTokenSerializer
from api.viewsets import ScopedViewSet
from core.roles import can_manage_account


class ApiTokenFilterSet(filters.FilterSet):
    user_id = IdFilter(field_name="user_id", label=gettext_lazy("用户（编号）"))
    user = NameFilter(field_name="user__username", label=gettext_lazy("用户（登录名）"))
    active = filters.BooleanFilter(field_name="revoked_at", method="filter_active", label=gettext_lazy("有效"))
    # Tokens that stop working before a date: the integrations to renew.
    expires_before = DateTimeFilter(field_name="expires_at", lookup_expr="lt", label=gettext_lazy("到期早于"))
    revoked_reason = filters.MultipleChoiceFilter(
        choices=RevokeReason.choices, distinct=False, label=gettext_lazy("撤销原因")
    )

    class Meta:
        model = ApiToken
        fields = []

    def filter_active(self, queryset, name, value):
        return queryset.usable() if value else queryset.unusable()


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Tokens: each user their own; admins everyone's. A token's key is shown only in the
    answer that creates it."""

    queryset = ApiToken.objects.select_related("user")
    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    ordering_fields = ["created_at", "last_used_at", "name", "id"]
    ordering = ["-created_at", "-id"]

    @extend_schema(
        request=ApiTokenCreateSerializer,
        responses={201: IssuedApiTokenSerializer},
        description=gettext_lazy(
            "为本人创建令牌（有效期 API_TOKEN_DAYS 天，默认 90 天）。只能在登录后的浏览器会话中调用"
            "（需 CSRF 令牌）：泄露的令牌不能用来再造令牌；任何人（包括管理员）都不能为他人创建令牌。"
        ),
    )
    def create(self, request, *args, **kwargs):
        # A leaked token must not be able to mint its successors: new tokens come from a
        # person signed in with their password.
        self.check_write(
            isinstance(request.successful_authenticator, SessionAuthentication),
            _("只能在登录后的页面上创建令牌，不能用令牌创建令牌。"),
        )
        # A key minted in another's name would act as them: each user makes their own.
        owner_id = request.data.get("user") if isinstance(request.data, dict) else None
        self.check_write(
            owner_id in (None, "", request.user.pk, str(request.user.pk)), _("令牌只能由其本人在登录后创建。")
        )
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token, key = ApiToken.issue(request.user, serializer.validated_data["name"])
        except ValidationError as error:
            raise exceptions.PermissionDenied(error.messages[0]) from None
        token.key = key
        data = IssuedApiTokenSerializer(token, context=self.get_serializer_context()).data
        headers = {"Location": f"{request.path}{token.pk}/", "Cache-Control": "no-store"}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        request=None,
        responses={200: ApiTokenSerializer},
        description=gettext_lazy(
            "撤销令牌（保留记录）。本人可撤销自己的令牌；系统管理员可撤销普通用户的令牌，"
            "其他管理员账户的令牌由安全管理员撤销。"
        ),
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        if token.user_id != request.user.pk and not can_manage_account(request.user, token.user):
            getattr(request, "_request", request).denial_reason = "protected_account"
            raise exceptions.PermissionDenied(
                _("该令牌属于系统管理员、安全管理员或审计管理员账户，只能由本人或安全管理员撤销。")
            )
        token.revoke()
        return Response(self.get_serializer(token).data)
