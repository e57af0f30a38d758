"""Person spans grown from the names found around them (the last step of :func:`curation.pii.names.find_names`).

A name found by one recognizer is evidence for the words next to it:

- a capitalised word right after a found name that is also a common word is its surname ("Zoe
  Young", "Brad L Key");
- a capitalised word right before a found one-word name is its given name, even outside every
  lexicon ("Calquín Cazares", "Rościsław Dudek", "Mashuu Samurakami"), unless it is a common or
  dictionary word;
- a capitalised word someone is addressed by: after a greeting ("Hi Kat,", "Dear Estrid Holm:"), at the
  start of a line before a comma and a request or question ("Mozes, can I speak to your boss?"), or
  before a possessive relation ("Teruyoshi's kid"); a person added to an account ("add Raimond Reumer as
  a beneficiary"), the answer to a question for a name ("What's the name on the account? User: Iwao
  Iwase"), a quote's speaker ('..." says Du Cane.');
- the other members of a list or a pair with a found name are names ("Usamov and Bowers",
  "Kónya, Becker and Vasquez", lowercase too: "silvana, adam, christopher and caleb"), repeated
  until the list is covered.

Found names include spaCy's PERSON spans. Words that are common English, titles, sign-off words
or pronoun contractions ("I'm") never join a name this way.
"""

from __future__ import annotations

import functools
import re

TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "madam", "mx", "mme", "mlle", "herr", "frau", "sr", "sra"}
SIGNOFF_WORDS = {"thanks", "thx", "cheers", "regards", "best", "br", "ty", "sincerely", "yours", "love", "greetings",
                 "wishes", "kind", "warm", "many", "merci", "gracias", "danke", "saludos", "obrigado"}


# kin and other relations: "my kid Tadzio" (names.py), "Teruyoshi's kid"
RELATIONS = (
    r"(?:wife|husband|son|daughter|kids?|child|baby|colleague|co-?worker|friend|boss"
    r"|manager|partner|mother|father|mom|mum|dad|brother|sister|neighbou?r|assistant|grand(?:son|daughter|ma|pa"
    r"|mother|father)|niece|nephew|cousin|uncle|aunt|fianc[ée]e?|girlfriend|boyfriend|roommate|flatmate"
    r"|landlord|landlady|tenant|teacher|doctor|lawyer|step(?:son|daughter|mother|father))"
)
_GREETINGS = {"hi", "hello", "hey", "dear", "hiya", "howdy", "yo", "morning", "evening", "afternoon"}
_WORD = r"[^\W\d_][\w'’\-]*"
_GREETING_RX = re.compile(r"(?im)^[ \t]*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))[ \t]+(" + _WORD
                          + r"(?:[ \t]+" + _WORD + r")?)[ \t]*(?=[,!:]|\n|$)")
_VOCATIVE_RX = re.compile(r"(?m)^[ \t]*(" + _WORD + r"(?:[ \t]+" + _WORD + r")?),[ \t]+(?i:can|could|would|will|do|did"
                          r"|are|is|have|please|i|you|we|thanks|thank|what|where|when|how|why|just|let|listen|look"
                          r"|tell|give|help)\b")
# a quote's speaker: '... in that direction," says Du Cane.'
_QUOTED_BY_RX = re.compile(r"[,!?][\"”'’][ \t]*(?:says|said|adds|added|explains|explained|notes|noted|writes|wrote"
                           r"|recalls|recalled|told us|tells us)[ \t]+(" + _WORD + r"(?:[ \t]+" + _WORD + r"){0,2})"
                           r"(?=[ \t]*(?:[.,;!?]|$))")
_POSSESSIVE_RX = re.compile(r"(" + _WORD + r")['’]s[ \t]+" + RELATIONS + r"\b")
# a person added to an account: "add Raimond Reumer as a beneficiary"
_ADDED_AS_RX = re.compile(r"(?i:\badd(?:ed|ing)?)[ \t]+(" + _WORD + r"(?:[ \t]+" + _WORD + r"){0,2})[ \t]+"
                          r"(?i:as[ \t]+(?:an?|my|the|our)[ \t]+(?:(?:authori[sz]ed|joint|additional|second|secondary)[ \t]+)?"
                          r"(?:beneficiary|payee|recipient|user|card ?holder|account ?holder|signatory|guarantor|executor"
                          r"|dependant|dependent|emergency contact))\b")
# the answer to a question for a name, as the next turn: "What's the name on the account? User: Iwao Iwase"
_NAME_ANSWER_RX = re.compile(r"(?i:\b(?:your|full|first|last|holder['’]?s?) name\b|\bname on the (?:account|card)\b"
                             r"|who am i (?:speaking|talking) (?:to|with)|who is this)[^?\n]{0,40}\?[ \t]*\n?[ \t]*"
                             r"(?:[^\W\d_]+:[ \t]*)?(" + _WORD + r"(?:[ \t]+" + _WORD + r"){0,3})[ \t]*(?=[.!]|\n|$)")


def addressed_names(text: str, lex) -> list[tuple[str, int, int, float]]:
    """Names someone is addressed or related by: after a greeting (0.6), a line's vocative before a
    request or question (0.5), a possessive relation (0.5), added to an account as a beneficiary or
    user (0.6), the answer to a question for a name (0.6), a quote's speaker (0.6). Words must be
    capitalised and joinable (see :func:`_joinable`); the vocative, possessive and added-as rules also
    refuse dictionary words that no name list holds ("Sorry, can I", "Apple's manager", "add Savings as")."""
    out = []
    rules = ((_GREETING_RX, 0.6, False), (_VOCATIVE_RX, 0.5, True), (_POSSESSIVE_RX, 0.5, True),
             (_ADDED_AS_RX, 0.6, True), (_NAME_ANSWER_RX, 0.6, False), (_QUOTED_BY_RX, 0.6, False))
    for rx, score, strict in rules:
        for m in rx.finditer(text):
            words = m.group(1).split()
            if all(w[0].isupper() and not w.isupper() and _joinable(w, lex) and w.casefold() not in lex.street
                   and not (strict and w.casefold() in lex.english and not lex.is_name(w)) for w in words):
                out.append(("PERSON", m.start(1), m.end(1), score))
    return out


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _joinable(word: str, lex) -> bool:
    """May this word join a name on its neighbour's evidence?"""
    w = word.casefold()
    head = re.split(r"['’]", w)[0]
    return not (lex.is_common(word) or w in TITLES or w in SIGNOFF_WORDS or w in _GREETINGS
                or head in stop_words() or len(word) < 2)


def _surnames_after(text: str, persons, lex) -> list[tuple[str, int, int, float]]:
    out = []
    for a, b, sc in persons:
        m = re.match(r" ([^\W\d_][^\W\d_'’-]*)(?![\w'’-])", text[b:])
        w = m.group(1) if m else ""
        if m and w[0].isupper() and not w.isupper() and (
                (lex.is_name(w) and w.casefold() not in stop_words())  # "Zoe Young"
                or (_joinable(w, lex) and not lex.is_word(w) and w.casefold() not in lex.street)):  # "Yuito Hirai"
            out.append(("PERSON", a, b + m.end(), min(sc, 0.6)))
    return out


def _given_names_before(text: str, toks, lex, persons) -> list[tuple[str, int, int, float]]:
    """"Calquín Cazares": a capitalised word, one space before a found one-word name, that is neither a
    common word nor an English dictionary word ("Contact Cazares", "Regarding Cazares" stay apart)."""
    starts = {a: (b, sc) for a, b, sc in persons if not re.search(r"\s", text[a:b])}
    out = []
    for k in range(1, len(toks)):
        hit = starts.get(toks[k].start())
        prev = toks[k - 1]
        word = prev.group()
        if hit is None or text[prev.end():toks[k].start()] != " " or not word[0].isupper() or word.isupper():
            continue
        if _joinable(word, lex) and not lex.is_word(word):
            out.append(("PERSON", prev.start(), hit[0], min(hit[1], 0.6)))
    return out


def _neighbours(text: str, toks, k: int) -> tuple[int | None, int | None]:
    """The tokens listed right before and after token k: across a comma, "&", "and" or "or"."""
    def gap(i: int) -> str:
        return text[toks[i].end():toks[i + 1].start()].strip()

    def conj(i: int) -> bool:
        return 0 <= i < len(toks) and toks[i].group().casefold() in ("and", "or")

    left = right = None
    if k >= 2 and conj(k - 1) and gap(k - 1) == "" and gap(k - 2) in ("", ","):
        left = k - 2
    elif k >= 1 and gap(k - 1) in (",", "&"):
        left = k - 1
    if k + 2 < len(toks) and conj(k + 1) and gap(k) in ("", ",") and gap(k + 1) == "":
        right = k + 2
    elif k + 1 < len(toks) and gap(k) in (",", "&"):
        right = k + 1
    return left, right


def _list_members(text: str, toks, lex, persons) -> list[tuple[str, int, int, float]]:
    """Words listed with a found name, until no more join: capitalised ones that are no common
    word, lowercase ones that are lexicon names or no dictionary word (when the name beside them is
    lowercase too: "leonti, terrence, pamela")."""
    spans = [(a, b) for a, b, sc in persons if sc >= 0.5]
    out: list[tuple[str, int, int, float]] = []
    changed = True
    while changed:
        changed = False
        for k, tok in enumerate(toks):
            word = tok.group()
            if any(a <= tok.start() < b for a, b in spans) or not _joinable(word, lex) or word.isupper():
                continue
            left, right = _neighbours(text, toks, k)
            neighbour = next((a for a, b in spans if left is not None and b == toks[left].end()), None)
            if neighbour is None:
                neighbour = next((a for a, _ in spans if right is not None and a == toks[right].start()), None)
            unlisted = len(word) >= 4 and not lex.is_word(word) and not re.match(r"\W*[\d+]", text[tok.end():])
            if neighbour is None or (word[0].islower() and not ((lex.is_name(word) or unlisted)
                                                                 and text[neighbour].islower())):
                continue
            out.append(("PERSON", tok.start(), tok.end(), 0.5))
            spans.append((tok.start(), tok.end()))
            changed = True
    return out


def grow_names(text: str, toks, lex, found, doc) -> list[tuple[str, int, int, float]]:
    """The spans that ``found`` (and spaCy's PERSON spans in ``doc``) are evidence for."""
    persons = [(a, b, sc) for _, a, b, sc in found] + [
        (e.start_char, e.end_char, 0.85) for e in (doc.ents if doc is not None else ()) if e.label_ == "PERSON"]
    members = _list_members(text, toks, lex, persons)
    return (_surnames_after(text, persons + [(a, b, sc) for _, a, b, sc in members], lex)
            + _given_names_before(text, toks, lex, persons) + members)
