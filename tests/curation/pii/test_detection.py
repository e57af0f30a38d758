"""Detection that generalises: names of many locales, world addresses, every IBAN country, phones."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.pii import scrub_records
from curation.pii.formats import IBAN_LENGTHS, find_addresses, find_ibans, iban_valid
from curation.pii.lexicon import load
from curation.pii.names import find_names


def scrub(text: str) -> str:
    return scrub_records([{"text": text}])[0].fields["text"]


@pytest.mark.parametrize(("text", "gone"), [
    ("Please refund Holly Jones-Clayton today.", ["Holly", "Jones", "Clayton"]),
    ("my name is florián šimonovič and i need help", ["florián", "šimonovič"]),
    ("My name is Rubija", ["Rubija"]),
    ("the order was fine. Thanks, Kaique", ["Kaique"]),
    ("Could Anastasie Dias and Émilie Legros check the invoice?", ["Anastasie", "Dias", "Émilie", "Legros"]),
    ("our 3 founders: Kónya, Becker and Vasquez", ["Kónya", "Becker", "Vasquez"]),
    ("i'm writing on behalf of христина даценко-ткач, she is away", ["христина", "даценко-ткач"]),
    ("recipient 木村 陽一, please", ["木村", "陽一"]),
    ("hello this is Pelle van der Berg from accounting", ["Pelle", "van der Berg"]),
    ("the card holder is Dr. Natsir-Pratiwi", ["Natsir-Pratiwi"]),
    ("a song by Oszkár T Bérczesné, go figure", ["Oszkár", "Bérczesné"]),
    ("please change it to Dauren Abenovich", ["Dauren", "Abenovich"]),
    ("Jolanta Wierzbicka's lawyers appealed", ["Jolanta", "Wierzbicka"]),
    ("remind me to follow up with ricardo m otegui next week", ["ricardo", "otegui"]),
    ("kind regards\nIlkka Vartiainen\n+358 40 1234567", ["Ilkka", "Vartiainen"]),
    ("Taavetti Rönkkö\nfleet maintenance lead\n14 Mill Lane, Leeds", ["Taavetti", "Rönkkö"]),
    ("can petra kovač-horvat and Ana Babić both get access?", ["petra", "kovač-horvat", "Babić"]),
    ("my colleague aoife ní bhriain is away", ["aoife", "bhriain"]),
    # a found name is evidence for its neighbours: a given name outside every lexicon, the other
    # members of a list or pair, lowercase lists, a relation word, a username cue inside a name
    ("Have you been to a Calquín Cazares concert before?", ["Calquín", "Cazares"]),
    ("Is this the best song? Usamov and Bowers were precision engineers.", ["Usamov", "Bowers"]),
    ("they had 4: silvana, adam, kristina and caleb.", ["silvana", "adam", "kristina", "caleb"]),
    ("I would like to remove my kid Tadzio from the will.", ["Tadzio"]),
    ("Bot: What's the name on the account? User: Maja S Hermansen", ["Maja", "Hermansen"]),
    # someone addressed: after a greeting, a line's vocative before a request, a possessive relation
    ("Hi Kat, I'm writing about a transfer that never arrived.", ["Kat"]),
    ("Dear Estrid Holmqvist:\nthe parcel is late.", ["Estrid", "Holmqvist"]),
    ("Mozes, can I please speak to your boss?", ["Mozes"]),
    ("It was settled between him and Teruyoshi's kid long ago.", ["Teruyoshi"]),
    ("Petřík began writing as a teenager.", ["Petřík"]),  # a biography verb after a name
    ("I want to add Raimond Reumer as a beneficiary to my account", ["Raimond", "Reumer"]),
    ("Agent: May I have your full name?\nCustomer: Tomomi Nishiyama", ["Tomomi", "Nishiyama"]),
    ("'We are moving in that direction,' says Du Cane.", ["Du Cane"]),  # a quote's speaker
    ("they had 3: leonti, terrence and pamela.", ["leonti", "terrence", "pamela"]),  # an unlisted lowercase member
    ("eva kleist lives at the old mill", ["eva", "kleist"]),
    ("CEOs honoured: Abby Holloway, Yuito Hirai and Zoe Young.", ["Abby", "Holloway", "Yuito", "Hirai", "Zoe", "Young"]),
])
def test_names_of_many_locales_cases_and_forms_are_replaced_whole(text, gone):
    out = scrub(text)
    assert "<PERSON_" in out
    assert [g for g in gone if g in out] == []


@pytest.mark.parametrize("text", [
    "Will you call me in May about the August invoice?",
    "Thanks for the quick help, the Android app works again.",
    "I paid 20 Euros 5 times this month.",
    "Version 10.12.13.14 shipped on 12 03 2024.",
    "Her maiden name is unknown to us, the Moldova office said.",
    "Energetic and driven salesperson with 8 years of experience.",  # spaCy: PERSON; two dictionary words
    "This song by an ex-Zombie is a perfect example.",
    "Hi team, I'm writing about the invoice of 2 May, I'm sure it is wrong.",
    "I bought bread, milk and apple juice for 3 euros.",
    "Hi Team, can you help? Hello Support, Dear Customer Service, Hi All,",
    "Sorry, can I ask again? Thanks, can you check? Apple's manager said no.",
    "The Wall Street Journal wrote about the street food.",
    "The project began in May and Google joined in June.",
    "Please add Savings as a payee. What is the name of the app? Revolut.",
    '"We are done," said Google. I bought apples, oranges and bananas.',
])
def test_everyday_words_are_not_taken_for_names_or_addresses(text):
    from curation.pii.formats import find_phone_cues

    assert find_names(text) == [] and find_addresses(text) == [] and find_phone_cues(text) == []


@pytest.mark.parametrize(("text", "address"), [
    ("The address of Persint is 6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677",
     "6750 Koskikatu 25 Apt. 864\nArtilleros\n, CO\n Uruguay 64677"),
    ("ship it to 86036 Rua do Arenque 1634, Goiânia please", "86036 Rua do Arenque 1634, Goiânia"),
    ("new address: Gang KH Amin Jasuta No. 184 Denpasar, BE 25350", "Gang KH Amin Jasuta No. 184 Denpasar, BE 25350"),
    ("it went to Rožičeva ulica 3b, 4651 Sevnica by mistake", "Rožičeva ulica 3b, 4651 Sevnica"),
    ("deliver to Moldavská 8, 942 40 Mičakovce", "Moldavská 8, 942 40 Mičakovce"),
    ("I live at 8685 Jaime Junction Suite 422, Gabriellefurt, WY 21793", "8685 Jaime Junction Suite 422, Gabriellefurt, WY 21793"),
    ("It is 412 Rákóczi Ferenc u. 9.\n Apt. 33\n Szeged\n Hungary 6720", "412 Rákóczi Ferenc u. 9.\n Apt. 33\n Szeged\n Hungary 6720"),
    ("user: 0412 παπαδιαμάντη 17 apt. 4\nlarnaca, cy 6021", "0412 παπαδιαμάντη 17 apt. 4\nlarnaca, cy 6021"),
    ("send to 2210 west elm avenue suite 300 denver", "2210 west elm avenue suite 300"),
    ("Λεωφόρος Κηφισίας 44\n Apt. 2\n Αθήνα\n Greece (Attica) 11526", "Λεωφόρος Κηφισίας 44\n Apt. 2\n Αθήνα\n Greece (Attica) 11526"),
])
def test_addresses_of_many_countries_are_found_with_units_postcodes_and_lines(text, address):
    out = scrub(text)
    words = [w for w in address.replace(",", " ").split() if len(w) > 2]
    assert [w for w in words if w in out] == []


def test_an_iban_of_every_registry_country_is_found_and_a_bad_checksum_is_not():
    rng = random.Random(7)
    for country, length in IBAN_LENGTHS.items():
        bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
        check = 98 - int("".join(str(int(c, 36)) for c in bban + country + "00")) % 97
        iban = f"{country}{check:02d}{bban}"
        assert iban_valid(iban)
        grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        text = f"refund to {grouped} please"
        assert [(e, text[a:b]) for e, a, b, _ in find_ibans(text)] == [("IBAN_CODE", grouped)], country
        bad = iban[:2] + f"{(check + 1) % 100:02d}" + iban[4:]
        assert find_ibans(f"iban {bad}") == []


@pytest.mark.parametrize("phone", ["+81 90-1234-5678", "+55 11 91234-5678", "+234 803 123 4567", "06 85 63 60 77",
                                   "0501 234 28 75", "(804)540-4707x645", "45-12-77-90", "06.85.63.60.77"])
def test_phone_numbers_of_many_regions_are_replaced(phone):
    assert scrub(f"please call me back on {phone} tomorrow") == "please call me back on <PHONE_1> tomorrow"


def test_the_lexicon_ships_names_of_many_scripts_and_street_types():
    lex = load()
    assert len(lex.first) > 20_000 and len(lex.last) > 20_000
    assert lex.is_name("Kaique") and lex.is_name("陽一") and lex.is_name("христина")
    assert lex.is_common("will") and not lex.is_common("kaique")
    assert {"rua", "utca", "jalan", "calle"} <= lex.street and "katu" in lex.street_suffixes


NAMES = ["Holly Jones-Clayton", "florián šimonovič", "Pelle van der Berg", "木村 陽一", "Kaique", "al-Rashid"]
TEMPLATES = ["my name is {n}, email {e}", "Thanks, {n}", "call {n} on +44 117 496 0514", "{n} lives at 12 Main Street"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(TEMPLATES), st.sampled_from(NAMES), st.emails())
def test_scrubbing_multilingual_text_twice_changes_nothing(template, name, email):
    once = scrub(template.format(n=name, e=email))
    assert scrub(once) == once


@pytest.mark.parametrize(("text", "phone"), [
    ("the fax is (44) 123456 if email fails", "(44) 123456"),
    ("It's 06-1/234 5678 at the office.", "06-1/234 5678"),
    ("the desk answers at 21 9876-5432 most days", "21 9876-5432"),
    ("try 412 55 678 after five", "412 55 678"),
    ("my mother's is 8 (912) 345-67-89.", "8 (912) 345-67-89"),
    ("(351) 912345678 is the one on file", "(351) 912345678"),
    ("reach me: 21 253 109 8211-Office or by mail", "21 253 109 8211"),  # a label glued by a hyphen
    ("9882001 is my cell", "9882001"),  # the cue after the number, and a year-like group inside is no date
    ("4348 3954 (mobile), ask for the desk", "4348 3954"),
    ("1234567 is my number", "1234567"),
    ("Office,418.341.9082-Fax", "418.341.9082"),  # dotted North American, after a comma, a label glued
    ("fax 860.704.4814x998 please", "860.704.4814x998"),
])
def test_phone_numbers_in_groups_are_found_without_a_cue(text, phone):
    from curation.pii.formats import find_phone_cues

    assert {text[a:b] for _, a, b, _ in find_phone_cues(text)} == {phone}


@pytest.mark.parametrize("text", [
    "we sold 12 500 000 units last year",
    "it failed on 12 03 2024 and on 2024-03-13",
    "the fee was € 1 250 500 in total",
    "version 10.2.3.4 and build 2024 0001",
    "release 123.456.7890.1 and a total of 1,234.567.8901",
    "see 01/16/2015 - 02/16/2015 for the period",
    "serial 12 345 678-B of the catalogue",  # one letter glued by a hyphen is part of a code
    "1000000 is the number of users we have",
])
def test_amounts_dates_and_versions_are_not_grouped_phones(text):
    from curation.pii.formats import find_phone_cues

    assert find_phone_cues(text) == []


@pytest.mark.parametrize(("text", "address"), [
    ("post it to Rua Nova, 12, 1200-195 Lisboa please", "Rua Nova, 12, 1200-195 Lisboa"),
    ("we are at 9 12th Avenue, Marikina, 1800 Metro Manila now", "9 12th Avenue, Marikina, 1800 Metro Manila"),
    ("new home: Pod lipami 7, 4000 Kranj", "Pod lipami 7, 4000 Kranj"),
    ("Alameda Santos, S/N, 4000-322 Porto is the shop", "Alameda Santos, S/N, 4000-322 Porto"),
    ("it is Av. Colón N° 1200 Oficina 5, Córdoba 5000", "Av. Colón N° 1200 Oficina 5, Córdoba 5000"),
    ("Deliver to Hauptweg 3, 12345 Musterstadt today", "Hauptweg 3, 12345 Musterstadt"),
])
def test_addresses_with_ordinals_lowercase_streets_units_and_iberian_postcodes(text, address):
    assert address in [text[a:b] for _, a, b, _ in find_addresses(text)]


@pytest.mark.parametrize(("text", "value"), [
    ("My zip code is 35350", "35350"),
    ("my zip code is 880", "880"),
    ("PLZ: 10115, Berlin", "10115"),
    ("postal code: SW1A 1AA", "SW1A 1AA"),
    ("The bus station is on P.O. Box 104", "P.O. Box 104"),
    ("Postfach 12 34, 80331 München", "Postfach 12 34, 80331 München"),
])
def test_postcodes_after_their_name_and_post_office_boxes_are_addresses(text, value):
    assert value in [text[a:b] for _, a, b, _ in find_addresses(text)]
    assert value not in scrub(text)


@pytest.mark.parametrize("text", ["Is there a box 12 in the shop?", "The cap is 500 dollars.", "Code 404 again."])
def test_boxes_caps_and_codes_without_a_postcode_cue_are_not_addresses(text):
    assert find_addresses(text) == []


def test_a_language_or_nationality_is_not_a_person():
    assert "English" in scrub("She studied English and journalism at the university in 2004.")


@pytest.mark.parametrize("text", [
    "Ship to 52333 Erickson Cliff\nPort Nicoleton, NM 69386 please",
    "46 King Mall\nWest Kirstystad\nKT05 6RH",
    "the office is 351 Katelyn Light\nFoxfort, QC E7T 7T8",
    "H.No. 95, Parikh Chowk\nJabalpur 524480",
    "Send the parcel to 52/06\nChahal Nagar, Shimla-470059",
    "Ship to 6343 Skogstien 106\nASKER nan 1386 please",  # a missing state written as "nan" by an export
])
def test_multi_line_address_blocks_go_whole(text):
    out = scrub(text)
    assert "<ADDRESS_" in out
    rest = re.sub(r"<[A-Z_]+_\d+>", " ", out)
    assert [w for w in re.findall(r"[^\W_]+", rest) if w[0].isdigit() or w[0].isupper()] in ([], ["Ship"], ["Send"]), out


@pytest.mark.parametrize("locale", ["en_US", "en_GB", "en_CA", "en_AU", "en_NZ", "en_IN"])
def test_faker_addresses_of_english_speaking_locales_are_covered(locale):
    """Faker's own address formats (multi-line blocks with towns, states and postcodes), 60 per locale."""
    from faker import Faker

    from curation.pii.scrub import PiiConfig, detect

    fake = Faker(locale)
    fake.seed_instance(11)
    values = [fake.address() for _ in range(60)]
    texts = [f"Please send it to {v} before Friday." for v in values]
    missed = []
    for text, value, spans in zip(texts, values, detect(texts, PiiConfig())):
        a = text.index(value)
        chars = [i for i in range(a, a + len(value)) if not text[i].isspace()]
        covered = sum(any(s.start <= i < s.end for s in spans) for i in chars)
        if covered < 0.8 * len(chars):
            missed.append(value)
    assert len(missed) <= 6, missed  # 10%: a unit line above the street, Indian blocks with no street type


@pytest.mark.parametrize(("text", "values"), [
    # an export that escaped its newlines twice: a literal backslash-n glues no letter to the value
    ("Romina Ruelas\\n\\n2051 Müürivahe 27\\n Apt. 482\\n Piiri\\n Estonia 79297\\nPhone:\\n022 656 53 65",
     ["Müürivahe 27", "Apt. 482", "79297", "022 656 53 65"]),
    ("Contact\\n360-550-3331 office\\tor mail LjubicaGalic@armyspy.com", ["360-550-3331", "LjubicaGalic"]),
    ("Contact\\n085 175 7641-Office\\,3660170548-Fax", ["085 175 7641", "3660170548"]),  # an escaped comma
])
def test_values_after_escaped_line_breaks_are_found(text, values):
    out = scrub(text)
    assert [v for v in values if v in out] == [], out
    assert out.startswith("<PERSON_1>\\n\\n") or out.startswith("Contact\\n<PHONE_1>"), out  # escapes stay as typed


@pytest.mark.parametrize(("text", "street"), [
    ("I live on Elm Street, next to the bakery.", "Elm Street"),
    ("stop at the corner of Izaak Islands St. and the church", "Izaak Islands St"),
    ("The title refers to Hafnarstraeti 5 street in town.", "Hafnarstraeti 5"),
    ("nino lives on misiones 6199 street.", "misiones 6199"),
])
def test_streets_named_without_a_house_number_are_addresses(text, street):
    assert street not in scrub(text)


def test_a_phone_label_listed_after_a_lowercase_name_is_not_a_name():
    out = scrub("deliver to Trige please, recipient ellen søndergaard, tel +45 06167400")
    assert "ellen" not in out and "søndergaard" not in out and ", tel <PHONE_" in out, out
