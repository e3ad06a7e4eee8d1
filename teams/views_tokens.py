"""The "API access" page: a signed-in user sees, creates, rotates and revokes their own token.

No primary key in any URL: every view acts on `request.user` alone. GET only reads;
each change is a POST (CSRF-checked). Rotate and revoke are confirmed on a page of
their own, so nothing depends on a script. The full key appears once, in the page
answering the POST that made it, never in a message stored in the session; those
pages are marked not to be cached.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from teams import tokens
from teams.forms import TokenActionForm


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    """The token's state; POST creates the first token and shows its key this once."""
    new_key = None
    if request.method == "POST":
        try:
            new_key = tokens.token_create(user=request.user).key
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("api_token")
    return _render_page(request, new_key=new_key)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def api_token_rotate(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST replaces the key and shows the new one this once."""
    if request.method == "POST":
        return _render_page(request, new_key=tokens.token_rotate(user=request.user).key)
    return _confirm(request, "rotate")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    """GET asks for confirmation; POST deletes the token (idempotent)."""
    if request.method == "POST":
        if tokens.token_revoke(user=request.user):
            messages.success(request, _("Your API token was revoked. Calls with it are now refused."))
        return redirect("api_token")
    return _confirm(request, "revoke")


def _render_page(request: HttpRequest, *, new_key: str | None) -> HttpResponse:
    token = tokens.token_of(user=request.user)
    context = {
        "token": token,
        "masked_key": tokens.token_masked(token=token) if token else "",
        "new_key": new_key,
        "create_form": TokenActionForm(action="create", form_action=reverse("api_token")),
    }
    return render(request, "teams/api_token.html", context)


def _confirm(request: HttpRequest, action: str) -> HttpResponse:
    token = tokens.token_of(user=request.user)
    if token is None:
        return redirect("api_token")
    context = {
        "action": action,
        "token": token,
        "masked_key": tokens.token_masked(token=token),
        "form": TokenActionForm(action=action, form_action=reverse(f"api_token_{action}")),
    }
    return render(request, "teams/api_token_confirm.html", context)
