"""Data managers upload their organisation's feeds and read each import's report."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from onestory.access import scope
from onestory.access.context import AccessContext, request_access
from onestory.access.decorators import roles
from onestory.access.roles import Role
from onestory.core.exports import safe_cell
from onestory.intake.forms import UploadForm
from onestory.intake.models import ImportRun, MatchPair
from onestory.intake.review import (
    ReviewError,
    merge_undo,
    pair_confirm,
    pair_reject,
    record_split,
)
from onestory.intake.services import feed_import
from onestory_engine.intake import FeedRefused

data_manager = roles(Role.DATA_MANAGER)


def _own_run(access: AccessContext, import_id: int) -> ImportRun:
    run = (
        ImportRun.objects.select_related("source", "imported_by")
        .filter(pk=import_id, source__organisation_id=access.organisation_id)
        .first()
    )
    if run is None:
        raise Http404
    return run


@data_manager
def imports(request: HttpRequest) -> HttpResponse:
    access = request_access(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload: UploadedFile[bytes] = form.cleaned_data["file"]
        suffix = Path(upload.name or "feed.csv").suffix.lower()
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
            for chunk in upload.chunks():
                tmp.write(chunk)
            tmp.flush()
            try:
                result = feed_import(
                    actor=access.actor,
                    kind=form.cleaned_data["kind"],
                    path=Path(tmp.name),
                    source_name=form.cleaned_data["source"],
                    organisation_name=access.organisation.name,
                    file_name=upload.name,
                    imported_by=access.user,
                    allowed_organisation=access.organisation,
                )
            except FeedRefused as exc:
                form.add_error("file", f"The file cannot be used: {exc}")
            else:
                messages.success(request, f"Imported {upload.name}: {result.summary}.")
                return redirect("intake:report", import_id=result.run.pk)
    runs = ImportRun.objects.filter(source__organisation_id=access.organisation_id).select_related(
        "source", "imported_by"
    )[:50]
    return render(request, "intake/imports.html", {"form": form, "runs": runs})


@data_manager
def report(request: HttpRequest, import_id: int) -> HttpResponse:
    run = _own_run(request_access(request), import_id)
    rows = list(run.quarantine.all()[:500])
    return render(request, "intake/report.html", {"run": run, "rows": rows})


@data_manager
def quarantine_csv(request: HttpRequest, import_id: int) -> HttpResponse:
    run = _own_run(request_access(request), import_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-quarantine.csv"'
    writer = csv.writer(response)
    rows = list(run.quarantine.all())
    raw_columns = sorted({c for r in rows for c in r.raw})
    writer.writerow(["row_number", "reason", *raw_columns])
    for r in rows:
        writer.writerow(
            [r.row_number, safe_cell(r.reason), *(safe_cell(r.raw.get(c, "")) for c in raw_columns)]
        )
    return response


@data_manager
def review_list(request: HttpRequest) -> HttpResponse:
    pairs = scope.review_queue(request_access(request))
    return render(request, "intake/review_list.html", {"pairs": pairs})


IDENTITY_FIELDS = [
    ("given_name", "Given name"), ("middle_names", "Middle names"),
    ("family_name", "Family name"), ("date_of_birth", "Date of birth"), ("sex", "Sex"),
    ("nhs_number", "NHS number"), ("pnc_id", "PNC ID"), ("address_line", "Address"),
    ("postcode", "Postcode"),
]  # fmt: skip


@data_manager
def review_pair(request: HttpRequest, pair_id: int) -> HttpResponse:
    access = request_access(request)
    pair = scope.review_pair_get(access, pair_id)
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision == "confirm":
                kept = pair_confirm(actor=access, pair=pair)
                messages.success(request, "Match confirmed: the records are now one person.")
                return redirect("intake:identity", person_id=kept)
            if decision == "reject":
                pair_reject(actor=access, pair=pair)
                messages.success(request, "Match rejected: the records stay apart.")
                return redirect("intake:review")
        except ReviewError as exc:
            messages.error(request, str(exc))
            return redirect("intake:review")
    rows = []
    for name, label in IDENTITY_FIELDS:
        left, right = getattr(pair.record_l, name), getattr(pair.record_r, name)
        if name == "address_line":
            left = "No fixed abode" if pair.record_l.no_fixed_abode else left
            right = "No fixed abode" if pair.record_r.no_fixed_abode else right
        rows.append(
            {
                "label": label,
                "left": left or "",
                "right": right or "",
                "same": bool(left) and left == right,
            }
        )
    levels = pair.evidence.get("levels", {})
    return render(
        request,
        "intake/review_pair.html",
        {
            "pair": pair,
            "rows": rows,
            "levels": levels,
            "pending": pair.status == MatchPair.Status.PENDING,
        },
    )


@data_manager
def identity(request: HttpRequest, person_id: int) -> HttpResponse:
    access = request_access(request)
    view = scope.identity_get(access, person_id)
    if view.person.pk != person_id:
        return redirect("intake:identity", person_id=view.person.pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "undo":
                change = next(
                    (c for c in view.changes if str(c.pk) == request.POST.get("change")), None
                )
                if change is None:
                    raise Http404
                merge_undo(actor=access, change=change)
                messages.success(request, "Merge undone: the records are two people again.")
            elif request.POST.get("action") == "split":
                record = next(
                    (
                        r
                        for r in view.records
                        if str(r.pk) == request.POST.get("record")
                        and r.source.organisation_id == access.organisation_id
                    ),
                    None,
                )
                if record is None:
                    raise Http404
                new = record_split(actor=access, record=record)
                messages.success(request, f"Record split out into person {new}.")
        except ReviewError as exc:
            messages.error(request, str(exc))
        return redirect("intake:identity", person_id=view.person.pk)
    return render(
        request,
        "intake/identity.html",
        {"view": view, "fields": IDENTITY_FIELDS, "org_id": access.organisation_id},
    )
