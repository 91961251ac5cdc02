"""Prompts: the words callers, recruiters and candidates hear, per locale and brand."""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping

import attrs

from calltrack.domain.decisions import Prompt
from calltrack.errors import ConfigurationError

__all__ = ["DEFAULT_TEMPLATES", "PromptKind", "Prompts"]


class PromptKind(enum.Enum):
    """Each sentence calltrack says or writes."""

    GREETING = "greeting"
    """To the caller before forwarding: the vacancy, the brand, the recording notice."""
    WHISPER = "whisper"
    """To the recruiter before bridging."""
    ACCEPT = "accept"
    """To the recruiter, when a key press is needed to take the call."""
    NOT_IN_SERVICE = "not_in_service"
    """To a caller of a number that is not assigned."""
    VACANCY_CLOSED = "vacancy_closed"
    """To a caller of a number whose vacancy stopped taking calls."""
    MISSED = "missed"
    """To the caller after nobody answered."""
    CONTACT_NOTICE = "contact_notice"
    """On the contact card: the number is for calls only."""
    RESPONSE_DELIVERED = "response_delivered"
    """To the candidate after the call: the response reached the employer with the resume."""


DEFAULT_TEMPLATES: Mapping[str, Mapping[PromptKind, str]] = {
    "en": {
        PromptKind.GREETING: (
            "You are calling about the vacancy {title} on {brand}. "
            "The conversation may be recorded."
        ),
        PromptKind.WHISPER: "A call from a candidate from {brand}.",
        PromptKind.ACCEPT: "Press {key} to take the call.",
        PromptKind.NOT_IN_SERVICE: "The number you have dialled is not in service.",
        PromptKind.VACANCY_CLOSED: "This vacancy on {brand} no longer takes calls. Goodbye.",
        PromptKind.MISSED: (
            "The employer could not answer. Your call has been registered; please try again later."
        ),
        PromptKind.CONTACT_NOTICE: "This is the employer's number for calls only.",
        PromptKind.RESPONSE_DELIVERED: (
            "Your response to the vacancy {title} was delivered to the employer "
            "together with your resume."
        ),
    },
    "ru": {
        PromptKind.GREETING: (
            "Вы звоните по вакансии {title} на сайте {brand}. Разговор может быть записан."
        ),
        PromptKind.WHISPER: "Вам звонит кандидат с сайта {brand}.",
        PromptKind.ACCEPT: "Нажмите {key}, чтобы принять звонок.",
        PromptKind.NOT_IN_SERVICE: "Набранный вами номер не обслуживается.",
        PromptKind.VACANCY_CLOSED: "Эта вакансия на сайте {brand} больше не принимает звонки.",
        PromptKind.MISSED: (
            "Работодатель не смог ответить. Ваш звонок зарегистрирован, перезвоните позже."
        ),
        PromptKind.CONTACT_NOTICE: "Это номер работодателя только для звонков.",
        PromptKind.RESPONSE_DELIVERED: (
            "Ваш отклик на вакансию {title} доставлен работодателю вместе с резюме."
        ),
    },
}

_LANGUAGE_TAGS = {"en": "en-US", "ru": "ru-RU"}
_FIELDS = frozenset({"title", "brand", "key"})


@attrs.frozen
class Prompts:
    """The templates of one deployment: a brand, a locale, and any overrides.

    Templates use ``{title}``, ``{brand}`` and ``{key}``; any other placeholder is refused
    when the prompts are made, not when a caller is on the line.

    Args:
        brand: The name callers and recruiters hear (``"hh.ru"``).
        locale: ``"en"`` or ``"ru"`` (shipped), or any locale given in ``templates``.
        templates: Templates per locale and kind, laid over the shipped ones.
        language: The text-to-speech language tag; derived from the locale if not given.
        voice: A provider voice name, passed through to the documents.
    """

    brand: str = "calltrack"
    locale: str = "en"
    templates: Mapping[str, Mapping[PromptKind, str]] = attrs.field(factory=dict)
    language: str | None = None
    voice: str | None = None

    def __attrs_post_init__(self) -> None:
        """Check that every kind has a template in the locale and each uses known fields."""
        for kind in PromptKind:
            template = self.template(kind)
            for _, field, _, _ in string.Formatter().parse(template):
                if field is not None and field not in _FIELDS:
                    raise ConfigurationError(
                        f"prompt template {kind.value!r} for locale {self.locale!r} uses "
                        f"{{{field}}}; only {{title}}, {{brand}} and {{key}} exist"
                    )

    def template(self, kind: PromptKind) -> str:
        """Return the template of ``kind`` in this locale."""
        own = self.templates.get(self.locale, {})
        if kind in own:
            return own[kind]
        shipped = DEFAULT_TEMPLATES.get(self.locale)
        if shipped is None:
            raise ConfigurationError(
                f"no templates for locale {self.locale!r}; shipped locales are "
                f"{', '.join(sorted(DEFAULT_TEMPLATES))}, or give Prompts(templates=...)"
            )
        return shipped[kind]

    @property
    def language_tag(self) -> str:
        """The text-to-speech language of these prompts."""
        return self.language or _LANGUAGE_TAGS.get(self.locale, self.locale)

    def text(self, kind: PromptKind, *, title: str = "", key: str = "1") -> str:
        """Return the words of ``kind`` with the placeholders filled in."""
        return self.template(kind).format(title=title, brand=self.brand, key=key)

    def prompt(self, kind: PromptKind, *, title: str = "", key: str = "1") -> Prompt:
        """Return ``kind`` as a :class:`Prompt` to speak."""
        return Prompt(self.text(kind, title=title, key=key), self.language_tag, self.voice)
