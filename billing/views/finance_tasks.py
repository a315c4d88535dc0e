"""Finance tasks: what the portal could not settle by itself (a refused refund, a recharge to reverse ...).

A council's finance officers see their council's open tasks under /billing/finance/<council>/tasks/ and deal with
each on its own page: say what they did (closing it), or, for a refused refund, ask Stripe again. Partnership
administrators also see /billing/finance/tasks/, which includes tasks of no single council. Anyone else gets 404
for a task and 403 for a council's list.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from billing.gateway import PaymentError
from billing.models import FinanceTaskKind, FinanceTaskStatus
from billing.selectors import finance_tasks as selectors
from billing.services.finance_tasks import resolve_finance_task, retry_refused_refund
from portal.access import council_member_required, is_partnership_admin
from portal.forms_govuk import GovukFormMixin
from portal.models import CouncilRole

RECENTLY_DONE = 20


class ResolveForm(GovukFormMixin, forms.Form):
    resolution = forms.CharField(
        label="What did you do about it?",
        help_text="For example: refunded £120.00 by BACS on 3 March, reference SVA-REF-12.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what you did about it"},
    )


@council_member_required(role=CouncilRole.FINANCE)
def council_tasks(request, council):
    context = {
        "council": council,
        "tasks": selectors.council_tasks(council=council),
        "done": selectors.council_tasks(council=council, status=FinanceTaskStatus.DONE).order_by("-resolved_at")[
            :RECENTLY_DONE
        ],
    }
    return render(request, "billing/finance_tasks.html", context)


@login_required
def partnership_tasks(request):
    if not is_partnership_admin(request.user):
        raise PermissionDenied("Only partnership administrators see every council's tasks.")
    return render(request, "billing/finance_tasks.html", {"council": None, "tasks": selectors.partnership_tasks()})


def _task_or_404(request, pk: int):
    task = selectors.visible_task(request.user, pk)
    if task is None:
        raise Http404("No such task of yours.")
    return task


@login_required
def task_detail(request, pk: int):
    task = _task_or_404(request, pk)
    form = ResolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resolve_finance_task(task=task, by=request.user, resolution=form.cleaned_data["resolution"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, f"Task closed: {task.title}")
            return redirect(*_list_for(task))
    context = {
        "task": task,
        "form": form,
        "can_retry": task.is_open and task.kind == FinanceTaskKind.REFUND_FAILED and task.refund_id is not None,
        "back": _list_for(task),
    }
    return render(request, "billing/finance_task.html", context, status=400 if form.errors else 200)


def _list_for(task) -> tuple:
    if task.council_id:
        return ("billing:finance_tasks", task.council.slug)
    return ("billing:partnership_tasks",)


@login_required
@require_POST
def retry_refund(request, pk: int):
    task = _task_or_404(request, pk)
    try:
        refund = retry_refused_refund(task=task, by=request.user)
    except (ValidationError, PaymentError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else error.user_message
        messages.error(request, text)
        return redirect("billing:finance_task", pk=task.pk)
    refund.refresh_from_db()
    if refund.status == "failed":
        messages.error(request, f"Stripe refused the refund again: {refund.failure_message}. A new task is open.")
    else:
        messages.success(request, f"The refund of £{refund.amount_pence / 100:,.2f} was asked of Stripe again.")
    return redirect(*_list_for(task))
