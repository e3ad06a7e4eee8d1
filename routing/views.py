"""Routing pages (SPEC §11): a team's rules in order, a rule's form, "where would a lead go?",
and the team's automatic routing switch. Admins and the team's sales manager."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leads import services as lead_services
from routing import selectors, services
from routing.forms import RouteTestForm, RuleForm
from teams import permissions
from teams import services as team_services
from teams.models import Team
from teams.selectors import sales_teams_to_pick, team_reps, team_shown


def _team(request: HttpRequest) -> Team:
    """The sales team whose rules the page shows: one's own; an admin picks one (?team=)."""
    if not permissions.can_manage_routing(request.user):
        raise PermissionDenied
    chosen = request.GET.get("team") or request.POST.get("team") or ""
    team = team_shown(user=request.user, chosen=chosen)
    if team is None or team.kind != Team.Kind.SALES:
        raise PermissionDenied
    return team


def _list_url(team: Team) -> str:
    return f"{reverse('routing:rules')}?team={team.pk}"


def rule_list(request: HttpRequest) -> HttpResponse:
    team = _team(request)
    now = timezone.now()
    test = RouteTestForm(request.GET if "source" in request.GET else None)
    preview = None
    if test.is_bound and test.is_valid():
        choice = lead_services.route_preview(team=team, now=now, **test.cleaned_data)
        owner, passed_over = selectors.choice_named(owner_id=choice.owner_id, skipped=choice.skipped)
        preview = {"choice": choice, "owner": owner, "passed_over": passed_over}
    context = {
        "team": team,
        "teams": sales_teams_to_pick(user=request.user),
        "rules": list(selectors.team_rules(team=team)),
        "unavailable": selectors.reps_unavailable(team=team, at=now),
        "test": test if test.is_bound else RouteTestForm(),
        "preview": preview,
    }
    return render(request, "routing/rule_list.html", context)


def rule_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    rule = get_object_or_404(selectors.rule_list(user=request.user), pk=pk) if pk else None
    team = rule.team if rule else _team(request)
    if not permissions.can_manage_routing(request.user, team):
        raise PermissionDenied
    reps = list(team_reps(team=team).order_by("first_name", "username"))
    form = RuleForm(request.POST or None, instance=rule, team=team, reps=reps)
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                saved = services.rule_create(by=request.user, team=team, **form.rule_fields())
            else:
                saved = services.rule_update(rule=rule, by=request.user, **form.rule_fields())
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Rule “%(name)s” saved.") % {"name": saved.name})
            return redirect(_list_url(team))
    return render(request, "routing/rule_form.html", {"form": form, "rule": rule, "team": team})


def _add_errors(form: RuleForm, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(selectors.rule_list(user=request.user), pk=pk)
    services.rule_move(rule=rule, by=request.user, up=request.POST.get("direction") == "up")
    return redirect(_list_url(rule.team))


@require_POST
def rule_switch(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(selectors.rule_list(user=request.user), pk=pk)
    active = request.POST.get("active") == "on"
    services.rule_update(rule=rule, by=request.user, active=active)
    text = _("Rule “%(name)s” is on.") if active else _("Rule “%(name)s” is off: leads skip it.")
    messages.success(request, text % {"name": rule.name})
    return redirect(_list_url(rule.team))


@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(selectors.rule_list(user=request.user), pk=pk)
    team = rule.team
    services.rule_delete(rule=rule, by=request.user)
    messages.success(request, _("Rule “%(name)s” removed.") % {"name": rule.name})
    return redirect(_list_url(team))


@require_POST
def auto_route(request: HttpRequest) -> HttpResponse:
    team = _team(request)
    on = request.POST.get("auto_route") == "on"
    team_services.team_auto_route_set(team=team, by=request.user, on=on)
    if on:
        messages.success(request, _("New leads of %(team)s now go to a rep at once.") % {"team": team.name})
    else:
        messages.success(request, _("New leads of %(team)s now wait for a manager.") % {"team": team.name})
    return redirect(_list_url(team))
