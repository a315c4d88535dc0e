"""Finance tasks a user may see: their councils' (finance officers), every one (partnership administrators)."""

from django.db.models import QuerySet

from billing.models import FinanceTask, FinanceTaskStatus
from portal import access
from portal.models import Council, CouncilRole


def council_tasks(*, council: Council, status: str = FinanceTaskStatus.OPEN) -> QuerySet[FinanceTask]:
    return (
        FinanceTask.objects.filter(council=council, status=status)
        .select_related("document", "payment", "refund", "school", "resolved_by")
        .order_by("created_at", "pk")
    )


def partnership_tasks(*, status: str = FinanceTaskStatus.OPEN) -> QuerySet[FinanceTask]:
    """Every council's tasks and those of no single council (a card payment shared by several)."""
    return (
        FinanceTask.objects.filter(status=status)
        .select_related("council", "document", "payment", "refund", "school", "resolved_by")
        .order_by("council__name", "created_at", "pk")
    )


def open_task_count(*, council: Council) -> int:
    return FinanceTask.objects.filter(council=council, status=FinanceTaskStatus.OPEN).count()


def visible_task(user, pk: int) -> FinanceTask | None:
    """The task if the user may see it (its council's finance officers, or an administrator)."""
    related = ("council", "document", "payment", "refund", "school")
    task = FinanceTask.objects.select_related(*related).filter(pk=pk).first()
    if task is None:
        return None
    if access.is_partnership_admin(user):
        return task
    if task.council_id and access.is_council_member(user, task.council, role=CouncilRole.FINANCE):
        return task
    return None
