"""Managing partner API clients: managers and data managers for their own organisation,
administrators for every organisation (ADR 0019). No person data here."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from onestory.access.context import AccessContext, request_access
from onestory.access.decorators import roles
from onestory.access.roles import Role
from onestory.partner_api import scopes as rules
from onestory.partner_api.forms import ApiClientForm, RotateForm
from onestory.partner_api.models import ApiClient
from onestory.partner_api.scopes import Scope
from onestory.partner_api.services import (
    ApiClientError,
    api_client_create,
    api_client_revoke,
    api_token_rotate,
)

managing = roles(*rules.MANAGING_ROLES)


def _visible(access: AccessContext) -> list[ApiClient]:
    rows = ApiClient.objects.select_related("organisation", "created_by")
    if access.role != Role.ADMINISTRATOR:
        rows = rows.filter(organisation_id=access.organisation_id)
    return list(rows)


def _client(access: AccessContext, client_id: int) -> ApiClient:
    client = ApiClient.objects.select_related("organisation").filter(pk=client_id).first()
    own = client is not None and client.organisation_id == access.organisation_id
    if client is None or not rules.may_see_clients(role=access.role, own_organisation=own):
        raise Http404
    return client


def _token_page(request: HttpRequest, client: ApiClient, secret: str) -> HttpResponse:
    return render(request, "partner_api/token.html", {"client": client, "secret": secret})


@managing
def client_list(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    return render(
        request,
        "partner_api/list.html",
        {"clients": _visible(access), "may_create": bool(rules.GRANTABLE.get(access.role))},
    )


@managing
def client_new(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    grantable = sorted(rules.GRANTABLE[access.role], key=rules.CLIENT_ROLES.index)
    own = None if access.role == Role.ADMINISTRATOR else access.organisation
    form = ApiClientForm(request.POST or None, roles=grantable, organisation=own)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            client, new = api_client_create(
                actor=access,
                organisation=own or data["organisation"],
                name=data["name"],
                role=Role(data["role"]),
                scopes=[Scope(s) for s in data["scopes"]],
                description=data["description"],
                contact_email=data["contact_email"],
                expires_in_days=data["expires_in_days"],
            )
        except ApiClientError as exc:
            form.add_error(None, str(exc))
        else:
            return _token_page(request, client, new.secret)
    return render(request, "partner_api/new.html", {"form": form})


@managing
def client_detail(request: HttpRequest, client_id: int) -> HttpResponse:
    access = request_access(request)
    client = _client(access, client_id)
    own = client.organisation_id == access.organisation_id
    may_rotate = client.is_active and rules.may_manage(
        role=access.role, own_organisation=own, client_role=client.role_enum
    )
    may_revoke = client.is_active and rules.may_revoke(
        role=access.role, own_organisation=own, client_role=client.role_enum
    )
    action = request.POST.get("action")
    form = RotateForm(request.POST if action == "rotate" else None)
    if request.method == "POST":
        allowed = (action == "rotate" and may_rotate) or (action == "revoke" and may_revoke)
        if not allowed:
            return render(request, "errors/403.html", status=403)
        try:
            if action == "revoke":
                api_client_revoke(actor=access, client=client)
                messages.success(request, f"{client.name} is revoked: its tokens no longer work.")
                return redirect("partner_api:detail", client_id=client.pk)
            if form.is_valid():
                new = api_token_rotate(
                    actor=access,
                    client=client,
                    revoke_old_now=form.cleaned_data["revoke_old_now"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
                return _token_page(request, client, new.secret)
        except ApiClientError as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "partner_api/detail.html",
        {
            "client": client,
            "tokens": list(client.tokens.all()),
            "scopes": [Scope(s) for s in client.scopes],
            "form": form,
            "may_rotate": may_rotate,
            "may_revoke": may_revoke,
        },
    )
