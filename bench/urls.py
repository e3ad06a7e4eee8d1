"""The product's URLs plus the floor of the HTTP benchmark (bench-only, see bench/settings.py).

- `/bench/floor/?page=N`: a plain `render()` of 50 leads in a table, with none of the
  product's logic (no permission check, no filter form, no layout): what any Django list
  of this size costs on this machine, the floor the lead list is compared with. It lists
  the signed-in manager's team, newest first, as the lead list does, through Django's own
  paginator (a count, then the page's rows joined to their team, owner and campaign),
  which is what a plain list does.
- `/bench/deferred/?page=N`: the plain list, its rows read as the product's lists read theirs
  (`DeferredJoinPaginator`: the page's ids from the index, then their joins): what the same
  template costs without the plain paginator's join and sort of every lead of the team.
- `/bench/jinja/?page=N`: the same again, its template (bench/jinja2/bench/floor.html) rendered
  by the Jinja2 engine of the product's hot pages: the plain list with both of the SPEC's
  means, the deferred join and the faster engine, and nothing else of the product's page.
- `/bench/json/?page=N`: the same 50 rows as JSON with nothing of the product's API: read
  with `.values()` (no model instances), counted, sliced and put in a `JsonResponse` (no
  serializer, no filters, no permission check). What any Django JSON list of these rows costs
  here, set beside the leads API in bench/README.md.
- `/bench/hello/`: a bare `HttpResponse`, the cost of the middleware stack alone.
- `/bench/post/`: a bare answer to a POST with no login and no CSRF token, reading the body:
  the floor of the public intake endpoints (bench/intake.py).

Both sit behind the same login middleware as every page, so they are measured with the
same logged-in sessions as the product's pages.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from leads.api import LeadSerializer
from leads.models import Lead
from salesmarketing.pagination import DeferredJoinPaginator


def _team_leads(request):
    return (
        Lead.objects.filter(team_id=request.user.team_id)
        .select_related("owner", "team", "campaign")
        .order_by("-created_at", "-pk")
    )


def floor(request):
    page = Paginator(_team_leads(request), 50).get_page(request.GET.get("page"))
    return render(request, "bench/floor.html", {"page": page})


def deferred(request):
    page = DeferredJoinPaginator(_team_leads(request), 50).get_page(request.GET.get("page"))
    return render(request, "bench/floor.html", {"page": page})


# The leads API's fields, its relations as their ids; what only its detail answers left out.
RELATIONS, DETAIL_ONLY = {"campaign", "team", "owner"}, {"sla_status", "likely_duplicates"}
JSON_FIELDS = [
    f"{name}_id" if name in RELATIONS else name for name in LeadSerializer.Meta.fields if name not in DETAIL_ONLY
]


def json_list(request):
    leads = Lead.objects.filter(team_id=request.user.team_id).order_by("-created_at", "-pk")
    page = Paginator(leads.values(*JSON_FIELDS), 50).get_page(request.GET.get("page"))
    body = {"count": page.paginator.count, "results": list(page.object_list)}
    return JsonResponse(body, encoder=DjangoJSONEncoder)


def jinja(request):
    page = DeferredJoinPaginator(_team_leads(request), 50).get_page(request.GET.get("page"))
    return render(request, "bench/floor.html", {"page": page}, using="jinja2")


def hello(request):
    return HttpResponse("hello", content_type="text/plain")


@login_not_required
@csrf_exempt
def bare_post(request):
    return JsonResponse({"ok": True, "bytes": len(request.body)}, status=201)


urlpatterns = [
    path("bench/post/", bare_post),
    path("bench/floor/", floor),
    path("bench/deferred/", deferred),
    path("bench/jinja/", jinja),
    path("bench/json/", json_list),
    path("bench/hello/", hello),
    path("", include("salesmarketing.urls")),
]

handler500 = "salesmarketing.views.handler500"
