"""Removing personal data and secrets before text becomes training data.

scrubadub finds e-mail addresses, phone numbers, credit-card and social-security
numbers, URLs with credentials and "password: …" style credentials; the secret shapes
the log redactor knows (Slack tokens, API keys, bearer credentials) and Slack user
mentions are removed too; names are replaced where we can know them: the people a
message mentions, and names people give ("my name is …", a sign-off).
"""

from __future__ import annotations

import re

import scrubadub

from supportbot.logs import SECRET_PATTERNS

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
# Names people give about themselves; the capitalised words that follow are the name.
SELF_NAMED = re.compile(
    r"\b(?P<intro>(?:my name is|i am|i'm|this is|thanks,|thank you,|regards,|cheers,)\s+)"
    r"(?P<name>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\b",
    re.IGNORECASE,
)
PLACEHOLDERS = {
    "email": "[email]",
    "phone": "[phone]",
    "credit_card": "[card number]",
    "social_security_number": "[id number]",
    "credential": "[credential]",
    "url": "[url]",
    "twitter": "[handle]",
}


class Scrubber:
    def __init__(self) -> None:
        self._scrubber = scrubadub.Scrubber()
        # Documentation links are not personal; keep them so answers stay useful.
        self._scrubber.remove_detector("url")

    def __call__(self, text: str) -> str:
        text = SECRET_PATTERNS.sub("[secret]", text)
        text = MENTION.sub("[user]", text)
        text = SELF_NAMED.sub(_name, text)
        filth = list(self._scrubber.iter_filth(text))
        for item in sorted(filth, key=lambda f: f.beg, reverse=True):
            placeholder = PLACEHOLDERS.get(item.type, f"[{item.type}]")
            text = text[: item.beg] + placeholder + text[item.end :]
        return text


def _name(match: re.Match[str]) -> str:
    name = match.group("name")
    # "I am unable…" or "This is broken": only capitalised words are a name.
    if not name[0].isupper() or name.split()[0].lower() in {"not", "unable", "using", "trying"}:
        return match.group(0)
    return f"{match.group('intro')}[name]"
