"""What other apps may want to know about plans, without the plans app knowing them.

`plan_written` is sent, after the transaction commits, when a plan's content has been
written in bulk (an import, a new version applied): `sender` is the Plan class, `plan_id`
the plan's id. The dashboards roll the plan's figures up at once instead of waiting for
the night."""

from django.dispatch import Signal

plan_written = Signal()
