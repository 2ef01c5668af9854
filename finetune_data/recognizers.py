"""The recognizers behind the scrubber (finetune_data/scrub.py): Presidio's checksum-
validated ones plus ours for what support text carries that Presidio has none for."""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from functools import cache

import spacy
import tldextract
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    PhoneRecognizer,
    UkNinoRecognizer,
    UkPostcodeRecognizer,
    UsSsnRecognizer,
)

from supportbot.logs import SECRET_PATTERNS


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


LANGUAGE = "en"
ROLE_MAILBOXES = _words(
    "accessibility abuse billing contact feedback help helpdesk hello info legal "
    "marketing noreply no-reply optout press privacy sales security service support "
    "team webmaster "
)
MIN_SCORE = 0.3
MIN_ECHO_CHARS = 4  # shorter values are too likely to be ordinary words elsewhere
# Regions whose national phone formats are recognised ("020 7946 0958" in the UK).
PHONE_REGIONS = ("US", "GB", "CA", "AU", "IE", "IN", "DE", "FR", "ES", "IT", "NL", "BR")

PLACEHOLDERS = {
    "EMAIL_ADDRESS": "[email]",
    "PHONE_NUMBER": "[phone]",
    "CREDIT_CARD": "[card number]",
    "IBAN_CODE": "[IBAN]",
    "IP_ADDRESS": "[IP address]",
    "MAC_ADDRESS": "[MAC address]",
    "US_SSN": "[id number]",
    "UK_NINO": "[id number]",
    "UK_POSTCODE": "[postcode]",
    "SECRET": "[secret]",
    "PASSWORD": "[password]",
    "STREET_ADDRESS": "[address]",
    "DATE_OF_BIRTH": "[date of birth]",
    "PERSON": "[name]",
    "SLACK_USER": "[user]",
}
_KINDS = "|".join(re.escape(p[1:-1]) for p in PLACEHOLDERS.values())
PLACEHOLDER = re.compile(rf"\[(?:{_KINDS})\]")

_SECRET_SHAPES = [
    SECRET_PATTERNS.pattern,  # what the log redactor masks: Slack, OpenAI, bearer
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b",  # AWS access key ids
    r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b",
    r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab personal access tokens
    r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{16,}",  # OpenAI keys
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWTs
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    r"\bhttps://hooks\.slack\.com/services/[A-Za-z0-9/]+",
]
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}-\d{2}-\d{2}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}|"
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_STREET_TYPES = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|"
    r"Pl|Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy|Row|Gardens|Walk|Hill)"
)
_CAPITALISED = r"[A-Z][a-zA-Z'-]+"
_TOWN = r"[A-Z][a-z'-]+"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
_NAME = rf"{_CAPITALISED}(?:\s+(?:van |de |von |da |di |O')?{_CAPITALISED}){{0,2}}"
# (entity, pattern, group holding the value (number or name), score): only that group is replaced.
_CONTEXT_PATTERNS: list[tuple[str, str, int | str, float]] = [
    ("SECRET", shape, 0, 0.9) for shape in _SECRET_SHAPES
] + [
    # AWS secret access keys: 40 characters, recognisable only by what precedes them.
    ("SECRET", r"(?i:aws.{0,30}?(?:secret|key).{0,20}?[:=\s]\s*)([A-Za-z0-9/+]{40})\b", 1, 0.9),
    (
        # A password stated as a value ("password is X", "PIN: 1234"): the value must
        # look like one (a digit or symbol in it) unless the person says it is theirs.
        "PASSWORD",
        r"(?i:\b(?:(?P<mine>my|our)\s+(?:[\w-]+\s+){0,2})?(?:password|passwd|pwd|passcode|"
        r"passphrase|pass phrase|pin(?: code)?|wi-?fi key|network key|security key)"
        r"(?:\s+for\s+[\w-]+(?:\s+[\w-]+)?)?\s*(?:is|was|[:=])\s*[\"'`]?)"
        r"(?P<value>[^\s\"'`,;]{3,64}?)[.!?]?(?=[\s\"'`,;]|$)",
        "value",
        0.8,
    ),
    (
        "US_SSN",
        r"(?i:\b(?:ssn|social security(?: number| no\.?)?|ss#)\s*(?:is\s*)?[:#]?\s*)"
        r"(\d{3}[- ]?\d{2}[- ]?\d{4})\b",
        1,
        0.9,
    ),
    (
        "DATE_OF_BIRTH",
        rf"(?i:\b(?:born(?:\s+on)?|date of birth|d\.?o\.?b\.?|birth ?date|birthday(?:\s+is)?)"
        rf"\s*(?:is\s*)?[:\-]?\s*)({_DATE})",
        1,
        0.85,
    ),
    (
        "STREET_ADDRESS",
        rf"\b(\d{{1,5}}[A-Za-z]?\s+(?:{_CAPITALISED}\s+){{1,3}}{_STREET_TYPES}\b\.?"
        r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|Flat)\.?\s*#?\w+)?"
        rf"(?:,\s+{_TOWN}(?:\s+{_TOWN})?)?(?:,?\s+(?:[A-Z]{{2}}\s+\d{{5}}(?:-\d{{4}})?|{_UK_POSTCODE}))?)",
        1,
        0.8,
    ),
    (
        "STREET_ADDRESS",
        r"\b([A-Z][a-zäöüß]+(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|straat)"
        r"\s+\d{1,4}[a-z]?)",
        1,
        0.8,
    ),
    (
        "PERSON",
        rf"(?i:\b(?:my name is|my name's|i am|i'm|call me|signed|my (?:colleague|coworker|"
        r"co-worker|manager|boss|wife|husband|partner|son|daughter|friend|assistant|admin|"
        rf"technician)(?: is|,)?)\s+)({_NAME})\b",
        1,
        0.7,
    ),
    # "This is Anna from…" opening a message, a greeting, a form field.
    ("PERSON", rf"(?:^|[.!?]\s+)(?i:this is)\s+({_NAME})\b", 1, 0.7),
    ("PERSON", rf"(?:^|[.!?:\n])\s*(?i:hi|hello|hey|dear)\s+({_NAME})\s*[,!]", 1, 0.7),
    ("PERSON", rf"(?i:\bname\s*:)\s*({_CAPITALISED}\s+{_CAPITALISED})\b", 1, 0.7),
    # A sign-off: "Thanks, Maria" / "Regards,\nMaria Lopez" ending a line.
    (
        "PERSON",
        rf"(?i:\b(?:regards|thanks|thank you|cheers|best|sincerely|kind regards))[,!]?\s+"
        rf"({_NAME})\s*$",
        1,
        0.7,
    ),
    ("PERSON", rf"(?m:^\s*[-\u2013\u2014~]\s*({_NAME})\s*$)", 1, 0.6),  # "- Maria"
    ("SLACK_USER", r"(<@[UW][A-Z0-9]+(?:\|[^>]*)?>)", 1, 1.0),
]
# Capitalised words after a name cue that are not a name ("I'm Unable", "Hi Team").
_NOT_NAMES = _words(
    "able about after again all also always an and any anyone are as at back being "
    "but by can cannot currently did do does done everyone for from getting going "
    "good great having here how i if in is it just looking new no not now of ok okay "
    "on or our out please pretty really running seeing since so sorry still sure "
    "team that the there this to trying unable using very was we were what when "
    "where which while why will with working yes you your hub router tv app support "
    "samsung galaxy "
)


class _BlankEnglish(SpacyNlpEngine):
    """Presidio's spaCy engine on a blank English pipeline: tokens, no trained NER."""

    def __init__(self) -> None:
        super().__init__(models=[{"lang_code": LANGUAGE, "model_name": "blank:en"}])

    def load(self) -> None:

        self.nlp = {LANGUAGE: spacy.blank(LANGUAGE)}


class _RegexRecognizer(EntityRecognizer):
    """A recognizer that scans with one regular expression and keeps the spans
    `accept` returns for its matches."""

    def __init__(self, entity: str, pattern: re.Pattern[str], score: float, name: str) -> None:
        self._pattern = pattern
        self._score = score
        super().__init__(supported_entities=[entity], name=name, supported_language=LANGUAGE)

    def load(self) -> None:
        pass

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        entity = self.supported_entities[0]
        return [
            RecognizerResult(entity, *span, self._score)
            for match in self._pattern.finditer(text)
            if (span := self.accept(match)) is not None
        ]

    def accept(self, match: re.Match[str]) -> tuple[int, int] | None:
        raise NotImplementedError


class _ContextRecognizer(_RegexRecognizer):
    """A regular expression whose one group is the personal value (the password, not
    "password is")."""

    def __init__(
        self, entity: str, pattern: str, group: int | str, score: float, name: str
    ) -> None:
        self._group = group
        super().__init__(entity, re.compile(pattern, re.MULTILINE), score, name)

    def accept(self, match: re.Match[str]) -> tuple[int, int] | None:
        start, end = match.span(self._group)
        value = match.string[start:end]
        entity = self.supported_entities[0]
        if start == end or PLACEHOLDER.fullmatch(value):
            return None
        if entity == "PERSON" and not _looks_like_name(value):
            return None
        if entity == "PASSWORD" and not (match.group("mine") or _looks_like_secret(value)):
            return None
        return start, end


class _HighEntropyRecognizer(_RegexRecognizer):
    """Long random-looking tokens (API keys of services we do not know by shape)."""

    TOKEN = re.compile(r"(?<![\w/.+-])[A-Za-z0-9_\-+/]{24,}={0,2}(?![\w/.-])")
    MIN_BITS_PER_CHAR = 4.0

    def __init__(self) -> None:
        super().__init__("SECRET", self.TOKEN, 0.7, "HighEntropyToken")

    def accept(self, match: re.Match[str]) -> tuple[int, int] | None:
        token = match.group(0)
        classes = sum(
            any(test(c) for c in token) for test in (str.islower, str.isupper, str.isdigit)
        )
        if classes >= 3 and _entropy(token) >= self.MIN_BITS_PER_CHAR:
            return match.span()
        return None


class _OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, checking domains against tldextract's bundled
    public-suffix snapshot instead of downloading the list at run time."""

    _domains = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    def validate_result(self, pattern_text: str) -> bool | None:
        local = pattern_text.split("@", 1)[0].casefold()
        # A team's role mailbox (support@, privacy@) identifies no one.
        return bool(self._domains(pattern_text).suffix) and local not in ROLE_MAILBOXES


class _GlobalIpRecognizer(IpRecognizer):
    """Presidio's IP recognizer, keeping only addresses that identify someone online."""

    def validate_result(self, pattern_text: str) -> bool | None:
        try:
            return ipaddress.ip_address(pattern_text).is_global
        except ValueError:
            return False


@cache
def build_analyzer() -> AnalyzerEngine:
    """One analyzer per process: building the recognizers takes a moment."""
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for recognizer in (
        CreditCardRecognizer(),
        IbanRecognizer(),
        _OfflineEmailRecognizer(),
        PhoneRecognizer(supported_regions=PHONE_REGIONS, leniency=2),
        _GlobalIpRecognizer(),
        MacAddressRecognizer(),
        UsSsnRecognizer(),
        UkNinoRecognizer(),
        UkPostcodeRecognizer(),
        _HighEntropyRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    for number, (entity, pattern, group, score) in enumerate(_CONTEXT_PATTERNS):
        registry.add_recognizer(
            _ContextRecognizer(entity, pattern, group, score, f"{entity.title()}Context{number}")
        )
    engine = _BlankEnglish()
    engine.load()
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=[LANGUAGE])


def _looks_like_name(value: str) -> bool:
    words = value.split()
    return bool(words) and words[0].casefold() not in _NOT_NAMES


def _looks_like_secret(value: str) -> bool:
    return any(c.isdigit() for c in value) or any(not c.isalnum() and c != "-" for c in value)


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())
