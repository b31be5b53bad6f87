"""/api/v1/dashboard/overview/: the leaders' overview figures (leaders and admins), the
same computation and five-minute cache as the 督办总览 page."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.services import scope_agency_ids
from api.viewsets import ScopedViewSet
from dashboards.serializers import OverviewSerializer
from dashboards.services import cached_overview, cached_reporting
from workplans.models import MAX_YEAR, MIN_YEAR


class OverviewQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False, min_value=MIN_YEAR, max_value=MAX_YEAR, label=_("年度"), help_text=_("默认今年")
    )
    plan_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, label=_("计划"), help_text=_("给出时按部分分解")
    )


class DashboardViewSet(ScopedViewSet):
    pagination_class = None
    filter_backends = []
    serializer_class = OverviewSerializer

    @extend_schema(
        parameters=[OverviewQuerySerializer],
        responses={200: OverviewSerializer},
        description=_(
            "督办总览的数字：本人范围内（领导：本单位及下级单位；管理员：全部）一个年度的任务与指标，"
            "本期报送情况（已报送待审核、审核通过、退回、未报送；配合单位反馈单独统计），"
            "以及各主送单位未办结的蓝色、黄色、红色督办单数。"
        ),
    )
    @action(detail=False, methods=["get"])
    def overview(self, request, *args, **kwargs):
        query = OverviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year", self.today.year)
        # Tasks outside the scope never enter the figures: a plan id of someone else's plan
        # gives empty figures, as on the page.
        plan_id = query.validated_data.get("plan_id")
        data = cached_overview(scope_agency_ids(request.user), year, self.today, plan_id)
        reporting = cached_reporting(request.user, year, self.today, plan_id)
        return Response(OverviewSerializer(data, context={"year": year, "reporting": reporting}).data)
