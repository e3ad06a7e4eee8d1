"""URL map. Pages need a signed-in user (LoginRequiredMiddleware); the API authenticates itself."""

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from intake import api as intake_api
from kpis import api as kpis_api
from leads import api as leads_api
from leads import api_disputes
from notifications import api as notifications_api
from routing import api as routing_api
from salesmarketing import views
from slas import api as slas_api
from slas import forms as slas_forms
from slas import views as slas_views
from teams import api as teams_api
from teams import views as teams_views
from teams import views_tokens
from webhooks import api as webhooks_api

router = DefaultRouter()
router.register("teams", teams_api.TeamViewSet, basename="team")
router.register("users", teams_api.UserViewSet, basename="user")
router.register("time-off", teams_api.TimeOffViewSet, basename="time-off")
router.register("campaigns", leads_api.CampaignViewSet, basename="campaign")
router.register("leads", leads_api.LeadViewSet, basename="lead")
router.register("disputes", api_disputes.DisputeViewSet, basename="dispute")
router.register("slas", slas_api.SlaViewSet, basename="sla")
router.register("breaches", slas_api.BreachViewSet, basename="breach")
router.register("kpis", kpis_api.KpiViewSet, basename="kpi")
router.register("kpi-targets", kpis_api.TargetViewSet, basename="kpi-target")
router.register("kpi-measurements", kpis_api.MeasurementViewSet, basename="kpi-measurement")
router.register("scorecards", kpis_api.ScorecardViewSet, basename="scorecard")
router.register("routing-rules", routing_api.RuleViewSet, basename="routing-rule")
router.register("notifications", notifications_api.NotificationViewSet, basename="notification")
router.register("webhooks", webhooks_api.WebhookViewSet, basename="webhook")
router.register("lead-forms", intake_api.LeadFormViewSet, basename="lead-form")
router.register("inbound-hooks", intake_api.InboundHookViewSet, basename="inbound-hook")
router.register("whatsapp-numbers", intake_api.WhatsAppNumberViewSet, basename="whatsapp-number")
router.register(
    r"webhooks/(?P<webhook_pk>\d+)/deliveries", webhooks_api.WebhookDeliveryViewSet, basename="webhook-delivery"
)

api_urlpatterns = [
    path("auth/token/", teams_api.TokenView.as_view(), name="token"),
    path("auth/token/rotate/", teams_api.TokenRotateView.as_view(), name="token_rotate"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script=),
    # and the template keeps its styles in a file: the Content-Security-Policy allows
    # neither inline script nor inline style.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path("insights/breach-cost/", kpis_api.BreachCostView.as_view(), name="insight-breach-cost"),
    path("insights/capacity/", kpis_api.CapacityView.as_view(), name="insight-capacity"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("kpis.urls")),
    path("", include("slas.urls")),
    path("leads/", include("leads.urls")),
    path("teams/", include("teams.urls")),
    path("routing/", include("routing.urls")),
    path("notifications/", include("notifications.urls")),
    path("webhooks/", include("webhooks.urls")),
    path(
        "accounts/password_reset/",
        teams_views.PasswordResetView.as_view(form_class=slas_forms.PasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/profile/", teams_views.profile, name="profile"),
    path("accounts/language/", teams_views.language_set, name="language_set"),
    path("accounts/tour/", teams_views.tour_step, name="tour_step"),
    path("accounts/tour/finish/", teams_views.tour_finish, name="tour_finish"),
    path("accounts/tour/restart/", teams_views.tour_restart, name="tour_restart"),
    path("accounts/notifications/", slas_views.notification_preferences, name="notification_preferences"),
    path("accounts/api-token/", views_tokens.api_token, name="api_token"),
    path("accounts/api-token/rotate/", views_tokens.api_token_rotate, name="api_token_rotate"),
    path("accounts/api-token/revoke/", views_tokens.api_token_revoke, name="api_token_revoke"),
    path("notifications/unsubscribe/<str:token>/", slas_views.unsubscribe, name="unsubscribe"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("health/", login_not_required(views.health), name="health"),
    path("", include("intake.urls")),
    path("capture/mail/", include("mailcapture.urls")),
]

handler500 = "salesmarketing.views.handler500"
