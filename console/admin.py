"""Staff admin pieces that span the apps. "Add workspace" opens a workspace through the
same service as the console's page (``console.services.workspace_open``): owner,
subscription and Media Customer answer together, audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

import accounts.admin  # registers the Workspace admin this module extends
from accounts.actor import Actor
from accounts.models import User, Workspace
from compliance.models import MEDIA_CUSTOMER_DEFINITION
from console.services import workspace_open
from core.errors import DomainError

OWNER_UNKNOWN = "No user has this email address: the owner must have an account first."


class WorkspaceOpenForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.SlugField(max_length=50, label="Address (slug)")
    owner = forms.EmailField(label="Owner's email", help_text="An existing user.")
    is_media_customer = forms.TypedChoiceField(
        label="Media Customer",
        choices=[("", "—"), ("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        help_text=MEDIA_CUSTOMER_DEFINITION,
    )

    def clean_owner(self) -> User:
        user = User.objects.filter(email__iexact=self.cleaned_data["owner"]).first()
        if user is None:
            raise forms.ValidationError(OWNER_UNKNOWN)
        return user


class WorkspaceAdmin(accounts.admin.WorkspaceAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("accounts.add_workspace"))

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponseRedirect(reverse("admin:accounts_workspace_changelist"))
        form = WorkspaceOpenForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                ws = workspace_open(
                    actor=Actor.staff(request.user),  # type: ignore[arg-type]
                    name=data["name"],
                    slug=data["slug"],
                    is_media_customer=data["is_media_customer"],
                    owner=data["owner"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                self.message_user(request, f"Workspace {ws.name} opened.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:accounts_workspace_change", args=[ws.pk])
                )
        return TemplateResponse(
            request,
            "admin/accounts/workspace/open.html",
            {
                **self.admin_site.each_context(request),
                "title": "Add workspace",
                "opts": self.model._meta,
                "form": form,
            },
        )


admin.site.unregister(Workspace)
admin.site.register(Workspace, WorkspaceAdmin)
