"""Change enablement as operation uses it: the change record and its lifecycle, who must
approve what, the schedule of change and its conflicts, and the maintenance windows that keep
planned work quiet.

- Lifecycle: `CHANGE_TRANSITIONS` decides which action is legal in which state; each step
  (steps.py) is a pure function: change + what it needs + instant in, a `ChangeChange` out.
- Approvals: `required_approvals` by kind and risk, `approval_refusal` for authority and four
  eyes (approvals.py), under a `ChangePolicy`.
- Schedule: `conflicts` of a window with other changes and the catalogue's freeze periods.
- Windows: `maintenance_windows`, the silences an implementing change stands for.
"""

from serviceops.domain.change.approvals import (
    ChangeRefused,
    approval_refusal,
    approvers_for,
    requested_by,
    required_approvals,
)
from serviceops.domain.change.commands import (
    CHANGE_COMMANDS,
    BackOutChange,
    CancelChange,
    ChangeApprovalDecision,
    ChangeCommand,
    CloseChange,
    CompleteChange,
    FailChange,
    ImplementChange,
    ReviewChange,
    ScheduleChange,
)
from serviceops.domain.change.policy import ChangePolicy, StandardChange
from serviceops.domain.change.record import (
    CHANGE_PATTERN,
    CHANGE_TRANSITIONS,
    CHANGES,
    ENDED_STATES,
    PLANNED_STATES,
    Change,
    ChangeAction,
    ChangeApproval,
    ChangeApprovalKind,
    ChangeDraft,
    ChangeKind,
    ChangeState,
    RequiredApproval,
    Risk,
)
from serviceops.domain.change.schedule import Conflict, ConflictKind, conflicts, overlaps
from serviceops.domain.change.steps import ChangeChange, ScheduleConflict
from serviceops.domain.change.windows import UNTIL_IT_ENDS, maintenance_windows

__all__ = [
    "CHANGES",
    "CHANGE_COMMANDS",
    "CHANGE_PATTERN",
    "CHANGE_TRANSITIONS",
    "ENDED_STATES",
    "PLANNED_STATES",
    "UNTIL_IT_ENDS",
    "BackOutChange",
    "CancelChange",
    "Change",
    "ChangeAction",
    "ChangeApproval",
    "ChangeApprovalDecision",
    "ChangeApprovalKind",
    "ChangeChange",
    "ChangeCommand",
    "ChangeDraft",
    "ChangeKind",
    "ChangePolicy",
    "ChangeRefused",
    "ChangeState",
    "CloseChange",
    "CompleteChange",
    "Conflict",
    "ConflictKind",
    "FailChange",
    "ImplementChange",
    "RequiredApproval",
    "ReviewChange",
    "Risk",
    "ScheduleChange",
    "ScheduleConflict",
    "StandardChange",
    "approval_refusal",
    "approvers_for",
    "conflicts",
    "maintenance_windows",
    "overlaps",
    "requested_by",
    "required_approvals",
]
