"""Boilerplate trafilatura leaves behind, in it/en/fr/de/es.

Each rule looks at one line (one block of trafilatura's output) and only ever drops
short ones: a body paragraph that happens to mention a newsletter is long, a
newsletter prompt is not. Rules are written for pages never seen, not for the corpus.
"""

from __future__ import annotations

import re
import unicodedata

from .datetext import ABSOLUTE_DATE

_I = re.IGNORECASE

READING_TIME = re.compile(
    r"^(?:(?:tempo\s+di\s+)?lettura|reading\s+time|read\s+time|temps\s+de\s+lecture|lesezeit|"
    r"lesedauer|tiempo\s+de\s+lectura|lectura|lecture|read\s+in|tempo\s+de\s+leitura|leitura)?\s*:?\s*(?:ca\.\s*)?"
    r"\d{1,3}\s*(?:-\s*\d{1,3}\s*)?(?:min(?:ute[ns]?|uti|utos?|s)?|mn)\.?\s*(?:read|di\s+lettura|de\s+lecture|lesezeit|"
    r"de\s+lectura|lettura|lecture|lectura|leer|lesen)?\.?$", _I)
SHARE = re.compile(
    r"^(?:(?:condividi|share|partager|partagez|teilen|compartir|comparte|tweet|pin\s*it|whatsapp|"
    r"facebook|twitter|x|linkedin|telegram|reddit|e-?mail|mail|copy\s+link|copia\s+link|"
    r"copier\s+le\s+lien|link\s+kopieren|copiar\s+enlace|print|stampa|imprimer|drucken|imprimir|"
    r"messenger|flipboard|pinterest|threads|bluesky|on|this|article|story|questo\s+articolo|"
    r"invia|envoyer|enviar|senden|send|par|por|by|via|"
    r"cet\s+article|diesen\s+artikel|artikel|este\s+artículo|su|sur|auf|en|via|per|the|now|ora|"
    r"jetzt|maintenant|ahora)"
    r"[\s:|·•,/-]*){1,12}$", _I)
READ_ALSO = re.compile(
    r"^(?:leggi\s+anche|leggi\s+pure|potrebbe\s+interessarti|ti\s+potrebbe\s+interessare|"
    r"read\s+also|also\s+read|read\s+more|see\s+also|related(?:\s+articles?|\s+stories)?|"
    r"more\s+on\s+this(?:\s+story)?|recommended|you\s+may\s+also\s+like|"
    r"(?:à\s+|a\s+)?lire\s+aussi|voir\s+aussi|sur\s+le\s+même\s+sujet|"
    r"mehr\s+zum\s+thema|lesen\s+sie\s+auch|auch\s+interessant|das\s+könnte\s+sie\s+auch\s+interessieren|"
    r"lee\s+también|lea\s+también|te\s+puede\s+interesar|ver\s+también|más\s+información|"
    r"noticias\s+relacionadas|articoli\s+correlati|articles\s+liés|weitere\s+artikel|"
    r"see\s+more|don['’]t\s+miss|non\s+perdere|à\s+ne\s+pas\s+manquer|nicht\s+verpassen|"
    r"no\s+te\s+pierdas|approfondisci|approfondimenti|vedi\s+anche|guarda\s+anche|"
    r"ver\s+más|siehe\s+auch|read\s+next|"
    # pl, nl, pt, sv/no/da, cs, ru, zu
    r"czytaj\s+(?:więcej|też|także|również)|zobacz\s+(?:też|także|również)|lees\s+(?:ook|meer)|"
    r"leia\s+(?:também|mais)|veja\s+também|läs\s+(?:också|mer)|les\s+(?:også|mer)|"
    r"læs\s+(?:også|mere)|čtěte\s+(?:také|též)|читайте\s+также|читать\s+также|"
    r"funda\s+olunye\s+udaba|"
    # ja, zh, ko
    r"おすすめ情報|関連記事|あわせて読みたい|相关阅读|相关新闻|推荐阅读|延伸阅读|관련\s*기사)\b", _I)
# a whole line that is a subscription or consent button ("Abbonati", "Accetta tutti")
BUTTON = re.compile(
    r"^(?:(?:abbonati|abbonarsi|subscribe|s['’]abonner|abonnez-vous|abonnieren|suscríbete|"
    r"suscribirse)(?:\s+(?:ora|subito|now|today|maintenant|jetzt|ahora|oggi))?"
    r"|(?:jetzt|now|ora)\s+(?:abonnieren|subscribe|abbonati)"
    r"|(?:accetta|accetto|accept|accepter|akzeptieren|aceptar|rifiuta|reject|refuser|ablehnen|"
    r"rechazar|gestisci|manage|personalizza|personnaliser|anpassen|configurar|personalizar)"
    r"(?:\s+(?:tutti|tutto|all|tout|alle|todo|todas|le\s+preferenze|preferences|les\s+cookies|"
    r"cookies?|einstellungen|preferencias|i\s+cookie))?)[\s.!]*$", _I)
SHARE_PROMPT = re.compile(
    r"^(?:like\s+this\s+(?:story|article)|分享(?:到|给|让)|share\s+(?:this|it)\b|condividi\s+(?:questo|l['’]articolo)|"
    r"partagez\s+cet|teilen\s+sie\s+(?:diesen|den)|comparte\s+(?:esta|este))", _I)
COMMENTS = re.compile(
    r"^(?:\d+\s+)?(?:comments?|commenti|commentaires?|kommentare?|comentarios?|"
    r"leave\s+a\s+(?:comment|reply)|lascia\s+un\s+commento|laisser\s+un\s+commentaire|"
    r"schreiben\s+sie\s+einen\s+kommentar|deja\s+(?:un|tu)\s+comentario|"
    r"tell\s+us\s+what\s+you\s+think|join\s+the\s+(?:conversation|discussion)|"
    r"dicci\s+la\s+tua|donnez\s+votre\s+avis)\W*$", _I)
FOLLOW = re.compile(
    r"^(?:follow|segui(?:teci)?|suivez|folgen\s+sie|síguenos|sigue(?:nos)?)\b.{0,140}"
    r"\b(?:facebook|twitter|instagram|linkedin|youtube|tiktok|telegram|whatsapp|threads|bluesky)\b", _I)
# "… Follow him on Twitter @name": an author's bio line at the end of the story.
FOLLOW_US = re.compile(r"\bfollow\s+(?:us|him|her|me|them)\s+on\s+(?:twitter|facebook|instagram|"
                       r"linkedin|x|youtube|tiktok|threads|bluesky)\b", _I)
CONTACT = re.compile(r"\S+@\S+\.\w{2,}")
CONTACT_CUE = re.compile(r"\b(?:reach|reached|contact|tips?|email|e-mail|in\s+touch|scrivi|contatta|écrivez|"
                         r"contactez|kontakt|schreiben|escribe|contacta)\b", _I)
SHORTCODE = re.compile(r"^\[(\w+)\b[^\]]*\].*\[/\1\]$")
AGENCY_CREDIT = re.compile(
    r"^\(?(?:additional\s+)?(?:reporting|writing)\s+by\b.*\b(?:editing|writing|reporting)\s+by\b"
    r"|\bcontributed\s+reporting\b|\bcontributed\s+to\s+this\s+(?:report|story|article)\W*$"
    r"|^\W*additional\s+reporting\s+(?:by|from)\b", _I)
UPDATED_STAMP = re.compile(
    r"^(?:updated|last\s+updated|aggiornato|ultimo\s+aggiornamento|mis\s+à\s+jour|actualisé|"
    r"aktualisiert|zuletzt\s+aktualisiert|actualizado)\b\W*(?:at|on|il|alle|le|à|am|um|el|a\s+las)?\s*\d", _I)
NEWSLETTER = re.compile(
    r"^(?:iscriviti|subscribe|sign\s+up|get\s+our|receive\s+our|ricevi|abonnez-vous|"
    r"inscrivez-vous|recevez|abonnieren|melden\s+sie\s+sich|jetzt\s+anmelden|suscríbete|"
    r"suscribete|apúntate|regístrate)\b", _I)
# "newsletter" alone is a topic a paragraph may discuss; with a call to action it is a prompt.
NEWSLETTER_CTA = re.compile(
    r"\bnewsletter\b.*\b(?:iscriv|subscri|sign|inscri|abonn|anmeld|bestell|suscr|registr|ricev|"
    r"receive|recev|erhalt|recib|inbox|gratis|free|gratuit|kostenlos|ogni|every|chaque|jeden|cada)"
    r"|\b(?:iscriv|subscri|sign\s+up|inscri|abonn|anmeld|suscr|registr|ricev|receive|recev|"
    r"erhalt|recib)\w*\b.*\bnewsletter", _I)
# A cookie banner names cookies (or the consent law) and asks for a choice or says what the
# site does with them; "consent" alone is an ordinary word ("consente", "consentement").
COOKIE_TOPIC = re.compile(r"\bcookies?\b|\bgdpr\b|\brgpd\b|\bdsgvo\b|\btracker\b", _I)
# ... in the site's own voice ("we use", "this site uses", "by clicking"), or as a button label
COOKIE_ACTION = re.compile(
    r"utilizziamo|usiamo|we\s+use|nous\s+utilisons|wir\s+(?:verwenden|nutzen|setzen)|utilizamos|"
    r"usamos|questo\s+sito(?:\s+web)?\s+(?:utilizza|usa|fa\s+uso)|this\s+(?:site|website)\s+uses|"
    r"ce\s+site\s+utilise|diese\s+(?:website|webseite|seite)\s+(?:verwendet|nutzt)|"
    r"este\s+(?:sitio|sitio\s+web|portal)\s+(?:utiliza|usa)|cliccando|by\s+clicking|en\s+cliquant|"
    r"durch\s+(?:klicken|anklicken)|al\s+hacer\s+clic|pulsando|accetta\s+tutt|accept\s+all|"
    r"tout\s+accepter|alle\s+akzeptieren|aceptar\s+todas|^(?:accetta|accept|accepter|akzeptieren|"
    r"aceptar|rifiuta|reject|refuser|ablehnen|rechazar)\b|preferenze\s+(?:sui\s+)?cookie|"
    r"cookie\s+(?:settings|preferences)|paramètres\s+des\s+cookies|cookie-einstellungen|"
    r"configuración\s+de\s+cookies", _I)
PHOTO_CREDIT = re.compile(
    r"^[(\[]?\s*(?:foto|photo|photos|fotos|bild|image|images|credit|credits|crédit|crédits|"
    r"quelle|fuente|ph|fotografia|getty\s+images|imago|source|fonte|créditos?|crediti|credito|"
    r"фото|fot|zdjęcie)\s*(?:[:©/]|\s+di\s|\s+by\s|\s+de\s)",
    _I)
# a CJK caption ends with its photographer: "…霞ケ関で（潟沼義樹撮影）", "…（新华社记者 王某 摄）"
CJK_PHOTO_CREDIT = re.compile(r"[（(][^（）()]{0,40}(?:撮影|摄|攝|写真[:：][^（）()]*)[）)]\s*$")
# a CJK date, with a clock time perhaps: "2025年1月14日 01時28分", "2024년 5월 12일"
CJK_DATE = re.compile(r"\d{4}\s*[年년]\s*\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]"
                      r"(?:\s*\d{1,2}\s*[時时:]\s*\d{1,2}\s*分?)?"
                      r"|\d{1,2}\s*[月월]\s*\d{1,2}\s*[日일]\s*\d{1,2}\s*[時时:]\s*\d{1,2}\s*分?")
COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)", _I)
ADVERT = re.compile(
    r"^(?:advertisement|advertising|sponsored|pubblicità|publicité|anzeige|werbung|publicidad|"
    r"continue\s+reading(?:\s+below)?|story\s+continues(?:\s+below)?|article\s+continues\s+below|"
    r"scroll\s+to\s+continue(?:\s+with\s+content)?|l'articolo\s+continua\s+(?:sotto|dopo)|"
    r"la\s+suite\s+après\s+(?:cette\s+)?(?:la\s+)?publicité|weiter\s+nach\s+der\s+anzeige|"
    r"sigue\s+leyendo|continúa\s+leyendo)[\s.:]*$", _I)
TAG_LINE = re.compile(r"^(?:tags?|argomenti|temi|mots[- ]clés|thèmes|themen|schlagwörter|"
                      r"etiquetas|temas|topics|filed\s+under|posted\s+in|archiviato\s+in|"
                      r"categories|categorie|catégories|kategorien|categorías)\s*:", _I)
# what a paywall leaves of an article: "Il vous reste 57% de cet article à lire", "… for subscribers"
PAYWALL = re.compile(
    r"\bil\s+vous\s+reste\s+[\d.,]+\s*%|\bla\s+suite\s+est\s+réservée\s+aux\s+abonnés|"
    r"\b(?:article|contenu)\s+(?:est\s+)?réservé\s+aux\s+abonnés|"
    r"\b(?:article|story|content)\s+is\s+(?:only\s+)?(?:available|reserved|exclusive)\s+(?:to|for)\s+"
    r"(?:subscribers|members)|\bsubscribe\s+to\s+(?:continue|keep)\s+reading|"
    r"\bartikel\s+ist\s+(?:nur\s+)?für\s+abonnenten|\b(?:contenido|artículo)\s+(?:es\s+)?exclusivo\s+"
    r"para\s+suscriptores|\bsuscripción\s+se\s+está\s+usando\s+en\s+otro\s+dispositivo|"
    r"\barticolo\s+(?:è\s+)?riservato\s+agli\s+abbonati", _I)
# "Get the latest news in your inbox": a newsletter prompt that does not say "newsletter"
INBOX = re.compile(r"\b(?:in|to|into)\s+your\s+inbox\b", _I)
# "> Headline" / ">> Headline": a teaser link set as a line of its own
TEASER_ARROW = re.compile(r"^>{1,2}\s*\w")
BYLINE = re.compile(r"^(?:by|di|par|von|por|a\s+cura\s+di)\s+\S", _I)


def _fold(text: str) -> str:
    """Lower-case letters and digits only, for comparing a line with the headline."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\W+", " ", text).strip()


def is_boilerplate(line: str, max_chars: int) -> bool:
    """True for a short line that is chrome rather than article text."""
    text = line.strip().lstrip("-•*· ").strip()
    if not text:
        return True
    if len(text) > max_chars:
        return False
    if COOKIE_TOPIC.search(text) and COOKIE_ACTION.search(text):
        return True
    if READING_TIME.match(text) or ADVERT.match(text) or BUTTON.match(text):
        return True
    if (SHARE.match(text) or SHARE_PROMPT.match(text)) and len(text) < 120:
        return True
    if (COMMENTS.match(text) or UPDATED_STAMP.match(text)) and len(text) < 60:
        return True
    if FOLLOW.match(text) and len(text) < 200:
        return True
    if CONTACT.search(text) and CONTACT_CUE.search(text) and len(text) < 200:
        return True
    if (SHORTCODE.match(text) or AGENCY_CREDIT.search(text)) and len(text) < 200:
        return True
    if PHOTO_CREDIT.match(text) and len(text) < 120:
        return True
    if CJK_PHOTO_CREDIT.search(text) and len(text) < 150:
        return True
    if PAYWALL.search(text) or ((INBOX.search(text) or TEASER_ARROW.match(text)) and len(text) < 200):
        return True
    if COPYRIGHT.match(text) and len(text) < 160:
        return True
    # a list item starting "Sign up for…" is content (a list of offers), not a prompt
    listed = line.lstrip().startswith(("-", "•", "*"))
    if NEWSLETTER.match(text) and not listed and len(text) < 160:
        return True
    if NEWSLETTER_CTA.search(text) or FOLLOW_US.search(text):
        return True
    if len(text) <= 40 and text.casefold().rstrip(" :.!").endswith("newsletter"):
        return True  # the heading of a newsletter box
    if _is_read_also(text) and len(text) < 200:
        return True
    return bool(TAG_LINE.match(text) and len(text) < 200)


def _is_read_also(text: str) -> bool:
    """"Leggi anche: …", "READ MORE Title", a label alone; not "Related to this, the …"."""
    match = READ_ALSO.match(text)
    if match is None:
        return False
    rest = text[match.end():].strip()
    return not rest or rest[0] in ":»›>|–—-•.…" or text[: match.end()].isupper()


def _is_label_only(line: str) -> bool:
    """A 'Leggi anche' label alone on its line: the next short line is its link."""
    match = READ_ALSO.match(line.strip())
    return match is not None and len(line.strip()) - match.end() <= 2


def _is_dateline(line: str) -> bool:
    """A short line that is mostly a date ("Pubblicato il 28 febbraio 2024 alle 18:05")."""
    if len(line) > 80:
        return False
    covered = sum(len(m.group(0)) for m in ABSOLUTE_DATE.finditer(line))
    covered += sum(len(m.group(0)) for m in CJK_DATE.finditer(line))
    return covered >= 0.4 * len(line)


def _is_header_line(line: str, headlines: list[str], authors: list[str]) -> bool:
    """The headline, the byline or the dateline repeated at the top of the body."""
    if len(line) > 300:
        return False
    folded = _fold(line)
    if not folded:
        return True
    if any(folded == _fold(h) for h in headlines if h):
        return True
    if len(line) < 100 and BYLINE.match(line.strip()) and any(
            _fold(a) in folded for a in authors):
        return True
    if len(line) < 80 and authors and folded in {_fold(a) for a in authors}:
        return True
    return _is_dateline(line)


def _is_cookie_banner(line: str, max_chars: int) -> bool:
    """A longer cookie notice, only looked for at the edges of the body where banners leak in."""
    return (len(line) <= max_chars * 3 and bool(COOKIE_TOPIC.search(line))
            and bool(COOKIE_ACTION.search(line)))


# a line ending so is a sentence, not the headline of a "Read also" link (CJK marks included)
_SENTENCE_END = (".", "!", "?", ":", "»", '"', "。", "！", "？", "」", "』", "”")


def clean_lines(lines: list[str], *, headlines: list[str], authors: list[str],
                max_chars: int) -> list[str]:
    """The body's lines without boilerplate; header repeats only looked for at the top."""
    kept: list[str] = []
    skip_next = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        if skip_next:
            skip_next = False
            if len(stripped) < 150 and not stripped.endswith(_SENTENCE_END):
                continue
        at_edge = index < 2 or index >= len(lines) - 2
        if is_boilerplate(stripped, max_chars) or (at_edge and _is_cookie_banner(stripped, max_chars)):
            skip_next = _is_label_only(stripped)
            continue
        if not kept and index < 4 and _is_header_line(stripped, headlines, authors):
            continue
        kept.append(stripped)
    return kept
