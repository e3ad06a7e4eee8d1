"""Availability pages (SPEC §11): who is off this week and next, time off ahead, the away switch."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from teams import permissions, selectors, services
from teams.calendar import calendar_for_team
from teams.forms import TimeOffForm
from teams.models import TimeOff

CALENDAR_DAYS = 14  # this week and next


def time_off(request: HttpRequest) -> HttpResponse:
    people = selectors.availability_people(user=request.user)
    can_set_others = len(people) > 1
    form = TimeOffForm(
        request.POST or None, people=people, choose_person=can_set_others, initial={"person": request.user.pk}
    )
    if request.method == "POST" and form.is_valid() and _saved(request, form):
        return redirect("teams:time_off")
    team = selectors.team_shown(user=request.user, chosen=request.GET.get("team", ""))
    zone = ZoneInfo(team.timezone) if team else timezone.get_current_timezone()
    today = timezone.localdate(timezone=zone)
    first = today - timedelta(days=today.weekday())
    shown = list(people.filter(team=team) if team else people)
    calendar = calendar_for_team(team) if team else None
    days = [first + timedelta(days=n) for n in range(CALENDAR_DAYS)]
    working = [calendar.is_working_day(day) if calendar else day.isoweekday() < 6 for day in days]
    rows = selectors.time_off_calendar(people=shown, zone=zone, first=first, days=CALENDAR_DAYS)
    context = {
        "form": form,
        "team": team,
        "teams": selectors.sales_teams_to_pick(user=request.user),
        "today": today,
        "days": list(zip(days, working, strict=True)),
        "calendar": [(person, list(zip(row, working, strict=True))) for person, row in rows],
        "ahead": selectors.time_off_ahead(user=request.user, people=shown, now=timezone.now()),
        "can_set_others": can_set_others,
    }
    return render(request, "teams/time_off.html", context)


def _saved(request: HttpRequest, form: TimeOffForm, time_off: TimeOff | None = None) -> bool:
    data = form.cleaned_data
    person = data["person"] if time_off is None else time_off.user
    if data["span"] == TimeOffForm.WHOLE_DAYS:
        start, end = selectors.time_off_day_span(person=person, first=data["first_day"], last=data["last_day"])
    else:
        start, end = data["start"], data["end"]
    try:
        if time_off is None:
            services.time_off_add(by=request.user, user=person, start=start, end=end, reason=data["reason"])
        else:
            services.time_off_change(time_off=time_off, by=request.user, start=start, end=end, reason=data["reason"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    messages.success(request, _("Time off for %(person)s saved.") % {"person": person})
    return True


def time_off_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(selectors.time_off_list(user=request.user), pk=pk)
    if not permissions.can_manage_availability(request.user, entry.user):
        raise PermissionDenied
    start, end = timezone.localtime(entry.start), timezone.localtime(entry.end)
    initial = {"person": entry.user_id, "span": TimeOffForm.TIMES, "start": start, "end": end, "reason": entry.reason}
    people = selectors.availability_people(user=request.user).filter(pk=entry.user_id)
    form = TimeOffForm(request.POST or None, people=people, choose_person=False, initial=initial)
    if request.method == "POST" and form.is_valid() and _saved(request, form, time_off=entry):
        return redirect("teams:time_off")
    return render(request, "teams/time_off_form.html", {"form": form, "entry": entry})


@require_POST
def time_off_remove(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(selectors.time_off_list(user=request.user), pk=pk)
    services.time_off_remove(time_off=entry, by=request.user)  # refuses (403) whom the policy does not allow
    messages.success(request, _("Time off for %(person)s removed.") % {"person": entry.user})
    return redirect("teams:time_off")


@require_POST
def away_set(request: HttpRequest) -> HttpResponse:
    """The away switch of the user menu (`user` is oneself), and a manager's for a rep of their
    team; someone else's answers 404."""
    person_id = request.POST.get("user", "")
    if not person_id.isdigit():
        raise Http404
    person = get_object_or_404(selectors.availability_people(user=request.user), pk=int(person_id))
    away = request.POST.get("away") == "on"
    services.user_away_set(user=person, by=request.user, away=away)
    if person.pk == request.user.pk:
        text = (
            _("You are away: new leads go to others until you are back.")
            if away
            else _("Welcome back: new leads can reach you again.")
        )
    else:
        text = (_("%(person)s is away.") if away else _("%(person)s is back.")) % {"person": person}
    messages.success(request, text)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("teams:time_off")
    return redirect(target)
