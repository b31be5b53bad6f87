"""Owner names as plans write them -> agencies: name, short name, alias, the other script."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from accounts.choices import MatchMethod
from accounts.models import Agency, AgencyAlias
from core.text import script_key


@dataclass(frozen=True)
class AgencyMatch:
    """An owner name and the agency it resolves to (None when unmatched or ambiguous)."""

    name: str
    agency: Agency | None
    method: MatchMethod
    candidates: tuple[Agency, ...] = ()

    @property
    def matched(self) -> bool:
        return self.agency is not None


# A place name before the level character: 青岚市卫生健康委员会 -> 市卫生健康委员会. Plans name
# their own city's agencies without the city ("市卫生健康委"), so the agency side gets this
# short form; the owner side never does, or 白沙市… would match 青岚市….
_PLACE_PREFIX = re.compile(r"^[\u4e00-\u9fff]{1,8}?(市|区|县|州|盟|旗)(?=[\u4e00-\u9fff]{2,})")
_COMMITTEE = re.compile(r"委员会$")


def _stem(key: str) -> str:
    """委员会 and 委 are the same body: 市卫生健康委员会 ~ 市卫生健康委."""
    return _COMMITTEE.sub("委", key)


def _short_forms(key: str) -> set[str]:
    forms = {_stem(key)}
    match = _PLACE_PREFIX.match(key)
    if match:
        forms.add(_stem(key[match.start(1) :]))
    return forms


class AgencyMatcher:
    """Every agency and alias, read once (two queries) and matched in memory.

    Levels, strictest first; the first level that finds anything decides, and a level that
    finds two different agencies gives no match (the candidates are offered instead):
    1. the name as written equals an agency's full name, an alias or its short name;
    2. the same after script_key (traditional -> simplified, full width, spaces);
    3. short forms: 委员会 read as 委, and the agency's name without its place name.
    """

    def __init__(self, agencies, aliases):
        self.agencies: list[Agency] = list(agencies)
        self.by_id: dict[int, Agency] = {a.pk: a for a in self.agencies}
        self._by_name: dict[str, int] = {}
        self._by_alias: dict[str, int] = {}
        self._by_short: dict[str, set[int]] = defaultdict(set)
        self._by_key: dict[str, set[int]] = defaultdict(set)
        self._by_form: dict[str, set[int]] = defaultdict(set)
        for agency in self.agencies:
            self._by_name[agency.name.strip()] = agency.pk
            if agency.short_name.strip():
                self._by_short[agency.short_name.strip()].add(agency.pk)
            for text in (agency.name, agency.short_name):
                self._index_loose(text, agency.pk)
        for alias_name, agency_id in aliases:
            if agency_id in self.by_id:
                self._by_alias[alias_name.strip()] = agency_id
                self._index_loose(alias_name, agency_id)
        self._cache: dict[str, AgencyMatch] = {}

    def _index_loose(self, text: str, agency_id: int) -> None:
        key = script_key(text)
        if not key:
            return
        self._by_key[key].add(agency_id)
        for form in _short_forms(key):
            self._by_form[form].add(agency_id)

    @classmethod
    def load(cls) -> AgencyMatcher:
        return cls(
            Agency.objects.order_by("order", "name"),
            AgencyAlias.objects.values_list("name", "agency_id"),
        )

    def knows_exactly(self, name: str) -> bool:
        """True when `name` is already some agency's full name or alias."""
        name = name.strip()
        return name in self._by_name or name in self._by_alias

    def _decide(self, name: str, ids: set[int], method: MatchMethod) -> AgencyMatch:
        if len(ids) == 1:
            return AgencyMatch(name, self.by_id[next(iter(ids))], method)
        candidates = tuple(sorted((self.by_id[i] for i in ids), key=lambda a: (a.order, a.name)))
        return AgencyMatch(name, None, MatchMethod.AMBIGUOUS, candidates)

    def match(self, name: str) -> AgencyMatch:
        if name in self._cache:
            return self._cache[name]
        result = self._match(name)
        self._cache[name] = result
        return result

    def _match(self, name: str) -> AgencyMatch:
        text = (name or "").strip()
        if not text:
            return AgencyMatch(name, None, MatchMethod.NONE)
        if text in self._by_name:
            return AgencyMatch(name, self.by_id[self._by_name[text]], MatchMethod.NAME)
        if text in self._by_alias:
            return AgencyMatch(name, self.by_id[self._by_alias[text]], MatchMethod.ALIAS)
        if text in self._by_short:
            return self._decide(name, self._by_short[text], MatchMethod.SHORT_NAME)
        key = script_key(text)
        if key in self._by_key:
            return self._decide(name, self._by_key[key], MatchMethod.SCRIPT)
        ids = self._by_form.get(_stem(key))
        if ids:
            return self._decide(name, ids, MatchMethod.SHORT_FORM)
        return AgencyMatch(name, None, MatchMethod.NONE)

    def suggested_mapping(self, names) -> dict[str, int | None]:
        return {name: (m.agency.pk if (m := self.match(name)).agency else None) for name in names}
