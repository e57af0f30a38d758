"""Format recognizers that hold across countries: street addresses and IBANs.

Addresses: a street-type word of the lexicon (:mod:`curation.pii.lexicon`: "Street", "Rua",
"utca", "Jalan", glued "Koskikatu") with a house number before or after it ("No. 184",
"Nr. 5" too), then what follows on the same line or the next ones: units ("Apt. 864",
"Suite 501"), postcodes of many countries, city, state and country names. A house number, street
name and number followed by a unit ("20789 Allika 46, Suite 501") counts without a type word,
and so does a digit-bearing phrase after an address cue ("I moved to ...", "address: ...").

IBANs: every country of the IBAN registry, with or without spaces, checked by length and mod 97.
"""

from __future__ import annotations

import functools
import re

from .lexicon import load as load_lexicon

# Length of the IBAN of each country of the IBAN registry (SWIFT, release 2024) plus partial members.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
    "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
    "SO": 23, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    # partial members, French overseas and others that publish IBANs
    "AO": 25, "BF": 28, "BJ": 28, "CI": 28, "CM": 27, "CV": 25, "DZ": 26, "GA": 27, "IR": 26, "MG": 27, "ML": 28,
    "MZ": 25, "SN": 28, "TG": 28, "HN": 28, "KM": 27, "MA": 28, "NE": 28, "TD": 27, "CG": 27, "CF": 27, "GQ": 27,
    "GW": 25,
}
_IBAN_RX = re.compile(r"(?<![\w])[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){10,32}")


def iban_valid(candidate: str) -> bool:
    s = re.sub(r"[ \-]", "", candidate).upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s.isalnum():
        return False
    return int("".join(str(int(ch, 36)) for ch in s[4:] + s[:4])) % 97 == 1


def find_ibans(text: str) -> list[tuple[str, int, int, float]]:
    """IBANs of every registry country; the match is cut at the country's length, so a grouped IBAN
    followed by a word ("DE89 3704 ... 00 please") ends where the IBAN does."""
    out = []
    for m in _IBAN_RX.finditer(text):
        want = IBAN_LENGTHS.get(m.group()[:2].upper())
        if want is None:
            continue
        count, end = 0, m.start()
        for i in range(m.start(), m.end()):
            if text[i].isalnum():
                count += 1
                if count == want:
                    end = i + 1
                    break
        if count == want and iban_valid(text[m.start():end]) and not (end < len(text) and text[end].isalnum()
                                                                          and text[end - 1] != " "):
            out.append(("IBAN_CODE", m.start(), end, 1.0))
    return out


@functools.lru_cache(maxsize=1)
def _upper_class() -> str:
    """A regex character class of every uppercase letter (``re`` has no \\p{Lu})."""
    chars = [chr(c) for c in range(0x3000) if chr(c).isupper()]  # Latin, Greek, Cyrillic, Armenian, ...
    return "[" + "".join(re.escape(c) for c in chars) + "]"


_NUM = r"(?:\d{1,5}[A-Za-z]?(?:\s?[/\-]\s?\d{1,5}[A-Za-z]?)?(?!\d)|S/N(?!\w))"  # S/N: "sin número", no house number
_NUM_MARK = r"(?:(?:No|Nr|Nro|Num|nº|n°|Nº|N°)\.?\s?)"
_LINK = (r"(?:de|do|da|das|dos|la|las|los|del|dei|della|delle|degli|di|du|des|le|van|der|den|of|the|y|e|al|el|na|nad"
         r"|pod|u)(?!\w)")
_UNIT = (r"(?i:Apt|Apartment|Appt|Suite|Ste|Unit|Flat|Floor|Fl|No|Nr|Bldg|Building|Room|Rm|Piso|Andar|Etage|Wohnung"
         r"|Block|Blk|Bl|lgh|RT|RW|Sc|Ap|Et|Box|PO Box|Postfach|Apto|Depto|Dpto|Dto|Casa|Lote|Oficina|Of|Local|Bodega|Puerta"
         r"|Piano|Interior|Int|N°|Nº|nº|n°)(?![^\W\d_])\.?\s?#?\s?[\w\-/]+|#\s?\d+")  # not "No" of "now"
_POSTCODE = (r"(?:\d{5}(?:-\d{3,4})?|\d{4}-\d{3}|\d{3}\s\d{2}|\d{2}-\d{3}|\d{4}\s?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
             r"|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}-\d{4,5}|\d{3}-\d{4}|\d{4,6})(?!\w)")
# a missing field as data exports write it, between a town and its postcode: "ASKER nan 1386"
_MISSING = r"(?:,?[ \t]+(?:nan|NaN|None|null|NULL|N/A)(?=,?[ \t]+" + _POSTCODE + r"))?"
_ADDRESS_CUE = (r"(?:zip(?: code)?\s*:|post(?:al)? ?code\s*:|address(?:\s+is|\s*:|\s+to)|arrived at|arrive at|delivered at|(?:should )?go to|sent to|live at|lives at|living at|reside at|residing at|moved to|deliver(?:ed)? to"
                r"|ship(?:ping)? (?:it |them )?to|send (?:it |them )?to|located at|left it at|pick (?:it )?up at"
                r"|based at|mail(?:ing)? address|billing address|home address|delivery address)[:,]?\s+")
# "my zip code is 880", "PLZ: 10115", "CEP 01310-100": a postcode after its name, of any length
_ZIP_RX = re.compile(r"\b(?:zip|post(?:al)?[ -]?code|postcode|plz|cep|pin ?code|código postal|code postal)"
                     r"(?:[ \t]+(?:code|number|no\.?))?(?:[ \t]+is|[ \t]*[:#])?[ \t]+([A-Z0-9](?:[A-Z0-9]|[ -](?=[A-Z0-9])){2,9})(?![\w-])",
                     re.IGNORECASE)
# post-office boxes in the languages of the street types: "P.O. Box 104", "Postfach 12 34", "Caixa Postal 55"
_PO_BOX_RX = re.compile(r"\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post(?:al)? Office Box|Postfach|Apartado(?: Postal)?|Caixa Postal"
                        r"|Case Postale|Casella Postale|Skrytka pocztowa|Postbus|Postboks)[ \t]+\d[\d \t]{0,8}\d?(?![\w-])",
                        re.IGNORECASE)
_CUE_STOP = re.compile(r"\n\s*\n|\n(?=\s*(?:" + r"thanks|thx|cheers|regards|best|br|ty)\b)"
                       r"|(?<!\b\w)(?<!\b\w\w)(?<!\b\w\w\w)[.!?](?:\s|$)"
                       r"|\s(?:please|pls|plz|thanks|thx|and|but|instead|asap|nobody|so|because|since|or)\b", re.I)


def _trie(words) -> str:
    """A regex alternation of ``words`` factored by common prefixes (``re`` tries alternatives one by one)."""
    tree: dict = {}
    for w in words:
        node = tree
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if ends else body

    return "(?:" + emit(tree) + ")"


@functools.lru_cache(maxsize=1)
def _address_rx() -> tuple[re.Pattern, re.Pattern, re.Pattern, re.Pattern]:
    lex = load_lexicon()
    up = _upper_class()
    word = up + r"[\w'’.\-]*"
    name_word = r"(?:" + word + r"|" + _LINK + r"|\d{1,3}(?:st|nd|rd|th|ª|º)(?!\w))"  # "27th Street", "Calle 1ª"
    typ = r"(?:(?i:" + _trie(lex.street) + r")\.?(?!\w)|u\.)"  # "u." is Hungarian utca
    by_len: dict[int, list[str]] = {}
    for suffix in lex.street_suffixes:
        by_len.setdefault(len(suffix), []).append(suffix)
    # a whole word, then look back for a street-type ending: no backtracking over split points
    glued = (r"(?<![\w'’\-])[\w'’\-]{3,}(?<=\w)(?!\w)(?i:" + "|".join(
        f"(?<={_trie(group)})" for _, group in sorted(by_len.items())) + ")"
        r"(?<=[\w'’\-]{3}\w\w\w)")
    any_word = r"[^\W\d_][\w'’.\-]*"  # lowercase too: only where a house number closes the street
    end_num = r",?[ \t]" + _NUM_MARK + r"?" + _NUM + r"(?!\w)"
    after_type = r"(?:(?:[ \t]" + any_word + r"){1,3}" + end_num + r"|(?:[ \t]" + name_word + r"){0,3}(?:" + end_num + r")?)"
    core = (
        # number first: "86036 Rua do Arenque 1634", "6750 Koskikatu 25", "12 Main Street", "688 rue du centre 320"
        # ("H.No. 95, Parikh Chowk", a house number alone on the line before: "52/06\nChahal Nagar")
        r"(?<!\w)(?:H\.?[ \t]?No\.?[ \t]?)?" + _NUM + r",?(?:[ \t]|[ \t]*\n[ \t]*)(?:" + name_word + r"[ \t]){0,3}(?:" + typ
        + r"|" + glued + r")" + after_type +
        # type first or after the name: "Rua do Arenque 1634", "Gang KH Amin Jasuta No. 184", "Calle 27 # 3-68",
        # "Rožičeva ulica 3b", "Koskikatu 25", "Árpád fejedelem útja 62"
        r"|(?<!\w)(?:(?:" + word + r"[ \t](?:" + any_word + r"[ \t]){0,2})?" + typ + r"(?:[ \t]" + name_word + r"){0,4}|"
        + glued + r")(?:,?[ \t]?" + _NUM_MARK + r"?|[ \t]#[ \t]?)" + _NUM + r"(?!\w)"
        # a street name and number, then a postcode and town: "Moldavská 8, 942 40 Mičakovce", "Kamenita 0c\n77604 Nin"
        r"|(?<!\w)(?:" + name_word + r"[ \t]){0,2}" + word + r"(?:[ \t]" + any_word + r"){0,2}[ \t]" + _NUM
        + r"(?=[ \t]*,{0,2}[ \t]*(?:\n[ \t]*)?,?[ \t]*(?:" + up + r"{1,3}[ \t])?" + _POSTCODE + r"[ \t]+" + up + r")"
        # lowercase, with a unit after the type: "3911 fourth avenue suite 112"
        r"|(?<!\w)" + _NUM + r"[ \t](?:" + any_word + r"[ \t]){1,3}" + typ + r"(?=[ \t]*,?[ \t]*(?:" + _UNIT + r"))"
        # house number, street name, number, then a unit: "20789 Allika 46\n Suite 501", "0605 πεντέλης 210 apt. 999"
        r"|(?<!\w)" + _NUM + r"[ \t](?:" + any_word + r"[ \t]){1,4}" + _NUM
        + r"(?=[ \t]*,?(?:\n[^\w\n]{0,5})?[ \t]*(?:" + _UNIT + r"))"
        # house number, street name, number: "87818 Dalmatinova 68" (weaker, see find_addresses)
        r"|(?P<bare>(?<!\w)\d{2,6}[ \t](?:" + word + r"[ \t]){1,3}\d{1,5}[A-Za-z]?)(?![\w.,]\d)"
    )
    paren = r"(?:[ \t]\([^()\n]{1,30}\))?"  # "Cyprus (Greek) 25572", "ΑΓΛΑΝΤΖΙΑ (ΑΓΛΑΓΓΙΑ)"
    cont = (r"(?:\.?[ \t]*,?[ \t]*(?:\n[^\w\n]{0,5}){0,2},?[ \t]*)(?:" + _UNIT + r"|" + _POSTCODE + r"(?:\s" + word + r"){0,2}"
            r"|" + word + r"(?:[ \t](?!" + _POSTCODE + r")" + name_word + r"){0,3}" + paren + _MISSING + r"(?:,?[ \t]+" + _POSTCODE + r"(?:[ \t]" + word + r"){0,2})?(?![\w'’.\-]|[ \t]*:)"
            # lowercase place lines: "delmas, mp 35739", "belgium 97466", a whole short line ("marke")
            r"|(?P<low>" + any_word + r"(?:,?[ \t]" + any_word + r"){0,2}(?:" + paren + r",?[ \t]+" + _POSTCODE
            + r"|(?=[ \t]*\n))))")
    return (re.compile(core), re.compile(cont), re.compile(_ADDRESS_CUE, re.I), re.compile(r"[,\n]"))


def _extend(text: str, end: int, cont: re.Pattern, sep: re.Pattern) -> int:
    """Extend an address over units, postcodes and place names that follow it (at most six parts)."""
    lex = load_lexicon()
    for _ in range(6):
        m = cont.match(text, end)
        if not m or (m.group("low") and any(lex.is_common(w) for w in re.findall(r"[^\W\d_]+", m.group("low")))):
            break
        glue = text[end:m.end()][: len(text[end:m.end()]) - len(text[end:m.end()].lstrip(" \t,\n."))]
        part = m.group().strip(" \t,\n.")
        if not sep.search(glue) and not re.match(_UNIT + "|" + _POSTCODE, part):
            break  # a place name must follow a comma or a line break; a unit or postcode may follow a space
        end = m.end()
    return end


def extend_address(text: str, end: int) -> int:
    """Where an address that a pattern found up to ``end`` really ends: over the units, postcodes and
    place lines that follow it (the same continuation as :func:`find_addresses`)."""
    _, cont, _, sep = _address_rx()
    return _extend(text, end, cont, sep)


_LEAD_RX = re.compile(r"([^\W\d_]+)[ \t]+")
# type words that name a street and little else ("Court", "Place", "Way", "Dr." do not qualify)
_STRONG_TYPES = (r"(?i:Street|St\.|Road|Rd\.|Avenue|Ave\.|Boulevard|Blvd\.?|Lane|Ln\.|Drive|Terrace|Crescent|Highway"
                 r"|Parkway|Stra(?:ss|ß)e|Str\.)(?!\w)")


@functools.lru_cache(maxsize=1)
def _named_street_rx() -> re.Pattern:
    """A street named without a house number: up to three capitalised words, maybe a number, then a
    type word that names nothing but streets ("on Elm Street", "the corner of Izaak Islands St.",
    "Hafnarstraeti 5 Street"); lowercase only with a number, after on/at/of/in ("lives on misiones
    6199 street")."""
    word = _upper_class() + r"[\w'’\-]*"
    return re.compile(
        r"(?<![\w.\-])(?:" + word + r"[ \t](?:" + _LINK + r"[ \t])?){0,2}" + word + r"(?:[ \t]\d{1,5}[A-Za-z]?\.?)?[ \t]"
        + _STRONG_TYPES + r"|(?<=\b(?:on|at|of|in)[ \t])[^\W\d_][\w'’\-]*[ \t]\d{1,5}[ \t](?i:street|st\.|road|rd\.)(?!\w)")


def _named_streets(text: str) -> list[tuple[str, int, int, float]]:
    lex, out = load_lexicon(), []
    for m in _named_street_rx().finditer(text):
        start, end = m.start(), m.end()
        lead = _LEAD_RX.match(text, start, end)
        while lead and lex.is_common(lead.group(1)) and lead.group(1).casefold() not in lex.street:
            start = lead.end()  # "The Main Street shop": sentence words are not the street's name
            lead = _LEAD_RX.match(text, start, end)
        if re.search(r"[^\W\d_][\w'’\-]*[ \t]", text[start:end]):  # a name is left before the type word
            out.append(("STREET_ADDRESS", start, extend_address(text, end), 0.6))
    return out



def find_addresses(text: str) -> list[tuple[str, int, int, float]]:
    """Street addresses in the formats of many countries (see the module docstring)."""
    if not any(ch.isdigit() for ch in text):
        return _named_streets(text)  # every other address form below needs a number
    core, cont, cue, sep = _address_rx()
    out = []
    lex = load_lexicon()
    for m in core.finditer(text):
        end = _extend(text, m.end(), cont, sep)
        if not any(ch.isdigit() for ch in text[m.start():end]):  # "Alameda X, S/N" needs the postcode after it
            continue
        if m.group("bare") and (any(lex.is_common(w) for w in re.findall(r"[^\W\d_]+", m.group("bare")))
                                or not re.search(r"(?:^|\n|[,:]|\b(?:at|on|to|in|is|from))[ \t]*$", text[:m.start()], re.I)):
            continue  # "paid 20 Euros 5 times": only after a place word, and no common word as a street name
        start = m.start()
        before = re.search(r"(?<!\w)\d{1,6}[A-Za-z]?,?[ \t]+$", text[max(0, start - 12):start])
        if before:  # a house number before a match that began at the street: "13813 Via ..."
            start -= len(before.group())
        lead = _LEAD_RX.match(text, start, end)
        while lead and lex.is_common(lead.group(1)) and lead.group(1).casefold() not in lex.street:
            start = lead.end()  # "Deliver to Flantzring 9, ...": the words of the sentence are not the street
            lead = _LEAD_RX.match(text, start, end)
        out.append(("STREET_ADDRESS", start, end, 0.7))
    out += [("STREET_ADDRESS", m.start(1), m.end(1), 0.6) for m in _ZIP_RX.finditer(text) if re.search(r"\d", m.group(1))]
    out += [("STREET_ADDRESS", m.start(), _extend(text, m.end(), cont, sep), 0.7) for m in _PO_BOX_RX.finditer(text)]
    for m in cue.finditer(text):
        stop = _CUE_STOP.search(text, m.end())
        end = stop.start() if stop else len(text)
        value = text[m.end():end].rstrip(" ,;:")
        if any(ch.isdigit() for ch in value) and 4 <= len(value) <= 120 and "@" not in value:
            out.append(("STREET_ADDRESS", m.end(), m.end() + len(value), 0.55))
    return out + _named_streets(text)


_PHONE_CUE_RX = re.compile(
    r"(?:phone|mobile|cell|tel|telephone|number is|number:|call me(?: back)?(?: on| at)?|reach me(?: on| at)?|text me(?: on)?"
    r"|whatsapp|fax|ph|mob|nr|answering (?:at|on)|registered(?: phone| mobile| number)?|dial(?:ed|ing)?"
    r"|ring (?:me|us)(?: on| at)?|(?:call|reach|text|contact) (?:us|him|her|them)(?: on| at))\.?[:,]?\s+(?:is\s+|on\s+|to\s+)?(?P<v>\+?\(?\d[\d \t().\-/]{4,22}\d)(?![\w@])", re.I)
# a cue after the number: "9882001 is my cell", "4348 3954 (mobile)", "07700 063 966-Fax", "21 253 1098 - office"
_PHONE_AFTER_RX = re.compile(
    r"(?<![\w+\-/.:#])(?<!\d,)(?P<v>\+?\(?\d[\d \t().\-/]{4,22}\d)(?=[ \t]*(?:[(\-–,][ \t]*)?(?:is[ \t]+)?(?:(?:my|our|his|her|the)[ \t]+)?"
    r"(?:(?:cell|mobile|phone|tel|telephone|landline|fax|whatsapp|office|home)(?![\w-])|(?:(?<=my )|(?<=our )|(?<=his )"
    r"|(?<=her ))number\b))", re.I)
_PHONE_LINE_RX = re.compile(r"(?m)^[ \t]*(?P<v>\+?\(?\d[\d \t().\-/]{5,20}\d)[ \t]*$")
# four pairs of digits with one separator ("71-33-52-22", "06 85 63 60"): how phones are written in much of Europe
_PHONE_PAIRS_RX = re.compile(r"(?<![\w+\-/.])(?<!\d,)(?P<v>\d{2}([ \-])\d{2}\2\d{2}\2\d{2}(?:\2\d{2})?|\d{2}(?:\.\d{2}){4})"
                             r"(?![\w\-/]|[.,]\d)")  # four dotted pairs are an IP address


# digits in groups as phone numbers are written across countries, with no cue: "(351) 918096792", "06-9/217 4218",
# "79 8778-9328", "487 78 932", "8 (877) 893-28-79", "0 32 877 89 32", "07700 063 966-Fax" (a label glued by a
# hyphen ends the number; see find_phone_cues for what is left out)
_PHONE_GROUPS_RX = re.compile(
    r"(?<![\w+\-/.:#])(?<!\d,)(?P<v>(?:(?P<cc>\(\d{1,4}\))[ \t]?|\d{1,2}[ \t]\((?P<area>\d{2,5})\)[ \t]?)?\d{1,10}"
    r"(?:(?:[ \t]|[ \t]?[\-/][ \t]?)\d{1,10}){0,5})(?:[ \t]?(?:x|ext\.?)[ \t]?\d{1,6})?(?![\w/:]|-(?![^\W\d_]{2})|[.,]\d)")
# North American numbers written with dots, maybe an extension: "418.341.9082", "Office,860.704.4814x998-Fax"
_PHONE_DOTS_RX = re.compile(r"(?<![\w+\-/.])(?<!\d,)(?P<v>\d{3}\.\d{3}\.\d{4}(?:[ \t]?(?:x|ext\.?)[ \t]?\d{1,6})?)"
                            r"(?![\w/:]|[.,]\d|-(?![^\W\d_]{2}))")
_WHOLE_DATE_RX = re.compile(r"\d{1,2}[ .\-/]\d{1,2}[ .\-/]\d{2,4}|\d{4}[ .\-/]\d{1,2}[ .\-/]\d{1,2}|.*\b\d{1,2}/\d{1,2}/\d{2,4}\b.*")
_THOUSANDS_RX = re.compile(r"[1-9]\d{0,2}(?:[ ,.]\d{3})+")
_CURRENCY_RX = re.compile(r"[$€£¥₹₽]\s?$|\b(?:EUR|USD|GBP|CHF|PLN|HUF|SEK|NOK|DKK|CZK|kr|zł|Ft|Kč|lei)\s*$", re.I)


def _grouped_phones(text: str) -> list[tuple[str, int, int, float]]:
    out = []
    for m in _PHONE_GROUPS_RX.finditer(text):
        v = m.group("v")
        digits = sum(ch.isdigit() for ch in v)
        groups = len(re.findall(r"\d+", v))
        joined = "-" in v or "/" in v or m.group("cc") or m.group("area")
        if not 8 <= digits <= 15 or groups < (2 if joined else 3) or _THOUSANDS_RX.fullmatch(v) \
                or _WHOLE_DATE_RX.fullmatch(v) or _CURRENCY_RX.search(text[max(0, m.start() - 5):m.start()]):
            continue
        out.append(("PHONE_NUMBER", m.start("v"), m.end(), 0.45))
    return out + [("PHONE_NUMBER", m.start("v"), m.end(), 0.5) for m in _PHONE_DOTS_RX.finditer(text)]


_DATE_RX = re.compile(r"\b(?:19|20)\d\d\b|\b\d{1,2}[ .\-/]\d{1,2}[ .\-/](?:19|20)\d\d")  # a year as a group of its own


def find_phone_cues(text: str) -> list[tuple[str, int, int, float]]:
    """National phone numbers of any country after a phone cue ("call me back on 21 232 628"), or
    alone on a line (a signature): 7 to 15 digits; or, with no cue, 8 to 15 digits in three or more
    groups, or in two joined by "-" or "/" or after an area code in parentheses ("79 8778-9328",
    "(351) 918096792"). Left out: thousands ("12 500 000"), dates, amounts after a currency, dotted
    groups (versions, IP addresses), and two space-separated groups ("1003 3907")."""
    if not any(ch.isdigit() for ch in text):
        return []
    out = _grouped_phones(text)
    for rx, score in ((_PHONE_CUE_RX, 0.6), (_PHONE_AFTER_RX, 0.6), (_PHONE_LINE_RX, 0.45), (_PHONE_PAIRS_RX, 0.5)):
        for m in rx.finditer(text):
            digits = sum(ch.isdigit() for ch in m.group("v"))
            if 7 <= digits <= 15 and not _DATE_RX.search(m.group("v")) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}", m.group("v")):
                out.append(("PHONE_NUMBER", m.start("v"), m.end("v"), score))
    return out
