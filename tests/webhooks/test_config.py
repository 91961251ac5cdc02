"""Configuration from the environment and TOML, and the app factories built on it."""

from __future__ import annotations

import logging
from pathlib import Path

import attrs
import pytest

from calltrack.config import AppConfig, ProviderConfig, build_handler, load_config
from calltrack.domain.prompts import PromptKind
from calltrack.errors import ConfigurationError
from calltrack.testing import FakeProvider
from calltrack.testing.http import WsgiSender
from calltrack.webhooks import (
    AsgiApp,
    WsgiApp,
    create_asgi_app,
    create_wsgi_app,
    mask_phone,
    mask_phones_in,
)

TOML = """
public_url = "https://hooks.example.com/ct"
database_url = "memory://"
max_body = 1000
mask_phones = false

[tracker]
brand = "Jobs Board"
locale = "ru"
ring_timeout = 25
accept_key = "1"
caller_id = "virtual"
quarantine_days = 30

[prompts]
whisper = "Кандидат с сайта {brand}"

[providers.fake]
secret = "s1"
secrets = ["s0"]

[providers.twilio]
auth_token = "tok"
public_url = "https://tw.example.com"
"""


class TestLoading:
    """Variables override the TOML file; every mistake names the setting."""

    def test_toml_file(self, tmp_path: Path) -> None:
        """Every table and key of the file is read."""
        path = tmp_path / "calltrack.toml"
        path.write_text(TOML, encoding="utf-8")
        config = load_config(str(path), env={})
        assert config.public_url == "https://hooks.example.com/ct"
        assert config.max_body == 1000
        assert config.mask_phones is False
        assert config.ring_timeout == 25
        assert config.quarantine_days == 30
        assert config.providers == (
            ProviderConfig("fake", ("s1", "s0")),
            ProviderConfig("twilio", ("tok",), "https://tw.example.com"),
        )
        settings = config.tracker_settings()
        assert (settings.accept_key, settings.caller_id.value) == ("1", "virtual")
        prompts = config.tracker_prompts()
        assert prompts.text(PromptKind.WHISPER) == "Кандидат с сайта Jobs Board"

    def test_environment_over_file(self, tmp_path: Path) -> None:
        """Variables win over the file, secrets split on commas for rotation."""
        path = tmp_path / "c.toml"
        path.write_text(TOML, encoding="utf-8")
        env = {
            "CALLTRACK_CONFIG": str(path),
            "CALLTRACK_PUBLIC_URL": "https://other.example.com",
            "CALLTRACK_TWILIO_AUTH_TOKEN": "new, old",
            "CALLTRACK_VONAGE_SIGNATURE_SECRET": "v",
            "CALLTRACK_PLIVO_AUTH_TOKEN": "p",
            "CALLTRACK_MASK_PHONES": "yes",
            "CALLTRACK_MAX_BODY": "2048",
        }
        config = load_config(env=env)
        assert config.public_url == "https://other.example.com"
        assert config.mask_phones is True
        assert config.max_body == 2048
        by_name = {p.name: p for p in config.providers}
        assert by_name["twilio"] == ProviderConfig(
            "twilio", ("new", "old"), "https://tw.example.com"
        )
        assert by_name["vonage"].secrets == ("v",)
        assert by_name["plivo"].secrets == ("p",)

    @pytest.mark.parametrize(
        ("text", "named"),
        [
            ("nonsense = 1", "nonsense"),
            ("max_body = 'big'", "max_body"),
            ("[tracker]\nbrnd = 'x'", "brnd"),
            ("[providers.fake]\npublic_url = 'x'", "secret"),
            ("[providers.fake]\nsecret = 's'\ncolour = 1", "colour"),
            ("[prompts]\ngreeting = 3", "greeting"),
            ("not toml [", "not TOML"),
        ],
    )
    def test_bad_file_names_the_setting(self, tmp_path: Path, text: str, named: str) -> None:
        """A mistake in the file is a ConfigurationError that names the key."""
        path = tmp_path / "c.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigurationError, match=named):
            load_config(str(path), env={})

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("CALLTRACK_MAX_BODY", "lots"),
            ("CALLTRACK_MASK_PHONES", "perhaps"),
            ("CALLTRACK_RING_TIMEOUT", "-1"),
        ],
    )
    def test_bad_variable_names_it(self, variable: str, value: str) -> None:
        """A variable that cannot be read is named in the error."""
        with pytest.raises(ConfigurationError, match=variable):
            load_config(env={variable: value})

    def test_missing_file(self, tmp_path: Path) -> None:
        """A file that is not there is named."""
        with pytest.raises(ConfigurationError, match="cannot read"):
            load_config(str(tmp_path / "none.toml"), env={})

    def test_bad_tracker_values(self) -> None:
        """Values the tracker refuses fail when the handler is built, naming them."""
        with pytest.raises(ConfigurationError, match="caller_id"):
            AppConfig(caller_id="both").tracker_settings()
        with pytest.raises(ConfigurationError, match="no prompt named"):
            AppConfig(prompts={"hello": "x"}).tracker_prompts()


class TestBuilding:
    """The factories refuse incomplete configuration and serve a complete one."""

    def test_no_provider(self) -> None:
        """Without any secret the error lists the variables to set."""
        with pytest.raises(ConfigurationError, match="CALLTRACK_TWILIO_AUTH_TOKEN"):
            build_handler(AppConfig(public_url="https://x.example.com", database_url="memory://"))

    def test_no_public_url(self) -> None:
        """Without a public URL (and untrusted proxies) the error says why one is needed."""
        config = AppConfig(database_url="memory://", providers=(ProviderConfig("fake", ("s",)),))
        with pytest.raises(ConfigurationError, match="CALLTRACK_PUBLIC_URL"):
            build_handler(config)

    def test_unavailable_provider(self) -> None:
        """A provider whose adapter cannot be loaded is named."""
        config = AppConfig(
            public_url="https://x.example.com",
            database_url="memory://",
            providers=(ProviderConfig("nosuch", ("s",)),),
        )
        with pytest.raises(ConfigurationError, match="nosuch"):
            build_handler(config)

    def test_adapter_options_from_toml_and_environment(self, tmp_path: Path) -> None:
        """Adapter options reach the constructor; Plivo's main-account token has a variable."""
        path = tmp_path / "calltrack.toml"
        path.write_text(
            'public_url = "https://x.example.com"\ndatabase_url = "memory://"\n'
            '[providers.plivo]\nauth_token = "t"\n'
            "[providers.plivo.options]\nconfirm_timeout = 7\n"
        )
        config = load_config(path, env={"CALLTRACK_PLIVO_MAIN_ACCOUNT_TOKEN": "main-1"})
        (plivo,) = config.providers
        assert plivo.options == {"confirm_timeout": 7, "main_account_secrets": ("main-1",)}
        handler, close = build_handler(config)
        adapter = handler.providers["plivo"]
        close()
        assert adapter.confirm_timeout == 7  # type: ignore[attr-defined]

    def test_unknown_adapter_option_is_named(self) -> None:
        """An option the adapter does not take is refused, naming the table."""
        config = AppConfig(
            public_url="https://x.example.com",
            database_url="memory://",
            providers=(ProviderConfig("fake", ("s",), options={"colour": "red"}),),
        )
        with pytest.raises(ConfigurationError, match=r"providers\.fake\.options.*colour"):
            build_handler(config)

    def test_directory_by_import_path(self) -> None:
        """directory names a class to instantiate; a non-directory is refused."""
        config = AppConfig(
            public_url="https://x.example.com",
            database_url="memory://",
            providers=(ProviderConfig("fake", ("s",)),),
            directory="calltrack.testing:FakeDirectory",
        )
        handler, close = build_handler(config)
        assert handler.tracker.directory is not None
        close()
        with pytest.raises(ConfigurationError, match="is not a CandidateDirectory"):
            build_handler(attrs.evolve(config, directory="calltrack:__version__"))
        with pytest.raises(ConfigurationError, match=r"package\.module:name"):
            build_handler(attrs.evolve(config, directory="calltrack"))

    def test_wsgi_factory_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """create_wsgi_app() reads the environment: what gunicorn runs."""
        monkeypatch.setenv("CALLTRACK_FAKE_SECRET", "envsecret")
        monkeypatch.setenv("CALLTRACK_PUBLIC_URL", "https://hooks.example.com/ct")
        monkeypatch.setenv("CALLTRACK_DATABASE_URL", "memory://")
        monkeypatch.delenv("CALLTRACK_CONFIG", raising=False)
        app = create_wsgi_app()
        assert isinstance(app, WsgiApp)
        assert isinstance(create_asgi_app(), AsgiApp)
        provider = FakeProvider(("envsecret",), base_url="https://hooks.example.com/ct")
        app.handler.tracker.add_numbers(["+74951234567"], provider="fake")
        app.handler.tracker.track("v", ["+79161234567"], employer_id="e", title="T")
        request = provider.request(
            "voice", {"call_id": "C1", "from": "+79031234567", "to": "+74951234567"}
        )
        assert WsgiSender(app, "fake")(("voice", request)).status == 200
        app.close()


class TestMasking:
    """Phone numbers are masked in the logs by default."""

    def test_mask_phone(self) -> None:
        """Five characters, stars, the last two: +7903*****67."""
        assert mask_phone("+79031234567") == "+7903*****67"
        assert mask_phone("123") == "***"
        assert mask_phone(None) == "-"
        assert mask_phone("anonymous") == "anonymous"

    def test_mask_in_text(self) -> None:
        """Runs of seven digits or more are masked; shorter numbers stay."""
        assert mask_phones_in("from +79031234567 at 12:30") == "from +7903*****67 at 12:30"
        assert mask_phones_in("took 1234 ms") == "took 1234 ms"

    def test_log_line(
        self, fake_world: tuple[object, object, WsgiApp], caplog: pytest.LogCaptureFixture
    ) -> None:
        """One line per webhook: provider, event, call id, masked caller, outcome, time."""
        tracker, _, app = fake_world
        provider = FakeProvider(("secret-new",))
        request = provider.request(
            "voice", {"call_id": "CA9", "from": "+79031234567", "to": "+74951234567"}
        )
        with caplog.at_level(logging.INFO, logger="calltrack.webhooks"):
            WsgiSender(app, "fake")(("voice", request))
        (line,) = [r.getMessage() for r in caplog.records if r.name == "calltrack.webhooks"]
        assert line.startswith("webhook fake/voice call=CA9 from=+7903*****67 -> 200 forward in ")
        assert "+79031234567" not in line
        assert line.endswith(" ms")
        app.handler.mask_phones = False
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="calltrack.webhooks"):
            WsgiSender(app, "fake")(("voice", request))
        assert "from=+79031234567" in caplog.records[-1].getMessage()
        del tracker
