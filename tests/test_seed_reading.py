"""Reading highlights out of the seed article's spacing (see seeds/README.md)."""

import re
from pathlib import Path

import pytest

from articles.ingest.seeds import Span, read_highlighted

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_dda3507e333cc8df.txt"


def write_highlighted(clean: str, spans: list[Span]) -> str:
    """Inverse of read_highlighted(merge=False): one extra space at each phrase edge."""
    extra = [0] * (len(clean) + 1)
    for start, end in spans:
        extra[start] += 1
        extra[end] += 1
    return "".join(" " * n + char for n, char in zip(extra[:-1], clean, strict=True)) + " " * extra[-1]


def phrases(raw: str, *, merge: bool = True) -> list[str]:
    clean, spans = read_highlighted(raw, merge=merge)
    return [clean[start:end] for start, end in spans]


@pytest.fixture(scope="module")
def raw() -> str:
    return SEED.read_text(encoding="utf-8")


# --- the real seed -----------------------------------------------------------


def test_seed_has_66_merged_and_68_raw_highlights(raw: str) -> None:
    assert len(phrases(raw)) == 66
    assert len(phrases(raw, merge=False)) == 68


@pytest.mark.parametrize(
    "phrase",
    [
        "Vladimir Putin",
        "Ucrania y Corea del Norte",
        "Dmitri Peskov",
        "Casa Blanca",
        "Sukhoi Su-35 y Su-57",
        "soberanía tecnológica",
        "era soviética",
        "Comercio e Industria",
        "“todavía varios días”",
        "demostración",
        "Kim Jong Il",
        "Kishida",
        "Extremo Oriente ruso",
        "“Estamos considerando todas las opciones”",
    ],
)
def test_seed_named_phrases(raw: str, phrase: str) -> None:
    assert phrase in phrases(raw)


def test_seed_adjacent_highlights_are_merged(raw: str) -> None:
    merged, unmerged = phrases(raw), phrases(raw, merge=False)
    assert "Dmitri Peskov" in merged and "Dmitri" not in merged
    assert {"Dmitri", "Peskov"} <= set(unmerged)
    # "Casa   Blanca" (two highlights) and "Casa Blanca" (one) both read as one.
    assert merged.count("Casa Blanca") == 2
    assert unmerged.count("Casa Blanca") == 1


def test_seed_nested_phrases(raw: str) -> None:
    found = phrases(raw)
    quote = next(p for p in found if p.startswith("Si Corea del Norte"))
    assert quote.endswith("la península coreana")
    assert "Corea del Norte" in found
    quote = next(p for p in found if p.startswith("“Esto es especialmente"))
    assert quote.endswith("soberanía tecnológica”")


def test_seed_clean_text(raw: str) -> None:
    clean, spans = read_highlighted(raw)
    assert "  " not in clean
    assert not re.search(r" [,.:;!?”»)]|[“«(] ", clean)
    # Same result as the README's rule applied independently.
    expected = re.sub(r"\s+", " ", raw)
    expected = re.sub(r" ([,.:;!?”»)])", r"\1", expected)
    assert re.sub(r"([“«(]) ", r"\1", expected) == clean
    for start, end in spans:
        assert 0 <= start < end <= len(clean)
        assert clean[start:end] == clean[start:end].strip()


# Where the raw text lacks an extra space at a sentence edge, the writer puts
# one back, so the round trip differs from the file at exactly these places.
SENTENCE_EDGES = [
    ("prueba. “Vemos", "prueba.  “Vemos"),  # quotation opens the sentence
    ("Kim. “Esto", "Kim.  “Esto"),  # quotation opens the sentence
    ("Extremo Oriente ruso.", "Extremo Oriente ruso ."),  # name closes it
    ("Kim Jong Il.", "Kim Jong Il ."),  # name closes it
    ("nipón. Kishida", "nipón.  Kishida"),  # name opens it
    ("opciones”.", "opciones” ."),  # quotation closes the text
]


def test_seed_round_trip(raw: str) -> None:
    expected = raw
    for old, new in SENTENCE_EDGES:
        assert expected.count(old) == 1
        expected = expected.replace(old, new)
    assert write_highlighted(*read_highlighted(raw, merge=False)) == expected


# --- one synthetic case per README rule ----------------------------------------

CASES = [
    # two spaces between words, a space before closing punctuation
    ("visitó  Rusia , después", "visitó Rusia, después", ["Rusia"]),
    ("el presidente  Vladimir Putin , en", "el presidente Vladimir Putin, en", ["Vladimir Putin"]),
    # a space after an opening mark, before a closing one
    ("una “ demostración ” de", "una “demostración” de", ["demostración"]),
    ("la « OTAN » y ( ONU ) ya", "la «OTAN» y (ONU) ya", ["OTAN", "ONU"]),
    # the quote marks themselves inside the phrase
    ("alargará  “varios días”  y", "alargará “varios días” y", ["“varios días”"]),
    # conjunctions inside a phrase
    ("en  Ucrania y Corea del Norte  por", "en Ucrania y Corea del Norte por", ["Ucrania y Corea del Norte"]),
    ("aviones  Sukhoi Su-35 y Su-57  y", "aviones Sukhoi Su-35 y Su-57 y", ["Sukhoi Su-35 y Su-57"]),
    # a name nested in a highlighted quotation
    (
        "dijo: “ Si  Corea del Norte  llega ”, afirmó",
        "dijo: “Si Corea del Norte llega”, afirmó",
        ["Si Corea del Norte llega", "Corea del Norte"],
    ),
    # phrases at the very start and end of the text
    (" Rusia  invade a  Ucrania ", "Rusia invade a Ucrania", ["Rusia", "Ucrania"]),
]


@pytest.mark.parametrize(("raw_text", "clean", "expected"), CASES)
def test_rule(raw_text: str, clean: str, expected: list[str]) -> None:
    assert read_highlighted(raw_text)[0] == clean
    assert phrases(raw_text) == expected


@pytest.mark.parametrize(("raw_text", "clean", "expected"), CASES)
def test_rule_round_trip(raw_text: str, clean: str, expected: list[str]) -> None:
    assert write_highlighted(*read_highlighted(raw_text, merge=False)) == raw_text


def test_three_spaces_are_two_adjacent_highlights() -> None:
    raw_text = "del  Kremlin ,  Dmitri   Peskov , informó"
    assert phrases(raw_text, merge=False) == ["Kremlin", "Dmitri", "Peskov"]
    assert phrases(raw_text) == ["Kremlin", "Dmitri Peskov"]
    assert write_highlighted(*read_highlighted(raw_text, merge=False)) == raw_text


@pytest.mark.parametrize(
    ("raw_text", "expected"),
    [
        # open missing: the phrase starts the sentence
        ("del gobierno nipón. Kishida  ya había", ["Kishida"]),
        ("de prueba. “Vemos potencial” , afirmó", ["“Vemos potencial”"]),
        # close missing: the phrase ends the sentence
        ("líder norcoreano,  Kim Jong Il. Más de", ["Kim Jong Il"]),
        ("contestó:  “Estamos listos”.", ["“Estamos listos”"]),
        # open missing, with a topic nested in the quotation
        (
            "a Kim. “Esto es la  soberanía tecnológica ” , agregó.",
            ["“Esto es la soberanía tecnológica”", "soberanía tecnológica"],
        ),
    ],
)
def test_missing_space_at_sentence_edge(raw_text: str, expected: list[str]) -> None:
    assert phrases(raw_text) == expected


def test_unreadable_spacing_is_an_error() -> None:
    # Two closes and nothing that could open them, even at the sentence edge.
    with pytest.raises(ValueError, match="no consistent reading"):
        read_highlighted("Hola , adiós , amigos")
