"""Team pages: the calendar, members, closed dates; the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from salesmarketing.ratelimit import client_ip, rate_exceeded
from teams import permissions, selectors, services
from teams.calendar import calendar_for_team
from teams.forms import ClosedDateForm, TeamForm
from teams.models import Team, Weekday
from teams.tour import tour_for


def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.team_list(user=request.user)
    return render(request, "teams/team_list.html", {"teams": teams})


def team_mine(request: HttpRequest) -> HttpResponse:
    if not request.user.team_id:
        return redirect("teams:list")
    return redirect("teams:detail", pk=request.user.team_id)


def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(user=request.user), pk=pk)
    today = selectors.team_today(team=team)
    can_see_members = permissions.is_admin(request.user) or request.user.team_id == team.pk
    context = {
        "team": team,
        "day_length": calendar_for_team(team).day_length,
        "work_day_names": [Weekday(day).label for day in sorted(team.work_days)],
        "members": selectors.team_members(team=team) if can_see_members else None,
        "holidays": selectors.team_public_holidays(team=team, start=today),
        "closed_dates": selectors.team_closed_dates(team=team, start=today),
        "can_manage_closed_dates": permissions.can_manage_closed_dates(request.user, team),
        "can_edit": permissions.can_manage_users_and_teams(request.user),
        "closed_date_form": ClosedDateForm(),
    }
    return render(request, "teams/team_detail.html", context)


def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(user=request.user), pk=pk)
    if not permissions.can_manage_users_and_teams(request.user):
        raise PermissionDenied
    form = TeamForm(request.POST or None, instance=Team.objects.get(pk=team.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(team=team, **{name: form.cleaned_data[name] for name in form.changed_data})
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The team’s calendar was saved."))
            return redirect("teams:detail", pk=team.pk)
    return render(request, "teams/team_form.html", {"team": team, "form": form})


@require_POST
def closed_date_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(user=request.user), pk=pk)
    if not permissions.can_manage_closed_dates(request.user, team):
        raise PermissionDenied
    form = ClosedDateForm(request.POST)
    if form.is_valid():
        try:
            services.closed_date_add(team=team, day=form.cleaned_data["date"], name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    else:
        messages.success(request, _("%(date)s is now a closed day.") % {"date": date_format(form.cleaned_data["date"])})
    return redirect(reverse("teams:detail", args=[team.pk]) + "#closed-dates")


@require_POST
def closed_date_remove(request: HttpRequest, pk: int, closed_pk: int) -> HttpResponse:
    team = get_object_or_404(selectors.team_list(user=request.user), pk=pk)
    closed = get_object_or_404(team.closed_dates, pk=closed_pk)
    if not permissions.can_manage_closed_dates(request.user, team):
        raise PermissionDenied
    services.closed_date_remove(closed_date=closed)
    messages.success(request, _("%(date)s is a working day again.") % {"date": date_format(closed.date)})
    return redirect(reverse("teams:detail", args=[team.pk]) + "#closed-dates")


def profile(request: HttpRequest) -> HttpResponse:
    """The user's own page: who they are in Selaras, and how their e-mails are logged for them
    (the capture address, SPEC §14)."""
    context = {
        "capture_address": settings.MAIL_CAPTURE_ADDRESS if settings.MAIL_CAPTURE_IMAP_URL else "",
        "is_admin": permissions.is_admin(request.user),
        "logs_touches": permissions.logs_touches(request.user),
    }
    return render(request, "teams/profile.html", context)


def tour_step(request: HttpRequest) -> HttpResponse:
    """One step of the dashboard's tour (`?step=N`): the card alone for htmx, else the dashboard."""
    if not request.htmx:
        return redirect(reverse("kpis:dashboard") + "?" + urlencode({"tour": request.GET.get("step", "")}))
    tour = tour_for(user=request.user, step=request.GET.get("step"))
    return render(request, "teams/_tour.html", {"tour": tour})


@require_POST
def tour_finish(request: HttpRequest) -> HttpResponse:
    services.tour_finish(user=request.user, now=timezone.now())
    if request.htmx:
        return render(request, "teams/_tour_finished.html")
    return redirect("kpis:dashboard")


@require_POST
def tour_restart(request: HttpRequest) -> HttpResponse:
    services.tour_restart(user=request.user)
    return redirect("kpis:dashboard")


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch language for this browser; a signed-in user's choice is remembered for every other one."""
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        services.user_set_language(user=request.user, language=language)
    return set_language(request)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, at most PASSWORD_RESET_RATE_PER_HOUR requests an hour from one
    client address and for one e-mail address (whether or not it is a user's: the answer
    tells nothing), so that it floods no mailbox."""

    def form_valid(self, form):
        limit = settings.PASSWORD_RESET_RATE_PER_HOUR
        by_address = rate_exceeded(scope="password_reset", key=client_ip(self.request), limit=limit, per=3600)
        email = form.cleaned_data["email"].strip().lower()
        if by_address or rate_exceeded(scope="password_reset_email", key=email, limit=limit, per=3600):
            return render(self.request, "registration/password_reset_limited.html", status=429)
        return super().form_valid(form)
