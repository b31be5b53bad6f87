"""Export files for leaders and admins: the supervision ledger (督办台账, .xlsx) and the
bulletin (进展通报, .docx), each built by a job for one requester over their scope.

- requests: checking a request and starting its build (the pages call this);
- runner: claiming and building one export (the job calls this);
- ledger, bulletin: one module per file format, on the shared pieces in base.
"""
