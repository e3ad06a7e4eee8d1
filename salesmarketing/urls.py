"""URL map. Pages need a signed-in user (LoginRequiredMiddleware); the API authenticates itself."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import ScopedRateThrottle

from kpis import api as kpis_api
from leads import api as leads_api
from salesmarketing import views
from slas import api as slas_api
from slas import views as slas_views
from teams import api as teams_api
from teams import views as teams_views


class TokenView(ObtainAuthToken):
    """POST username and password, get {"token": …}; throttled, and locked out by django-axes."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth_token"


router = DefaultRouter()
router.register("teams", teams_api.TeamViewSet, basename="team")
router.register("users", teams_api.UserViewSet, basename="user")
router.register("campaigns", leads_api.CampaignViewSet, basename="campaign")
router.register("leads", leads_api.LeadViewSet, basename="lead")
router.register("slas", slas_api.SlaViewSet, basename="sla")
router.register("breaches", slas_api.BreachViewSet, basename="breach")
router.register("kpis", kpis_api.KpiViewSet, basename="kpi")
router.register("kpi-targets", kpis_api.TargetViewSet, basename="kpi-target")
router.register("kpi-measurements", kpis_api.MeasurementViewSet, basename="kpi-measurement")
router.register("scorecards", kpis_api.ScorecardViewSet, basename="scorecard")

api_urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("kpis.urls")),
    path("", include("slas.urls")),
    path("leads/", include("leads.urls")),
    path("teams/", include("teams.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/language/", teams_views.language_set, name="language_set"),
    path("accounts/notifications/", slas_views.notification_preferences, name="notification_preferences"),
    path("notifications/unsubscribe/<str:token>/", slas_views.unsubscribe, name="unsubscribe"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("health/", login_not_required(views.health), name="health"),
]
