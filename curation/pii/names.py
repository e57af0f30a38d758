"""Rule recognizers that generalise across locales: names, addresses, IBANs, phone numbers.

Each ``find_*`` takes a text (and, for names, the spaCy doc) and returns
``[(entity, start, end, score)]``; :mod:`curation.pii.recognizers` wraps them for Presidio.

- Names: cue phrases, case-insensitive ("my name is", "this is X from", "on behalf of", titles,
  sign-offs), the multi-locale name lexicon (:mod:`curation.pii.lexicon`) for runs of names with
  no cue, spaCy ORG/GPE spans re-examined on lexicon or cue evidence, and spaCy PERSON spans
  extended over hyphenated parts and particles ("van der", "de la", "bin", "al-"); then each found
  name vouches for its neighbours (given names, surnames, list members: :mod:`curation.pii.person_context`).
- Addresses: a street-type word of one of 25 languages (whole word or glued: "Koskikatu") with a
  house number before or after, "No."/"Nr."/"Apt."/"Suite" units, and what follows on the same or
  next lines (postcode, city, state, country); or any digit-bearing phrase after an address cue.
- IBAN: every country of the IBAN registry, length and mod-97 checked, with or without spaces.
- Phones: libphonenumber's matcher (international numbers of every region, national numbers of
  the regions in ``PHONE_REGIONS``).
"""

from __future__ import annotations

import re
import unicodedata

from .lexicon import load as load_lexicon
from .person_context import SIGNOFF_WORDS as _SIGNOFF_WORDS
from .person_context import RELATIONS, TITLES, addressed_names, grow_names, stop_words

PARTICLES = {"van", "der", "den", "de", "la", "le", "du", "da", "dos", "das", "di", "del", "della", "von", "bin",
             "binti", "ibn", "ben", "ter", "ten", "mac", "st", "y", "e", "zu", "al", "el", "ó", "ní", "nic", "ua", "mc"}
# Surname endings of many languages: a capitalised word with one of these is a name even outside the lexicon
# ("Musliyevich", "Szczepańska", "Bergsveinsson"). STRONG ones alone; the others only beside another name word.
_STRONG_SURNAME = (r"ovi[cćč]|evi[cćč]|ovich|evich|ovna|evna|enko|escu|eanu|wicz|czyk|ński|ńska|dóttir|dottir|sson"
                   r"|poulos|opoulou|idis|akis|oğlu|oglu|ishvili|iashvili|adze|yan|ová|ská|ský")
_SURNAME_RX = re.compile(r"(?:(?P<strong>" + _STRONG_SURNAME + r")|ov|ev|ova|eva|ski|ska|sky|skaya|ić)$",
                         re.I)
_TOKEN_RX = re.compile(r"[^\W\d_]+(?:(?:['’](?!s\b)|-)[^\W\d_]+)*")  # "Jones-Clayton", "O'Neil", not "'s"
_STRONG_CUES = (
    r"my name is|my name's|my names|name is|(?:full |first |last |sur)?name\s*[:?]|name on the (?:account|card)(?: is)?"
    r"|account holder(?: is)?|card ?holder(?: is)?|holder|recipient|on behalf of|signed|attn\.?|attention"
    r"|calls me|called|named|starring|directed by|written by"
)
_WEAK_CUES = (
    r"this is|i am|i'm|im|it's|its|it is|call me|contact|reach|ask for|spoke (?:to|with)|talked to|tell|cc"
    r"|dear|hi|hello|hey|thanks|customer|agent|colleague|from|for|with|by|and|or"
)
# "my kid Tadzio", "our landlord Mr Okafor": a capitalised word after a relation is a name on that evidence alone
_RELATION_CUES = r"(?:my|our|his|her|their) " + RELATIONS
_SIGNOFFS = (
    r"thanks|thx|thank you|cheers|regards|best|br|ty|many thanks|kind regards|best regards|warm regards|best wishes"
    r"|sincerely|yours|love|greetings|cordially|merci|gracias|danke|grüße|groetjes|saludos|cumprimentos|obrigado"
)
_TITLE_CUES = r"mr\.?|mrs\.?|ms\.?|miss|dr\.?|prof\.?|sir|madam|mx\.?|mme\.?|herr|frau"
_CUE_RX = re.compile(r"(?<![\w'])(?:(?P<strong>" + _STRONG_CUES + r")|(?P<relation>" + _RELATION_CUES + r")|(?P<title>"
                     + _TITLE_CUES + r")|(?P<weak>" + _WEAK_CUES + r"))[:,]?[ \t]+", re.I)
_PRONOUNS = {"i", "me", "you", "he", "him", "she", "her", "we", "us", "they", "them", "myself"}
_SIGNOFF_RX = re.compile(r"(?:^|[\n.!,;]\s*|\s)(?:" + "|".join(sorted(_SIGNOFFS.split("|"), key=len, reverse=True)) + r")[,.!]?[ \t]*(?:\n[ \t]*|-\s*)?(?=\w)",
                         re.I | re.M)
_AFTER_RX = re.compile(r"\s+(?:here|speaking|from|again)\b", re.I)


def _script_latin(word: str) -> bool:
    return all("LATIN" in unicodedata.name(ch, "LATIN") for ch in word if ch.isalpha())


def _tokens(text: str) -> list[re.Match]:
    return list(_TOKEN_RX.finditer(text))


def _surname(word: str, lex, strong: bool = True) -> bool:
    """Shaped like a surname (see ``_SURNAME_RX``), at least 6 letters, not a common word."""
    m = _SURNAME_RX.search(word)
    return bool(m) and len(word) >= 6 and (m.group("strong") is not None or not strong) and not lex.is_common(word)


def _is_name(word: str, lex) -> bool:
    """In the name lexicon, or a hyphenated name all of whose parts are ("diaconu-barbu"), or surname-shaped."""
    if lex.is_name(word) or _surname(word, lex):
        return True
    parts = [p for p in re.split(r"[\-'’]", word) if p]
    return len(parts) > 1 and all(lex.is_name(p) or p.casefold() in PARTICLES or _surname(p, lex) for p in parts)


def _name_like(word: str, lex, strict: bool) -> bool:
    """Could this word be part of a name? strict: lexicon or capitalised evidence is needed."""
    w = word.casefold()
    if lex.is_common(word) or (len(word) < 2 and _script_latin(word)) or w in TITLES or w in _SIGNOFF_WORDS:
        return False
    if not strict:
        return True
    return _is_name(word, lex) or (word[0].isupper() and not word.isupper()) or not _script_latin(word)


def _run(text: str, toks: list[re.Match], i: int, lex, strict: bool, limit: int = 4,
         strict_rest: bool = False) -> tuple[int, int] | None:
    """The longest name run starting at token i (after a title): name-like words separated by single
    spaces, particles and initials inside. Only the first word needs the ``strict`` evidence
    (lexicon, capital, non-Latin script); the others need only not be common words, unless
    ``strict_rest``.
    Returns (start, end) or None."""
    while i + 1 < len(toks) and toks[i].group().casefold() in TITLES and text[toks[i].end():toks[i + 1].start()] in (
            " ", ". "):
        i += 1
    end, count, j = None, 0, i
    start = toks[i].start()
    while j < len(toks) and count < limit:
        tok = toks[j]
        if j > i:
            gap = text[toks[j - 1].end():tok.start()]
            initial = len(toks[j - 1].group()) == 1 and gap in (". ", ".")
            if (gap.strip(" ") or not gap) and not initial:
                break
        word = tok.group()
        if word.casefold() in PARTICLES and count and j + 1 < len(toks):
            j += 1
            continue
        if len(word) == 1 and word.isupper() and j + 1 < len(toks):  # an initial: "Faina D. Yefremova"
            j += 1
            continue
        if not _name_like(word, lex, strict and (count == 0 or strict_rest)):
            break
        end, count = tok.end(), count + 1
        j += 1
    return (start, end) if end else None


def _index_at(toks: list[re.Match], pos: int) -> int | None:
    for k, t in enumerate(toks):
        if t.start() >= pos:
            return k if t.start() - pos <= 2 else None
    return None


def _person_before(text: str, pos: int, lex) -> bool:
    prev = re.findall(r"[^\W\d_]+", text[max(0, pos - 30):pos])
    return bool(prev) and (prev[-1].casefold() in _PRONOUNS or lex.is_name(prev[-1]))


def _cue_names(text: str, toks, lex) -> list[tuple[str, int, int, float]]:
    out = []
    for m in _CUE_RX.finditer(text):
        k = _index_at(toks, m.end())
        if k is None:
            continue
        strong, weak = m.group("strong") is not None, m.group("weak") is not None
        span = _run(text, toks, k, lex, strict=not strong)
        first = toks[k].group()
        if span is None and strong and first[0].isupper() and first.casefold() not in stop_words() | TITLES:
            span = (toks[k].start(), toks[k].end())  # "her maiden name is Key", "starring Key"
        if span is None:
            continue
        lexical = lex.is_name(first) or not _script_latin(first) or (
            not first.isascii() and not lex.is_word(first))  # "call me višeslav": diacritics English words lack
        if (weak or (m.group("relation") and first.islower())) and not lexical:
            continue  # "this is Urgent": a weak cue needs the lexicon as well
        if weak and first.islower() and m.group("weak").casefold() in ("and", "or") and not _person_before(text, m.start(), lex):
            continue  # "rock and roll": lowercase after "and" only beside a person ("me and sarah", "john and mary")
        out.append(("PERSON", *span, 0.6 if weak or m.group("relation") else 0.75))
    for m in _SIGNOFF_RX.finditer(text):
        k = _index_at(toks, m.end())
        if k is None:
            continue
        span = _run(text, toks, k, lex, strict=True)
        if span and re.match(r"[ \t]*(?:$|\n|[.,!)]|-)", text[span[1]:]):
            out.append(("PERSON", *span, 0.6))
    for k in range(len(toks)):  # "maria here", "Jan Kowalski speaking", start of a message or line
        if k == 0 or "\n" in text[toks[k - 1].end():toks[k].start()] or text[:toks[k].start()].strip(" ,") in (
                "hi", "hey", "hello"):
            span = _run(text, toks, k, lex, strict=True, limit=3)
            if span and _AFTER_RX.match(text, span[1]) and lex.is_name(toks[k].group()):
                out.append(("PERSON", *span, 0.6))
    return out


def _sentence_start(text: str, pos: int) -> bool:
    before = text[:pos].rstrip(" \t\"'(")
    return not before or before[-1] in ".!?\n:"


def _lexicon_names(text: str, toks, lex) -> list[tuple[str, int, int, float]]:
    out, k = [], 0
    while k < len(toks):
        word = toks[k].group()
        if not _is_name(word, lex) or lex.is_common(word):
            k += 1
            continue
        span = _run(text, toks, k, lex, strict=True, strict_rest=True)
        if span is None:
            k += 1
            continue
        words = [t.group() for t in toks if span[0] <= t.start() < span[1] and t.group().casefold() not in PARTICLES
                 and len(t.group()) > 1]
        in_lex = sum(_is_name(w, lex) for w in words)
        caps = all(w[0].isupper() for w in words)
        latin = _script_latin(word)
        if len(words) >= 2 and (caps or in_lex == len(words)):
            out.append(("PERSON", *span, 0.7 if caps else 0.6))
        elif len(words) == 1 and not latin:
            out.append(("PERSON", *span, 0.6))
        elif len(words) == 1 and caps and not word.isupper():
            # mid-sentence: a capitalised lexicon name; at a sentence start, weaker (a review flag)
            out.append(("PERSON", *span, 0.35 if _sentence_start(text, span[0]) else 0.5))
        k = next((j for j, t in enumerate(toks) if t.start() >= span[1]), len(toks))
    return out


def _spacy_names(text: str, doc, lex) -> list[tuple[str, int, int, float]]:
    """spaCy's spans re-examined: PERSON spans extended over hyphens and particles; ORG, GPE and
    NORP spans made of lexicon names taken as persons."""
    out = []
    if doc is None:
        return out
    for ent in doc.ents:
        start, end = ent.start_char, ent.end_char
        if ent.label_ == "PERSON":
            m = re.match(r"(?:-[^\W\d_]+)+", text[end:])
            end += m.end() if m else 0
            m = re.search(r"(?:\b(?:" + "|".join(sorted(PARTICLES)) + r")[ \-])+$", text[:start], re.I)
            start = m.start() if m else start
            if (start, end) != (ent.start_char, ent.end_char):
                out.append(("PERSON", start, end, 0.85))
        elif ent.label_ in ("ORG", "GPE", "NORP", "FAC", "LOC"):
            words = [w for w in _TOKEN_RX.findall(ent.text) if w.casefold() not in PARTICLES]
            if words and all(lex.is_name(w) and not lex.is_common(w) for w in words) and \
                    all(w.casefold() not in lex.street for w in words):
                out.append(("PERSON", start, end, 0.6))
    return out


# Verbs that say the word before them is a person: "Ciset lives on ...", "Asya spent a year at ...".
_PERSON_VERB_RX = re.compile(r"[ \t]+(?:lives|lived|works|worked|was born|spent|told|asked|said|says|wrote|replied"
                             r"|is from|married|had given|calls|called me|speaks"
                             r"|began|started|joined|graduated|studied|moved|died|retired|attended)\b")


def _predicate_names(text: str, toks, lex) -> list[tuple[str, int, int, float]]:
    out = []
    for k, tok in enumerate(toks):
        if not _PERSON_VERB_RX.match(text, tok.end()):
            continue
        j = k  # the capitalised run ending at this token (at most two words)
        while j > 0 and k - j < 1 and text[toks[j - 1].end():toks[j].start()] == " " and _name_like(
                toks[j - 1].group(), lex, True) and toks[j - 1].group()[0].isupper():
            j -= 1
        words = [t.group() for t in toks[j:k + 1]]
        if all(w[0].isupper() and not w.isupper() and not lex.is_common(w) and w.casefold() not in TITLES
               for w in words) and not (len(words) == 1 and words[0].casefold() in lex.english
                                         and not lex.is_name(words[0])):  # "the Journal wrote"
            out.append(("PERSON", toks[j].start(), tok.end(), 0.5))
        elif tok.group().islower() and lex.is_name(tok.group()) and not lex.is_common(tok.group()) and (
                k == 0 or _sentence_start(text, tok.start())):  # "selma is from ...", lowercase
            out.append(("PERSON", tok.start(), tok.end(), 0.45))
        elif k >= 1 and tok.group().islower() and not lex.is_word(tok.group()) and toks[k - 1].group().islower() \
                and lex.is_name(toks[k - 1].group()) and not lex.is_common(toks[k - 1].group()) and (
                k == 1 or _sentence_start(text, toks[k - 1].start())):  # "eva kleist lives at ..."
            out.append(("PERSON", toks[k - 1].start(), tok.end(), 0.45))
    return out


# a speaker says something: words after the colon (not a form field such as "Mobile: 0341 ...")
_SPEAKER_RX = re.compile(r"^[ \t]*([^\W\d_][\w'’\-]*):[ \t]+[^\W\d_][^\n]*?\s[^\W\d_]", re.M)
_ROLES = {"bot", "user", "agent", "customer", "support", "system", "assistant", "admin", "operator", "q", "a", "me",
          "you", "note", "re", "subject", "from", "to", "cc", "date", "sent", "ps"}


def _speaker_names(text: str, lex) -> list[tuple[str, int, int, float]]:
    """Speakers of a transcript: two or more lines start with "Name: ..."."""
    found = [m for m in _SPEAKER_RX.finditer(text)]
    if len(found) < 2:
        return []
    return [("PERSON", m.start(1), m.end(1), 0.5) for m in found
            if m.group(1)[0].isupper() and not lex.is_common(m.group(1)) and m.group(1).casefold() not in _ROLES]


_INITIAL_RX = re.compile(r"(?<![\w'’-])([^\W\d_][\w'’\-]+) ([^\W\d_])\.? ([^\W\d_][\w'’\-]+)(?![\w'’])")


def _shape_names(text: str, toks, lex) -> list[tuple[str, int, int, float]]:
    """Names by their shape rather than the lexicon: a first name, an initial and a surname ("Szabina J
    Gelencsér", "benjamin a seiler"), and surname-shaped words ("Bekbolat Musliyevich", "Szczepańska")."""
    out = []
    for m in _INITIAL_RX.finditer(text):
        first, mid, last = m.group(1), m.group(2), m.group(3)
        caps = first[0].isupper() and mid.isupper() and last[0].isupper() and not first.isupper()
        lower = first.islower() and mid.islower() and last.islower()
        ok_words = not lex.is_common(first) and first.casefold() not in TITLES and mid.casefold() != "i"
        if ok_words and caps and (mid != "A" or lex.is_name(first)):
            out.append(("PERSON", m.start(), m.end(), 0.6))
        elif ok_words and lower and lex.is_name(first) and not lex.is_common(last) and len(last) >= 3:
            out.append(("PERSON", m.start(), m.end(), 0.5))
    for k, tok in enumerate(toks):
        word = tok.group()
        if not _surname(word, lex, strong=False) or word.isupper():
            continue
        prev = toks[k - 1].group() if k and text[toks[k - 1].end():tok.start()] == " " else ""
        pair = prev and _name_like(prev, lex, True) and (prev[0].isupper() == word[0].isupper())
        if pair and (word[0].isupper() or lex.is_name(prev)):
            out.append(("PERSON", toks[k - 1].start(), tok.end(), 0.6))
        elif word[0].isupper() and _surname(word, lex):
            out.append(("PERSON", tok.start(), tok.end(), 0.5))
    return out


_ORG_WORDS = {"inc", "ltd", "llc", "gmbh", "corp", "co", "company", "group", "bank", "plc", "sa", "ag", "bv", "oy",
              "ab", "as", "srl", "spa", "kg", "university", "school", "hospital", "hotel", "restaurant", "store"}


def _block_names(text: str, lex) -> list[tuple[str, int, int, float]]:
    """The first line of a contact block ("Einojuhani Pyysalo\nLocal transit bus driver\n5670 ..."): a line
    of two or three name-like words that opens a text of three or more lines holding a number."""
    lines = text.split("\n")
    if len([ln for ln in lines if ln.strip()]) < 3 or not any(ch.isdigit() for ch in text):
        return []
    first = next(ln for ln in lines if ln.strip())
    start = text.index(first)
    m = re.fullmatch(r"[^\w\n]{0,5}?([^\W\d_][\w'’\-]*(?:\.? [^\W\d_][\w'’\-]*){1,2})[ \t]*", first)
    if not m:
        return []
    words = re.findall(r"[^\W\d_][\w'’\-]*", m.group(1))
    if any(lex.is_common(w) or w.casefold() in _ORG_WORDS or w.casefold() in TITLES for w in words if len(w) > 1) \
            or not (all(w[0].isupper() for w in words) or m.group(1).islower()) or m.group(1).isupper():
        return []
    return [("PERSON", start + m.start(1), start + m.end(1), 0.5)]


def find_names(text: str, doc=None) -> list[tuple[str, int, int, float]]:
    """Person names from cues, the lexicon, name shapes, person verbs and spaCy's re-examined spans."""
    lex = load_lexicon()
    toks = _tokens(text)
    found = (_cue_names(text, toks, lex) + _lexicon_names(text, toks, lex) + _predicate_names(text, toks, lex)
             + _speaker_names(text, lex) + _spacy_names(text, doc, lex) + _shape_names(text, toks, lex)
             + _block_names(text, lex) + addressed_names(text, lex))
    found = [f for f in found if not _nationality(f, doc)]
    return found + grow_names(text, toks, lex, found, doc)


def _nationality(span, doc) -> bool:
    """A one-word lexicon hit that spaCy reads as a nationality or language ("studying English")."""
    _, a, b, score = span
    return score <= 0.5 and doc is not None and any(
        e.start_char == a and e.end_char == b and e.label_ in ("NORP", "LANGUAGE") for e in doc.ents)
