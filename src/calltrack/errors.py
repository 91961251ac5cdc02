"""The exceptions calltrack raises.

Every error derives from :class:`CalltrackError`; where a builtin exception fits, the error
derives from it too, so ``except ValueError`` keeps working in code that does not know
calltrack.
"""

from __future__ import annotations

__all__ = [
    "CalltrackError",
    "ConfigurationError",
    "InvalidPhoneNumber",
    "InvalidSignature",
    "MalformedWebhook",
    "PoolExhausted",
    "ProviderAPIError",
    "ProviderNotInstalled",
    "StorageConflict",
    "StorageError",
    "StorageUnavailable",
    "UnknownCall",
    "UnknownResponse",
    "UnknownVacancy",
    "UnknownVirtualNumber",
]


class CalltrackError(Exception):
    """The base of every error raised by calltrack."""


class ConfigurationError(CalltrackError, ValueError):
    """A setting has a value calltrack cannot work with; the message names the setting."""


class InvalidPhoneNumber(CalltrackError, ValueError):
    """A phone number could not be parsed or is not a valid number.

    Attributes:
        raw: The text that was given.
        reason: Why it was refused, in a few words.
    """

    def __init__(self, raw: str, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"invalid phone number {raw!r}: {reason}")


class PoolExhausted(CalltrackError):
    """No virtual number of the needed country is free in the pool.

    Attributes:
        country: The ISO 3166 region code that ran out (``"RU"``).
        area: The area code that was preferred, if any.
    """

    def __init__(self, country: str, area: str | None = None) -> None:
        self.country = country
        self.area = area
        super().__init__(
            f"the pool has no free virtual number for country {country}; "
            f"add numbers of {country} to the pool (CallTracker.add_numbers or "
            "`calltrack pool buy`) or wait for quarantined ones to come back"
        )


class UnknownVirtualNumber(CalltrackError, LookupError):
    """The number is not in the pool."""

    def __init__(self, number: str) -> None:
        self.number = number
        super().__init__(f"{number} is not a number of the pool")


class UnknownVacancy(CalltrackError, LookupError):
    """No vacancy with this id was ever tracked."""

    def __init__(self, vacancy_id: str) -> None:
        self.vacancy_id = vacancy_id
        super().__init__(f"vacancy {vacancy_id!r} is not tracked")


class UnknownCall(CalltrackError, LookupError):
    """An event names a call that calltrack never saw start."""

    def __init__(self, provider: str, call_id: str) -> None:
        self.provider = provider
        self.call_id = call_id
        super().__init__(f"no call {call_id!r} from provider {provider!r} is known")


class UnknownResponse(CalltrackError, LookupError):
    """No response with this id exists."""

    def __init__(self, response_id: str) -> None:
        self.response_id = response_id
        super().__init__(f"no response {response_id!r} exists")


class InvalidSignature(CalltrackError):
    """A webhook's signature is missing, stale or does not match any configured secret."""


class MalformedWebhook(CalltrackError, ValueError):
    """A webhook's payload lacks a field or has one calltrack cannot read.

    Attributes:
        field: The field at fault, where one can be named.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class ProviderNotInstalled(CalltrackError, ImportError):
    """The SDK a provider feature needs is not installed; the message names the extra."""

    def __init__(self, provider: str, extra: str | None = None) -> None:
        self.provider = provider
        self.extra = extra or provider
        super().__init__(
            f"the {provider} SDK is not installed; install it with "
            f"`pip install 'calltrack[{self.extra}]'`"
        )


class ProviderAPIError(CalltrackError):
    """A provider's REST API refused a request.

    Attributes:
        provider: The provider's name.
        status: The HTTP status, when there was one.
        message: What the provider said.
    """

    def __init__(self, provider: str, status: int | None, message: str) -> None:
        self.provider = provider
        self.status = status
        self.message = message
        shown = f"HTTP {status}" if status is not None else "no HTTP status"
        super().__init__(f"{provider} API error ({shown}): {message}")


class StorageError(CalltrackError):
    """The storage could not carry out an operation."""


class StorageUnavailable(StorageError):
    """The storage cannot be reached right now; retrying later may succeed."""


class StorageConflict(StorageError):
    """A concurrent transaction got there first; running the unit of work again is safe.

    Storages raise it for unique-constraint races, serialization failures and lock
    timeouts; the tracker retries the whole unit of work a bounded number of times.
    """
