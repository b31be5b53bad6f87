"""Plan import rules shared by the pages, the parse job and `manage.py import_plan`.

One module per concern (matching, document, diff, importer, flow); the names callers use
are re-exported here.

- `AgencyMatcher`: owner names as a plan writes them -> agencies (name, short name, alias,
  the other script, 委/委员会 and the city name dropped), never a guess between two.
- `normalise_document` / `check_document`: the parse document (spec/import-format.md) made
  safe to write, and every problem that blocks the import, in Chinese, before any write.
- `diff_plan`: what a new version of an imported plan would change, task by task, matched
  by section path + number.
- `import_document`: one transaction that writes a new plan or applies a new version to an
  existing one (keeping every task, milestone and indicator that carries reported data).
- `start_import` / `confirm_import`: the upload and the confirmation of the web flow.
- `find_gaps` / `missing_decisions` (gaps.py): what a confirmation lists and needs a decision
  on (tasks without owners, unnamed indicators, swallowed numbered items, names mapped to
  nothing); `set_task_owners` / `create_unmatched`: owners picked from the agency tree.

Owner mapping values: an agency id, "create" (a new agency), "create:<parent id>" (a new
agency under that parent), "skip" (left out), or a list of agency ids (a generic name such
as 各区 mapped to a group: the group stands, in the name's place, for every agency of it in
the order picked — written after a lead they are all co-owners; written first, the first
of the group leads).

Decisions:
- A new plan is written as 草稿 (draft) unless the caller asks for 执行中: staff only see
  active plans, so an import does not reach their 我的任务 before an admin has looked at it.
  A re-import keeps the plan's status.
- Two tasks with the same number in the same section are an error listed before anything is
  written (the admin renumbers one in the preview): the number is the task's identity for
  re-imports, so silently inventing one would break the next version's matching.
"""

from accounts.matching import AgencyMatch, AgencyMatcher  # noqa: F401
from imports.services.common import (  # noqa: F401
    AGENCY_NAME_MAX,
    CHANGE_REASON_NEW,
    CHANGE_REASON_UPDATE,
    CREATE_AGENCY,
    CREATE_UNDER,
    DOC_NUMBER_MAX,
    SKIP_AGENCY,
    TITLE_MAX,
    create_parent,
    group_ids,
    is_create,
)
from imports.services.diff import HandSet, PlanDiff, TaskChange, diff_plan  # noqa: F401
from imports.services.document import (  # noqa: F401
    ImportRefused,
    Problem,
    check_document,
    check_mapping,
    generic_owner_names,
    normalise_document,
    owner_names,
    parse_target,
    task_key,
    task_place,
)
from imports.services.flow import (  # noqa: F401
    ALLOWED_EXTENSIONS,
    UploadOutcome,
    confirm_import,
    create_unmatched,
    effective_mapping,
    file_sha256,
    previous_mapping,
    queue_parse,
    save_edits,
    set_task_owners,
    start_import,
    target_plan,
)
from imports.services.gaps import Gap, find_gaps, missing_decisions, numbered_items  # noqa: F401
from imports.services.importer import (  # noqa: F401
    ImportResult,
    _Writer,
    import_document,
    owner_agency_ids,
    section_rows,
)
