"""One mixin for every API endpoint's generic tests; a test class per endpoint gives only data.

A subclass names its objects (`objects(world)` → {name: instance}) and says:
- `visible`: for each persona that may use the endpoint, the names it lists and opens (every
  other object of the endpoint answers it 404); personas left out are refused with 403;
- `filters`: (persona, query, names listed);
- `creates`: (persona, payload(world), expected status), or None for a read-only endpoint
  (POST answers 405);
- `ordering`: a field whose ascending and descending orders are checked against each other.
"""

from tests.api.conftest import PERSONAS, as_user, ids


class EndpointTests:
    url: str
    visible: dict[str, set[str]]
    filters: list[tuple[str, object, set[str]]] = []
    creates: list[tuple[str, object, int]] | None = None
    ordering: str = "id"

    def objects(self, world) -> dict:
        raise NotImplementedError

    def detail_url(self, obj) -> str:
        return f"{self.url}{obj.pk}/"

    # --- list and detail, per persona --------------------------------------------------

    def test_it_lists_what_each_persona_may_see(self, api, world):
        objects = self.objects(world)
        for persona, names in self.visible.items():
            as_user(api, world["users"][persona])
            listed = ids(api.get(self.url, {"page_size": 200}))
            assert listed == {objects[name].pk for name in names}, persona

    def test_it_opens_what_a_persona_may_see_and_answers_404_for_the_rest(self, api, world):
        objects = self.objects(world)
        for persona, names in self.visible.items():
            as_user(api, world["users"][persona])
            for name, obj in objects.items():
                response = api.get(self.detail_url(obj))
                expected = 200 if name in names else 404
                assert response.status_code == expected, (persona, name, response.content)
                if expected == 200:
                    assert response.json()["id"] == obj.pk
                else:
                    assert response.json() == {"detail": "未找到。", "code": "not_found"}

    def test_other_roles_get_403_and_anonymous_callers_401(self, api, world):
        some = next(iter(self.objects(world).values()))
        for persona in set(PERSONAS) - set(self.visible):
            as_user(api, world["users"][persona])
            for url in (self.url, self.detail_url(some)):
                response = api.get(url)
                assert response.status_code == 403, (persona, url)
                assert response.json()["code"] == "permission_denied"
        as_user(api, None)
        response = api.get(self.url)
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Token realm="api"'
        assert response.json()["code"] == "not_authenticated"

    # --- filters, ordering, pages -------------------------------------------------------

    def test_each_filter_lists_what_it_says(self, world, api):
        objects = self.objects(world)
        assert self.filters, "every endpoint has filters"
        for persona, query, names in self.filters:
            as_user(api, world["users"][persona])
            params = query(world) if callable(query) else query
            listed = ids(api.get(self.url, {**params, "page_size": 200}))
            assert listed == {objects[name].pk for name in names}, (persona, params)

    def test_it_orders_and_pages(self, api, world):
        persona = max(self.visible, key=lambda p: len(self.visible[p]))
        total = len(self.visible[persona])
        as_user(api, world["users"][persona])
        ascending = api.get(self.url, {"ordering": self.ordering, "page_size": 200}).json()["results"]
        descending = api.get(self.url, {"ordering": f"-{self.ordering}", "page_size": 200}).json()["results"]
        key = [row[self.ordering] for row in ascending]
        assert key == sorted(key) and [row[self.ordering] for row in descending] == sorted(key, reverse=True)
        first = api.get(self.url, {"page_size": 1}).json()
        assert first["count"] == total and len(first["results"]) == min(total, 1)
        assert (first["next"] is not None) == (total > 1)
        beyond = api.get(self.url, {"page": total + 1, "page_size": 1})
        assert beyond.status_code == 404 and beyond.json()["code"] == "not_found"

    # --- writes ------------------------------------------------------------------------

    def test_create(self, api, world):
        if self.creates is None:
            as_user(api, world["users"]["admin"])
            response = api.post(self.url, {}, format="json")
            assert response.status_code == 405
            assert response.json() == {"detail": "不支持此请求方法。", "code": "method_not_allowed"}
            return
        for persona, payload, expected in self.creates:
            as_user(api, world["users"][persona])
            data = payload(world)
            before = self._count(api)
            response = api.post(self.url, data, format="json")
            assert response.status_code == expected, (persona, response.content)
            if expected == 201:
                created = response.json()
                assert response["Location"] == f"{self.url}{created['id']}/"
                assert api.get(response["Location"]).json()["id"] == created["id"]
                assert self._count(api) == before + 1
            else:
                assert self._count(api) == before

    def _count(self, api) -> int:
        return api.get(self.url).json()["count"]
