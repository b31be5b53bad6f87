"""Entity tags of versioned objects and the If-Match check that prevents lost updates.

An object with a version number (a task) has the tag `"<kind>-<id>-v<version>"`, which
changes exactly when the version does. A write based on what the client last read sends
that tag in If-Match; `check_if_match` says whether it is still current, and which version
the client had when it is not, so the answer can list what changed since."""

import dataclasses
import re

from django.utils.translation import gettext as _

from api.exceptions import PreconditionRequired

_TAG = re.compile(r'^(?:W/)?"(?P<kind>[a-z_]+)-(?P<pk>\d+)-v(?P<version>\d+)"$')


def entity_tag(kind: str, pk: int, version: int) -> str:
    return f'"{kind}-{pk}-v{version}"'


@dataclasses.dataclass(frozen=True)
class IfMatch:
    """What If-Match said about one object: `current` when it names the current tag (or
    says nothing where nothing is required); else the oldest version of this object it
    names (None when it names none)."""

    current: bool
    client_version: int | None


def check_if_match(request, *, kind: str, pk: int, version: int, required: bool, missing_message: str) -> IfMatch:
    """Read If-Match against the object's current tag; 428 with `missing_message` when the
    header is absent but the write needs it, and 428 for `*` always: it matches whatever
    the object is now, so a write sent with it would overwrite a colleague's change unseen
    (RFC 9110 allows it; lost-update protection does not)."""
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired(missing_message)
        return IfMatch(current=True, client_version=version)
    tags = [tag.strip() for tag in header.split(",")]
    if any(tag.removeprefix("W/") == "*" for tag in tags):
        raise PreconditionRequired(
            _("If-Match 不能为 *：请带上读取时得到的 ETag，以免覆盖他人的修改。"), code="if_match_star"
        )
    current = entity_tag(kind, pk, version)
    if any(tag.removeprefix("W/") == current for tag in tags):
        return IfMatch(current=True, client_version=version)
    versions = [
        int(match["version"])
        for tag in tags
        if (match := _TAG.match(tag)) and match["kind"] == kind and int(match["pk"]) == pk
    ]
    return IfMatch(current=False, client_version=min(versions) if versions else None)
