"""The recipes in docs/recipes run as written, driven by each framework's own test client."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from calltrack.domain.model import CallRoute
from calltrack.testing import FakeProvider

RECIPES = Path(__file__).resolve().parents[2] / "docs" / "recipes"
PUBLIC = "https://jobs.example.com/calls"
VIRTUAL = "+74951234567"


def blocks(name: str) -> list[str]:
    text = (RECIPES / name).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def load(name: str, code: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(code, f"{name}.py", "exec"), module.__dict__)  # noqa: S102 - the recipe's code
    return module


def prepare(module: types.ModuleType) -> FakeProvider:
    module.tracker.add_numbers([VIRTUAL], provider="fake")
    module.tracker.track("vac-1", ["+79161234567"], employer_id="e", title="Driver")
    return FakeProvider(["webhook-secret"], base_url=PUBLIC)


def inbound(provider: FakeProvider, call_id: str) -> tuple[bytes, dict[str, str]]:
    request = provider.request("voice", {"call_id": call_id, "from": "+79031234567", "to": VIRTUAL})
    return request.body, dict(request.headers)


class TestFlask:
    """docs/recipes/flask.md."""

    def test_recipe(self) -> None:
        """Signed calls are answered and logged; bad ones get their status."""
        pytest.importorskip("flask")
        module = load("recipe_flask", blocks("flask.md")[0])
        provider = prepare(module)
        client = module.app.test_client()
        body, headers = inbound(provider, "F1")
        answer = client.post("/calls/fake/voice", data=body, headers=headers)
        assert answer.status_code == 200
        assert b"dial" in answer.data
        assert module.tracker.call("fake", "F1").route is CallRoute.FORWARDED
        bad = {**headers, "x-fake-signature": "0" * 64}
        assert client.post("/calls/fake/voice", data=body, headers=bad).status_code == 403
        xml = {**headers, "content-type": "text/xml"}
        assert client.post("/calls/fake/voice", data=body, headers=xml).status_code == 415
        assert client.post("/calls/nope/voice", data=body, headers=headers).status_code == 404
        big = b"{" + b" " * (70 * 1024) + b"}"
        assert client.post("/calls/fake/voice", data=big, headers=headers).status_code == 413


class TestDjango:
    """docs/recipes/django.md."""

    def test_recipe(self) -> None:
        """Signed calls are answered and logged; bad ones get their status."""
        pytest.importorskip("django")
        import django  # type: ignore[import-untyped]  # noqa: PLC0415
        from django.conf import settings  # type: ignore[import-untyped]  # noqa: PLC0415

        views, urls = blocks("django.md")
        package = types.ModuleType("calls")
        package.__path__ = []
        sys.modules["calls"] = package
        module = load("calls.views", views)
        load("recipe_django_urls", urls)
        if not settings.configured:
            settings.configure(
                ROOT_URLCONF="recipe_django_urls",
                ALLOWED_HOSTS=["testserver"],
                SECRET_KEY="tests-only",  # noqa: S106 - a throwaway test setting
                MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
            )
            django.setup()
        from django.test import Client  # type: ignore[import-untyped]  # noqa: PLC0415

        provider = prepare(module)
        client = Client(enforce_csrf_checks=True)
        body, headers = inbound(provider, "D1")
        content_type = headers.pop("content-type")
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        answer = client.post("/calls/fake/voice", body, content_type=content_type, **extra)
        assert answer.status_code == 200
        assert b"dial" in answer.content
        assert module.tracker.call("fake", "D1").route is CallRoute.FORWARDED
        bad = {**extra, "HTTP_X_FAKE_SIGNATURE": "0" * 64}
        assert (
            client.post("/calls/fake/voice", body, content_type=content_type, **bad).status_code
            == 403
        )
        assert (
            client.post("/calls/fake/voice", body, content_type="text/xml", **extra).status_code
            == 415
        )
        assert client.put("/calls/fake/voice", body, content_type=content_type).status_code == 405
        big = b"{" + b" " * (70 * 1024) + b"}"
        assert (
            client.post("/calls/fake/voice", big, content_type=content_type, **extra).status_code
            == 413
        )


class TestFastAPI:
    """docs/recipes/fastapi.md."""

    def test_recipe(self) -> None:
        """Signed calls are answered and logged; bad ones get their status."""
        pytest.importorskip("fastapi")
        from fastapi.testclient import TestClient  # noqa: PLC0415

        module = load("recipe_fastapi", blocks("fastapi.md")[0])
        provider = prepare(module)
        client: Any = TestClient(module.app)
        body, headers = inbound(provider, "A1")
        answer = client.post("/calls/fake/voice", content=body, headers=headers)
        assert answer.status_code == 200
        assert "dial" in answer.text
        assert module.tracker.call("fake", "A1").route is CallRoute.FORWARDED
        bad = {**headers, "x-fake-signature": "0" * 64}
        assert client.post("/calls/fake/voice", content=body, headers=bad).status_code == 403
        xml = {**headers, "content-type": "text/xml"}
        assert client.post("/calls/fake/voice", content=body, headers=xml).status_code == 415
        assert client.delete("/calls/fake/voice").status_code == 405
        big = b"{" + b" " * (70 * 1024) + b"}"
        assert client.post("/calls/fake/voice", content=big, headers=headers).status_code == 413
