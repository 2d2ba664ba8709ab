"""Which syncs exist. A new record type is a module in `ctsync.records` plus a line here and its template wiring."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctsync.errors import ConfigurationError
from ctsync.sync.definition import SyncDefinition

if TYPE_CHECKING:
    from ctsync.runtime import Runtime

AVAILABLE = ("projects", "tasks")
# Wired in the template, logic still to come: their pollers report that and do nothing.
PLANNED = frozenset({"time", "expenses"})


def build(name: str, runtime: Runtime) -> SyncDefinition:
    from ctsync.records.projects import ProjectSync
    from ctsync.records.tasks import TaskSync

    config = runtime.config
    if name == "projects":
        projects = ProjectSync(
            runtime.netsuite, runtime.clicktime, runtime.mappings, config.projects, config.netsuite.timezone
        )
        return SyncDefinition(name, "project", projects.source, projects)
    if name == "tasks":
        projects = ProjectSync(
            runtime.netsuite, runtime.clicktime, runtime.mappings, config.projects, config.netsuite.timezone
        )
        tasks = TaskSync(
            runtime.netsuite,
            runtime.clicktime,
            runtime.mappings,
            runtime.runlog,
            config.tasks,
            config.netsuite.timezone,
            projects,
        )
        return SyncDefinition(name, "task", tasks.source, tasks)
    raise ConfigurationError(f"no sync named {name!r}; known: projects, tasks (planned: {', '.join(sorted(PLANNED))})")
