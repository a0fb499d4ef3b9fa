"""The words the renderer writes into a frame on its own, in the lecture's language.

Every other word a viewer reads in a frame, or hears, comes from the storyboard. These come from
here: the key-takeaways card's heading, the word that marks a Markdown section's continuation cards
("Refraction (continued)"), the title of a Markdown lecture that has none ("Lecture"), and what is
said before a visual that nothing else introduces ("Next."). A lecture in Chinese or Arabic must
not get English words, so they are looked up by the storyboard's language (a BCP 47 tag, as
written, then with its last subtag dropped: ``zh-Hant-TW``, ``zh-Hant``, ``zh``). A language
missing from the table gets no takeaways heading and an ellipsis rather than foreign words; the
lecture's title and "Next." cannot be left out, so they fall back to English, and the renderer
warns that it did (:mod:`videojob.lecture_scenes`). A storyboard may always give its own
``heading``, and a Markdown lecture's own title and section headings are used as they are.

The table covers the languages lectures are most often written in among those the renderer
narrates (``espeak-ng --voices``).
"""

from __future__ import annotations

from typing import Final, NamedTuple


class FrameWords(NamedTuple):
    takeaways: str  # the key-takeaways card's heading
    continued: str  # after a section's title on the cards that carry the rest of its narration
    lecture: str  # the title of a Markdown lecture that has none (its title card, its continuation cards)
    next: str  # said, and subtitled, before a visual of a section that has no heading and nothing to say


WORDS: Final[dict[str, FrameWords]] = {
    "af": FrameWords("Belangrikste punte", "vervolg", "Lesing", "Volgende."),
    "ar": FrameWords("النقاط الرئيسية", "تابع", "محاضرة", "التالي."),
    "bg": FrameWords("Основното", "продължение", "Лекция", "Следва."),
    "bn": FrameWords("মূল কথা", "চলমান", "বক্তৃতা", "এরপর।"),
    "ca": FrameWords("Idees clau", "continuació", "Lliçó", "Següent."),
    "cs": FrameWords("Hlavní body", "pokračování", "Přednáška", "Dále."),
    "da": FrameWords("Det vigtigste", "fortsat", "Forelæsning", "Næste."),
    "de": FrameWords("Das Wichtigste", "Fortsetzung", "Vorlesung", "Weiter."),
    "el": FrameWords("Βασικά σημεία", "συνέχεια", "Διάλεξη", "Στη συνέχεια."),
    "en": FrameWords("Key takeaways", "continued", "Lecture", "Next."),
    "es": FrameWords("Ideas clave", "continuación", "Lección", "A continuación."),
    "et": FrameWords("Peamine", "järg", "Loeng", "Edasi."),
    "fa": FrameWords("نکات کلیدی", "ادامه", "درس", "بعدی."),
    "fi": FrameWords("Tärkeimmät asiat", "jatkuu", "Luento", "Seuraavaksi."),
    "fr": FrameWords("À retenir", "suite", "Cours", "Ensuite."),
    "he": FrameWords("נקודות עיקריות", "המשך", "הרצאה", "הלאה."),
    "hi": FrameWords("मुख्य बातें", "जारी", "व्याख्यान", "आगे।"),
    "hr": FrameWords("Ključne točke", "nastavak", "Predavanje", "Dalje."),
    "hu": FrameWords("A lényeg", "folytatás", "Előadás", "Tovább."),
    "id": FrameWords("Poin penting", "lanjutan", "Kuliah", "Berikutnya."),
    "it": FrameWords("Punti chiave", "continua", "Lezione", "Poi."),
    "ja": FrameWords("重要なポイント", "続き", "講義", "次に。"),
    "ko": FrameWords("핵심 정리", "계속", "강의", "다음."),
    "lt": FrameWords("Svarbiausia", "tęsinys", "Paskaita", "Toliau."),
    "lv": FrameWords("Galvenais", "turpinājums", "Lekcija", "Tālāk."),
    "ms": FrameWords("Perkara utama", "sambungan", "Kuliah", "Seterusnya."),
    "nb": FrameWords("Det viktigste", "fortsettelse", "Forelesning", "Videre."),
    "nl": FrameWords("Belangrijkste punten", "vervolg", "College", "Verder."),
    "no": FrameWords("Det viktigste", "fortsettelse", "Forelesning", "Videre."),
    "pl": FrameWords("Najważniejsze", "ciąg dalszy", "Wykład", "Dalej."),
    "pt": FrameWords("Pontos-chave", "continuação", "Aula", "A seguir."),
    "ro": FrameWords("Idei principale", "continuare", "Prelegere", "Mai departe."),
    "ru": FrameWords("Главное", "продолжение", "Лекция", "Далее."),
    "sk": FrameWords("Hlavné body", "pokračovanie", "Prednáška", "Ďalej."),
    "sl": FrameWords("Ključne točke", "nadaljevanje", "Predavanje", "Naprej."),
    "sr": FrameWords("Кључне тачке", "наставак", "Предавање", "Даље."),
    "sv": FrameWords("Det viktigaste", "fortsättning", "Föreläsning", "Vidare."),
    "sw": FrameWords("Mambo muhimu", "inaendelea", "Mhadhara", "Ifuatayo."),
    "ta": FrameWords("முக்கிய குறிப்புகள்", "தொடர்ச்சி", "விரிவுரை", "அடுத்து."),
    "th": FrameWords("ประเด็นสำคัญ", "ต่อ", "บทเรียน", "ต่อไป"),
    "tr": FrameWords("Önemli noktalar", "devam", "Ders", "Sırada."),
    "uk": FrameWords("Головне", "продовження", "Лекція", "Далі."),
    "ur": FrameWords("اہم نکات", "جاری", "لیکچر", "آگے۔"),
    "vi": FrameWords("Điểm chính", "tiếp theo", "Bài giảng", "Tiếp theo."),
    "zh": FrameWords("关键要点", "续", "讲座", "接下来。"),
    "cmn": FrameWords("关键要点", "续", "讲座", "接下来。"),
    "zh-hans": FrameWords("关键要点", "续", "讲座", "接下来。"),
    "zh-hant": FrameWords("關鍵要點", "續", "講座", "接下來。"),
    "zh-tw": FrameWords("關鍵要點", "續", "講座", "接下來。"),
    "zh-hk": FrameWords("關鍵要點", "續", "講座", "接下來。"),
    "zh-mo": FrameWords("關鍵要點", "續", "講座", "接下來。"),
    "yue": FrameWords("關鍵要點", "續", "講座", "接落嚟。"),
}


def _words(language: str) -> FrameWords | None:
    tag = language.lower()
    while tag:
        if tag in WORDS:
            return WORDS[tag]
        tag = tag.rpartition("-")[0]
    return None


def has_words_for(language: str) -> bool:
    """Whether the table has the words of ``language`` (else :func:`words_or_english` falls back)."""
    return _words(language) is not None


def words_or_english(language: str) -> FrameWords:
    """The words of ``language``, or the English ones when the table lacks it."""
    return _words(language) or WORDS["en"]


def takeaways_heading(language: str) -> str | None:
    """The key-takeaways heading in ``language``, or None when the table has no words for it."""
    words = _words(language)
    return words.takeaways if words else None


def continued_mark(language: str) -> str:
    """What follows a section's title on its continuation cards, in ``language`` (" (continued)")."""
    words = _words(language)
    return f" ({words.continued})" if words else " …"


__all__ = ["WORDS", "FrameWords", "continued_mark", "has_words_for", "takeaways_heading", "words_or_english"]
