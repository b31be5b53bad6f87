"""The system admin's console: the plans through the year (plan pages, activation check,
task editing and bulk assignment, year close and rollover, alignment with higher plans)
and the people (the agency tree, bulk user import) — the admin's daily work, without the
Django admin."""
