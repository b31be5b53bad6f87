"""/api/v1/tokens/: a user's API tokens (admins: everyone's), made and revoked here or on
the /api/tokens/ page. Both are in the token's audit trail."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.authentication import SessionAuthentication
from api.filters import IdFilter, NameFilter
from api.models import ApiToken
from api.serializers import ApiTokenCreateSerializer, ApiTokenSerializer, IssuedApiTokenSerializer
from api.viewsets import ScopedViewSet
from core.roles import Role


class ApiTokenFilterSet(filters.FilterSet):
    user_id = IdFilter(field_name="user_id", label=gettext_lazy("用户（编号）"))
    user = NameFilter(field_name="user__username", label=gettext_lazy("用户（登录名）"))
    active = filters.BooleanFilter(field_name="revoked_at", lookup_expr="isnull", label=gettext_lazy("有效"))

    class Meta:
        model = ApiToken
        fields = []


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
            "创建令牌。只能在登录后的浏览器会话中调用（需 CSRF 令牌）：泄露的令牌不能用来再造令牌。"
        ),
    )
    def create(self, request, *args, **kwargs):
        # A leaked token must not be able to mint its successors: new tokens come from a
        # person signed in with their password.
        self.check_write(
            isinstance(request.successful_authenticator, SessionAuthentication),
            _("只能在登录后的页面上创建令牌，不能用令牌创建令牌。"),
        )
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        owner = request.user
        user_id = serializer.validated_data.get("user")
        if user_id is not None and user_id != request.user.pk:
            self.check_write(request.user.role == Role.ADMIN, _("只有管理员可以为其他用户创建令牌。"))
            owner = get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if owner is None:
                raise serializers.ValidationError({"user": [_("用户不存在或已停用。")]})
        token, key = ApiToken.issue(owner, serializer.validated_data["name"], created_by=request.user)
        token.key = key
        data = IssuedApiTokenSerializer(token, context=self.get_serializer_context()).data
        headers = {"Location": f"{request.path}{token.pk}/", "Cache-Control": "no-store"}
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(
        request=None, responses={200: ApiTokenSerializer}, description=gettext_lazy("撤销令牌（保留记录）。")
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = self.get_object()
        token.revoke()
        return Response(self.get_serializer(token).data)
