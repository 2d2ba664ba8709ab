"""Do the two systems agree? Counts and differences, from both sides and the mapping store, per sync.

Used by the demo and by the operator CLI; read-only.
"""

from ctsync.reconcile.catalog import reconcile_projects, reconcile_tasks
from ctsync.reconcile.expenses import reconcile_expenses
from ctsync.reconcile.report import Check, Reconciliation
from ctsync.reconcile.time import reconcile_time

__all__ = ["Check", "Reconciliation", "reconcile_expenses", "reconcile_projects", "reconcile_tasks", "reconcile_time"]
