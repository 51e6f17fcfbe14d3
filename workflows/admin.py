"""viewflow's own admin could edit a task's status or owner, or a process's data: that would
move a case past the door. Here processes and tasks are read-only."""

from django.contrib import admin
from viewflow.workflow.models import Process, Task

from arenden.admin import ReadOnlyAdmin

for model in (Process, Task):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Process)
class ProcessAdmin(ReadOnlyAdmin):
    list_display = ["pk", "flow_class", "status", "created", "finished"]
    list_filter = ["status"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["pk", "flow_task", "status", "owner", "created", "finished"]
    list_filter = ["status"]
