"""A fixed corpus of Spanish news text: the seed article, and articles put together from its sentences
and other wire-style sentences (names of people, places, organisations, figures), the same every run."""

import random
import re
from pathlib import Path

from articles.ingest.seeds import read_highlighted

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_dda3507e333cc8df.txt"
SENTENCES = """\
El Gobierno de España aprobó este martes en Madrid un plan de vivienda de 2.000 millones de euros.
La presidenta de la Comisión Europea, Ursula von der Leyen, viajó a Bruselas para reunirse con Pedro Sánchez.
El Real Madrid venció al FC Barcelona por tres goles a uno en el estadio Santiago Bernabéu.
Según el Instituto Nacional de Estadística, el paro bajó en Andalucía y Cataluña durante el último trimestre.
La empresa Telefónica anunció un acuerdo con Microsoft para desplegar servicios en América Latina.
El presidente de México criticó las declaraciones del Departamento de Estado de Estados Unidos.
Miles de personas se manifestaron en Buenos Aires contra la inflación y las medidas del Banco Central.
La Organización Mundial de la Salud advirtió sobre un aumento de casos de dengue en Colombia, Perú y Bolivia.
El Tribunal Supremo confirmó la condena al exalcalde de Valencia por malversación de fondos públicos.
La NASA y la Agencia Espacial Europea lanzarán una misión conjunta desde la Guayana Francesa el próximo año.
El escritor peruano Mario Vargas Llosa presentó su nueva novela en la Feria del Libro de Guadalajara.
Los bomberos de la Generalitat lograron controlar el incendio forestal declarado cerca de Tarragona.
El Banco Santander obtuvo un beneficio récord gracias al negocio en Brasil y el Reino Unido.
La selección argentina, liderada por Lionel Messi, se clasificó para la final de la Copa América en Miami.
El ministro de Economía defendió en el Congreso de los Diputados la reforma fiscal.
Las lluvias torrenciales provocaron inundaciones en Murcia y obligaron a cortar la autovía del Mediterráneo.
La Universidad de Salamanca celebró un congreso internacional sobre inteligencia artificial y ética.
El presidente de Francia recibió en el Palacio del Elíseo al canciller alemán.
La compañía Iberia cancelará cien vuelos por la huelga de controladores aéreos en Portugal e Italia.
El Museo del Prado inaugura una exposición dedicada a Francisco de Goya y Diego Velázquez.
Investigadores del Consejo Superior de Investigaciones Científicas descubrieron una nueva especie en Canarias.
La ONU pidió un alto el fuego inmediato en Gaza y el acceso de la ayuda humanitaria a la población civil.
El cantante colombiano Juanes actuará en Sevilla, Bilbao y Zaragoza durante su gira de verano.
Chile y Perú firmaron un tratado de cooperación minera en la ciudad de Lima con apoyo del Banco Mundial.
La policía detuvo en Málaga a cinco personas vinculadas a una red de narcotráfico con ramificaciones en Marruecos.
""".splitlines()
NAMES = ["Ana García", "Luis Fernández", "María López", "Javier Martín", "Toledo", "Quito", "Caracas", "Repsol"]


def seed_article() -> str:
    return read_highlighted(SEED.read_text(encoding="utf-8"))[0]


def articles(count: int, sentences: tuple[int, int] = (3, 7), seed: int = 42) -> list[str]:
    """The seed article, then ``count - 1`` articles of a random number of sentences in the given range."""
    article = seed_article()
    pool = [s for s in re.split(r"(?<=[.!?])\s+", article) if len(s) > 20] + SENTENCES
    rng = random.Random(seed)  # noqa: S311 (a repeatable corpus, not a secret)
    texts = [article]
    while len(texts) < count:
        parts = [rng.choice(pool) for _ in range(rng.randint(*sentences))]
        who, where, year = rng.choice(NAMES), rng.choice(NAMES), rng.randint(2020, 2030)
        parts.append(f"{who} declaró en {where} que la situación mejorará en {year}.")
        texts.append(" ".join(parts))
    return texts


def words(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)
