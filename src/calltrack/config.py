"""The HTTP app's configuration, from environment variables and a TOML file.

:func:`load_config` reads the TOML file named by ``$CALLTRACK_CONFIG`` (or given), then lets
environment variables override it; :func:`build_handler` turns the result into a
:class:`~calltrack.webhooks.WebhookHandler` over real storage and provider adapters. Every
setting, its variable and its TOML key are listed in ``docs/http.md``.

A provider is switched on by giving its secret: ``CALLTRACK_TWILIO_AUTH_TOKEN``,
``CALLTRACK_PLIVO_AUTH_TOKEN``, ``CALLTRACK_VONAGE_SIGNATURE_SECRET`` (or
``CALLTRACK_FAKE_SECRET`` for the fake provider). Several secrets separated by commas are
all accepted, the first one being the current one, so that a secret can be rotated.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs

from calltrack._cli_storage import open_storage
from calltrack.domain.prompts import PromptKind, Prompts
from calltrack.domain.settings import CallerIdPolicy, Settings
from calltrack.errors import ConfigurationError
from calltrack.ports import CandidateDirectory, Notifier, Provider
from calltrack.providers import load_provider_class
from calltrack.tracker import CallTracker
from calltrack.webhooks import DEFAULT_MAX_BODY, WebhookHandler

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "ENV_CONFIG",
    "PROVIDER_SECRETS",
    "AppConfig",
    "ProviderConfig",
    "build_handler",
    "load_config",
]

ENV_CONFIG = "CALLTRACK_CONFIG"
"""The environment variable that names the TOML file."""

PROVIDER_SECRETS: Mapping[str, tuple[str, str]] = {
    "twilio": ("CALLTRACK_TWILIO_AUTH_TOKEN", "auth_token"),
    "plivo": ("CALLTRACK_PLIVO_AUTH_TOKEN", "auth_token"),
    "vonage": ("CALLTRACK_VONAGE_SIGNATURE_SECRET", "signature_secret"),
    "fake": ("CALLTRACK_FAKE_SECRET", "secret"),
}
"""For each provider: the environment variable and the TOML key of its webhook secret."""

PROVIDER_OPTIONS: Mapping[str, tuple[str, str]] = {
    "CALLTRACK_PLIVO_MAIN_ACCOUNT_TOKEN": ("plivo", "main_account_secrets"),
}
"""Environment variables that set an adapter option: variable -> (provider, option)."""


@attrs.frozen
class ProviderConfig:
    """One provider whose webhooks the app serves.

    Attributes:
        name: The provider's name (``"twilio"``), also its webhook path segment.
        secrets: The secrets its signatures may be made with, current one first.
        public_url: Where this provider calls the app's root, if not the app's public URL.
        options: Further keyword arguments for the adapter's constructor (TOML table
            ``[providers.NAME.options]``), such as Plivo's ``main_account_secrets``.
    """

    name: str
    secrets: tuple[str, ...] = attrs.field(repr=False)
    public_url: str | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen
class AppConfig:
    """Everything the HTTP app needs; every field has a variable and a TOML key.

    Attributes:
        public_url: The URL providers call the app's root at; signatures are checked
            against it (``CALLTRACK_PUBLIC_URL``, ``public_url``).
        database_url: The storage (``CALLTRACK_DATABASE_URL``, ``database_url``); a SQLite
            file by default, ``memory://`` for a throwaway one.
        providers: The providers served, each switched on by its secret.
        brand: The name callers and recruiters hear.
        locale: The prompts' locale (``en``, ``ru``).
        voice: A provider voice name for the prompts.
        prompts: Templates that replace shipped ones, by prompt kind (``greeting``).
        default_region: The region national numbers are read in.
        ring_timeout: Seconds the real phone rings.
        record_calls: Record conversations.
        accept_key: The key a recruiter presses to take a call, if one is required.
        caller_id: ``caller`` or ``virtual``: what the recruiter's phone shows.
        quarantine_days: Days a released number rests before reuse.
        max_body: The largest body accepted, in bytes.
        trust_forwarded: Rebuild the URL from ``X-Forwarded-*`` headers when no public URL
            is set (only behind a proxy that sets them).
        mask_phones: Hide the middle digits of phone numbers in logs.
        directory: ``"module:name"`` of the candidate directory (or a callable making it).
        notifier: ``"module:name"`` of the notifier (or a callable making it).
    """

    public_url: str | None = None
    database_url: str | None = None
    providers: tuple[ProviderConfig, ...] = ()
    brand: str = "calltrack"
    locale: str = "en"
    voice: str | None = None
    prompts: Mapping[str, str] = attrs.field(factory=dict)
    default_region: str | None = "RU"
    ring_timeout: int = 20
    record_calls: bool = True
    accept_key: str | None = None
    caller_id: str = "caller"
    quarantine_days: int = 60
    max_body: int = DEFAULT_MAX_BODY
    trust_forwarded: bool = False
    mask_phones: bool = True
    directory: str | None = None
    notifier: str | None = None

    def tracker_settings(self) -> Settings:
        """The tracker's :class:`~calltrack.Settings`.

        Raises:
            ConfigurationError: For a value the settings refuse.
        """
        try:
            policy = CallerIdPolicy(self.caller_id)
        except ValueError:
            raise ConfigurationError(
                f"caller_id must be 'caller' or 'virtual', not {self.caller_id!r}"
            ) from None
        if self.quarantine_days < 0:
            raise ConfigurationError("quarantine_days must not be negative")
        return Settings(
            default_region=self.default_region,
            quarantine=timedelta(days=self.quarantine_days),
            ring_timeout=self.ring_timeout,
            record_calls=self.record_calls,
            caller_id=policy,
            accept_key=self.accept_key,
        )

    def tracker_prompts(self) -> Prompts:
        """The tracker's :class:`~calltrack.Prompts`.

        Raises:
            ConfigurationError: For an unknown prompt kind or placeholder.
        """
        kinds = {kind.value: kind for kind in PromptKind}
        overrides: dict[PromptKind, str] = {}
        for key, template in self.prompts.items():
            if key not in kinds:
                raise ConfigurationError(
                    f"no prompt named {key!r} in [prompts]; known: {', '.join(sorted(kinds))}"
                )
            overrides[kinds[key]] = template
        templates = {self.locale: overrides} if overrides else {}
        return Prompts(brand=self.brand, locale=self.locale, templates=templates, voice=self.voice)


# --- reading --------------------------------------------------------------------------
_Kind = Callable[[str, object], object]


def _as_str(name: str, value: object) -> object:
    if not isinstance(value, str):
        raise ConfigurationError(f"{name} must be text, not {value!r}")
    return value


def _as_int(name: str, value: object) -> object:
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}")
    return value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _as_bool(name: str, value: object) -> object:
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be true or false, not {value!r}")
    return value


# field -> (environment variable, TOML table or "", TOML key, reader)
_FIELDS: Mapping[str, tuple[str, str, str, _Kind]] = {
    "public_url": ("CALLTRACK_PUBLIC_URL", "", "public_url", _as_str),
    "database_url": ("CALLTRACK_DATABASE_URL", "", "database_url", _as_str),
    "max_body": ("CALLTRACK_MAX_BODY", "", "max_body", _as_int),
    "trust_forwarded": ("CALLTRACK_TRUST_FORWARDED", "", "trust_forwarded", _as_bool),
    "mask_phones": ("CALLTRACK_MASK_PHONES", "", "mask_phones", _as_bool),
    "directory": ("CALLTRACK_DIRECTORY", "", "directory", _as_str),
    "notifier": ("CALLTRACK_NOTIFIER", "", "notifier", _as_str),
    "brand": ("CALLTRACK_BRAND", "tracker", "brand", _as_str),
    "locale": ("CALLTRACK_LOCALE", "tracker", "locale", _as_str),
    "voice": ("CALLTRACK_VOICE", "tracker", "voice", _as_str),
    "default_region": ("CALLTRACK_DEFAULT_REGION", "tracker", "default_region", _as_str),
    "ring_timeout": ("CALLTRACK_RING_TIMEOUT", "tracker", "ring_timeout", _as_int),
    "record_calls": ("CALLTRACK_RECORD_CALLS", "tracker", "record_calls", _as_bool),
    "accept_key": ("CALLTRACK_ACCEPT_KEY", "tracker", "accept_key", _as_str),
    "caller_id": ("CALLTRACK_CALLER_ID", "tracker", "caller_id", _as_str),
    "quarantine_days": ("CALLTRACK_QUARANTINE_DAYS", "tracker", "quarantine_days", _as_int),
}
_TABLES = frozenset({"tracker", "prompts", "providers"})


def _split_secrets(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise ConfigurationError(f"cannot read the configuration file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"the configuration file {path} is not TOML: {exc}") from None


def _from_toml(data: Mapping[str, Any], origin: str) -> dict[str, Any]:  # noqa: C901 - one check per table
    values: dict[str, Any] = {}
    by_place = {(table, key): field for field, (_, table, key, _) in _FIELDS.items()}
    for key, value in data.items():
        if isinstance(value, dict) and key in _TABLES:
            continue
        if ("", key) not in by_place:
            raise ConfigurationError(f"{origin}: unknown setting {key!r}")
        field = by_place["", key]
        values[field] = _FIELDS[field][3](f"{origin}: {key}", value)
    tracker = data.get("tracker", {})
    for key, value in tracker.items():
        if ("tracker", key) not in by_place:
            raise ConfigurationError(f"{origin}: unknown setting [tracker] {key!r}")
        field = by_place["tracker", key]
        values[field] = _FIELDS[field][3](f"{origin}: [tracker] {key}", value)
    prompts = data.get("prompts", {})
    for key, value in prompts.items():
        _as_str(f"{origin}: [prompts] {key}", value)
    if prompts:
        values["prompts"] = dict(prompts)
    providers: list[ProviderConfig] = []
    for name, table in data.get("providers", {}).items():
        if not isinstance(table, dict):
            raise ConfigurationError(f"{origin}: [providers.{name}] must be a table")
        providers.append(_provider_from_toml(name, table, origin))
    if providers:
        values["providers"] = tuple(providers)
    return values


def _provider_from_toml(name: str, table: Mapping[str, Any], origin: str) -> ProviderConfig:
    where = f"{origin}: [providers.{name}]"
    secret_key = PROVIDER_SECRETS.get(name, ("", "secret"))[1]
    unknown = set(table) - {secret_key, "secrets", "public_url", "options"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown setting {min(unknown)!r}")
    secrets: tuple[str, ...] = ()
    if "secrets" in table:
        listed = table["secrets"]
        if not isinstance(listed, list) or not all(isinstance(s, str) for s in listed):
            raise ConfigurationError(f"{where}: secrets must be a list of text")
        secrets = tuple(listed)
    if secret_key in table:
        secrets = (str(_as_str(f"{where} {secret_key}", table[secret_key])), *secrets)
    if not secrets:
        raise ConfigurationError(f"{where}: give {secret_key} (or secrets)")
    public_url = table.get("public_url")
    if public_url is not None:
        _as_str(f"{where} public_url", public_url)
    options = table.get("options", {})
    if not isinstance(options, dict):
        raise ConfigurationError(f"{where}: options must be a table")
    return ProviderConfig(name, secrets, public_url, options)


def _from_env(env: Mapping[str, str], base: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(base)
    for field, (variable, _, _, reader) in _FIELDS.items():
        text = env.get(variable)
        if text is not None and text != "":
            values[field] = reader(variable, text)
    providers = {p.name: p for p in values.get("providers", ())}
    for name, (variable, _) in PROVIDER_SECRETS.items():
        secrets = _split_secrets(env.get(variable, ""))
        if secrets:
            known = providers.get(name)
            providers[name] = ProviderConfig(
                name,
                secrets,
                known.public_url if known else None,
                known.options if known else {},
            )
    for variable, (name, option) in PROVIDER_OPTIONS.items():
        values_given = _split_secrets(env.get(variable, ""))
        known = providers.get(name)
        if values_given and known is not None:
            providers[name] = attrs.evolve(known, options={**known.options, option: values_given})
    if providers:
        values["providers"] = tuple(providers[n] for n in sorted(providers))
    return values


def load_config(
    source: AppConfig | str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> AppConfig:
    """Read the configuration: a TOML file, then the environment over it.

    Args:
        source: A ready configuration (returned as is), a TOML file's path, or ``None`` for
            the file named by ``$CALLTRACK_CONFIG``, if any.
        env: The environment; :data:`os.environ` by default.

    Raises:
        ConfigurationError: Naming the file, variable or key that is wrong.
    """
    if isinstance(source, AppConfig):
        return source
    env = os.environ if env is None else env
    path = source if source is not None else env.get(ENV_CONFIG) or None
    values: dict[str, Any] = {}
    if path is not None:
        values = _from_toml(_read_toml(Path(path)), str(path))
    return AppConfig(**_from_env(env, values))


# --- building -------------------------------------------------------------------------
def _import_object(spec: str, what: str) -> object:
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ConfigurationError(f"{what} must be 'package.module:name', not {spec!r}")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load the {what} {spec!r}: {exc}") from None
    return found() if callable(found) and isinstance(found, type) else found


def _provider(config: AppConfig, provider: ProviderConfig) -> Provider:
    try:
        cls = load_provider_class(provider.name)
    except ImportError as exc:
        raise ConfigurationError(f"the {provider.name} provider is not available ({exc})") from None
    base_url = provider.public_url or config.public_url or "http://localhost"
    try:
        adapter: Provider = cls(
            provider.secrets, base_url=base_url.rstrip("/"), **dict(provider.options)
        )
    except TypeError as exc:
        raise ConfigurationError(f"[providers.{provider.name}.options]: {exc}") from None
    return adapter


def build_handler(
    config: AppConfig,
    *,
    directory: CandidateDirectory | None = None,
    notifier: Notifier | None = None,
) -> tuple[WebhookHandler, Callable[[], None]]:
    """Make the webhook handler a configuration describes, and a function that closes it.

    Args:
        config: The configuration.
        directory: The candidate directory, overriding ``config.directory``.
        notifier: The notifier, overriding ``config.notifier``.

    Raises:
        ConfigurationError: If no provider is switched on, no public URL is set (and
            forwarded headers are not trusted), or a setting is wrong. Nothing is opened then.
    """
    if not config.providers:
        names = ", ".join(variable for variable, _ in PROVIDER_SECRETS.values())
        raise ConfigurationError(f"no provider is configured: set one of {names}")
    unset = [p.name for p in config.providers if not (p.public_url or config.public_url)]
    if unset and not config.trust_forwarded:
        raise ConfigurationError(
            "CALLTRACK_PUBLIC_URL (public_url) is not set: signatures cover the URL the "
            "provider called, so give the public URL of this app (or set "
            "CALLTRACK_TRUST_FORWARDED=1 behind a proxy that sets X-Forwarded-Host)"
        )
    settings = config.tracker_settings()
    prompts = config.tracker_prompts()
    providers = [_provider(config, p) for p in config.providers]
    if directory is None and config.directory:
        directory = _checked(_import_object(config.directory, "directory"), CandidateDirectory)
    if notifier is None and config.notifier:
        notifier = _checked(_import_object(config.notifier, "notifier"), Notifier)
    storage = open_storage(config.database_url)
    tracker = CallTracker(
        storage, directory=directory, notifier=notifier, settings=settings, prompts=prompts
    )
    handler = WebhookHandler(
        tracker,
        providers,
        max_body=config.max_body,
        public_url=config.public_url,
        public_urls={p.name: p.public_url for p in config.providers if p.public_url},
        trust_forwarded=config.trust_forwarded,
        mask_phones=config.mask_phones,
    )
    return handler, storage.close


def _checked(found: object, port: type[Any]) -> Any:  # noqa: ANN401 - the port's type
    if not isinstance(found, port):
        raise ConfigurationError(f"{found!r} is not a {port.__name__}")
    return found
