"""A message as terms: folded, SMS spelling spelled out, synonyms merged, stop words off, stemmed; and its language.

Everything here is per language (fr | en): a message is read once as French and once as English, and each reading
is matched against the entries of that language (matching.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

LANGUAGES = ("fr", "en")

_WORD = re.compile(r"[a-z0-9]+")
# "commande4521" -> "commande 4521", "100w" -> "100 w"; sockets and models ("e27", "gu10") stay whole.
_SPLIT_DIGITS = re.compile(r"(?<=[a-z])(?=\d{3,})|(?<=\d)(?=[a-z]{3,})|(?<=\d)(?=(w|wh|kw|km|kg|cm|mm|v|h|k|kmh)\b)")


def word_set(text: str) -> frozenset[str]:
    """The words of a whitespace-separated list."""
    return frozenset(text.split())


def fold(text: str) -> str:
    """Lower case, accents off, apostrophes and punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", (text or "").lower().replace("œ", "oe").replace("æ", "ae"))
    plain = decomposed.encode("ascii", "ignore").decode("ascii")  # accents are combining marks: they go
    return " ".join(_WORD.findall(_SPLIT_DIGITS.sub(" ", plain)))


# SMS and chat spelling, folded, as the words it stands for. Ambiguous shorthand sits in one language's map only.
_SMS_COMMON = {
    "svp": "s il vous plait", "stp": "s il te plait", "pls": "please", "plz": "please", "pliz": "please",
    "thx": "thanks", "thks": "thanks", "tx": "thanks", "ty": "thank you", "tnx": "thanks", "mrc": "merci",
    "mci": "merci", "bjr": "bonjour", "bjour": "bonjour", "bsr": "bonsoir", "slt": "salut", "cc": "coucou",
}
_SMS = {
    "fr": {
        **_SMS_COMMON,
        "pk": "pourquoi", "pq": "pourquoi", "pkoi": "pourquoi", "cmt": "comment", "cmnt": "comment",
        "koi": "quoi", "kwa": "quoi", "koa": "quoi", "c": "c est", "cest": "c est", "jveux": "je veux",
        "jvoudrais": "je voudrais", "jsuis": "je suis", "chui": "je suis", "jpeux": "je peux",
        "jpourrais": "je pourrais", "jai": "j ai", "g": "j ai", "jaimerais": "j aimerais",
        "jcherche": "je cherche", "jsp": "je sais pas",
        "ya": "il y a", "yat": "y a t", "tps": "temps", "bcp": "beaucoup", "qd": "quand", "qnd": "quand",
        "kan": "quand", "kand": "quand", "pr": "pour", "ds": "dans", "tt": "tout", "ts": "tous", "vs": "vous",
        "mm": "meme", "cb": "combien", "cbm": "combien", "cbien": "combien", "dispo": "disponible",
        "rdv": "rendez vous", "pb": "probleme", "pbm": "probleme", "pblm": "probleme", "qqn": "quelqu un",
        "qqun": "quelqu un",
        "qq": "quelque", "qqch": "quelque chose", "tjr": "toujours", "tjrs": "toujours", "kel": "quel",
        "kelle": "quelle", "kels": "quels", "ke": "que", "ki": "qui", "oqp": "occupe", "msg": "message",
        "auj": "aujourd hui", "dac": "d accord", "dacc": "d accord", "vx": "veux", "veu": "veux", "ct": "c etait",
        "kom": "comment", "comen": "comment", "coment": "comment", "pa": "pas", "ns": "nous",
        "jpx": "je peux", "peu": "peux", "tkt": "t inquiete", "svpl": "s il vous plait",
    },
    "en": {
        **_SMS_COMMON,
        "u": "you", "ur": "your", "r": "are", "wat": "what", "wot": "what", "wht": "what", "wen": "when",
        "whn": "when", "wher": "where", "hw": "how", "y": "why", "cn": "can", "cuz": "because", "coz": "because",
        "bc": "because", "b4": "before", "2day": "today", "tmrw": "tomorrow", "tmr": "tomorrow", "im": "i am",
        "ive": "i have", "dont": "do not", "cant": "can not", "wont": "will not", "doesnt": "does not",
        "didnt": "did not", "isnt": "is not", "havent": "have not", "hasnt": "has not", "whats": "what is",
        "hows": "how is", "wheres": "where is", "lemme": "let me", "gonna": "going to", "wanna": "want to",
        "gimme": "give me", "abt": "about", "k": "ok", "kk": "ok", "yr": "your", "n": "and", "ppl": "people",
        "thanx": "thanks", "pkg": "package", "msg": "message", "hrs": "hours",
        "info": "information", "plzz": "please", "howto": "how to", "wud": "would", "cud": "could", "shud": "should",
    },
}

# Words that carry no question of their own, per language (folded). Greetings and politeness are here too: a
# greeting before a question changes nothing to which entry answers it.
_STOP = {
    "fr": word_set("""
        a ai aie aies ait alors as au aucun aussi autre aux avec avez avoir avons ayez bah ben bien bon bonjour
        bonsoir c ca ce ceci cela celle celles celui ces cet cette ceux chaque chez ci coucou d da dans de des
        deja dois doit donc dont du e elle elles en encore es est et etaient etais etait etant ete etes etre eu eux
        fait faire fais faites faut hello hey hi ici il ils j je jamais jusqu l la le les leur leurs lui m ma madame
        mademoiselle mais me meme merci mes moi mon monsieur n ne ni non nos notre nous o on ont ou oui par parce
        pas peu peut peuvent peux plait plus pour pourquoi pourrais pourrait pouvez pouvons puis puisque qu quand
        que quel quelle quelles quels qui quoi s sa salut sans se ses si sil sinon soit son sont sous suis sur t ta
        te tes toi ton tous tout toute toutes tres tu un une voici voila vos votre vous vouloir voudrais voudrait
        voulais veux veut vu y cordialement svp salutations re euh ok okay alors bref aussi desole desolee sais
        savoir dire dites besoin aimerais souhaite souhaiterais question questions info information informations
        petite petit demande demander renseignement renseignements
        possible possibles vraiment juste seulement toujours encore deja bientot maintenant aujourd hui demain hier
        semaine semaines mois jour jours annee ans week end soir matin prochain prochaine dernier derniere bonne
        beaucoup peu trop assez plusieurs quelques chose choses truc machin genre etc car comme donc quand meme
        pense penses pensez crois croyez sait savez voir vois voyez regarder merci hesite hesitais envie aimer
        aimerais adore nouveau nouvelle nouveaux ancien ancienne premier premiere moment temps fois
        mari femme fils fille copain copine ami amie parents mere pere famille maison appartement
        apres avant pendant depuis vers entre contre selon ainsi alors aussi autre autres ca cela celle
        quelqu quelque quelques chez tout tous toute toutes ici la haut bas
        prend prendre prends prenez prenons mettre mets met mettez aller va vais allez vont trouver trouve
    """),
    "en": word_set("""
        a about after again all am an and any are as at be been before being both but by can could did do does
        doing done for from get got had has have having he hello her here hers hey hi him his how i if in into
        is it its just me might more most much must my myself no nor not now of off on once only or other our
        ours out over own please same she should so some such than thank thanks that the their them then there
        these they this those through to too under until up very was we were what when where which while who
        whom why will with would you your yours yourself yes ok okay dear hiya sir madam regards quick question
        questions wondering want wanted wants like know tell let need needs also there s t d ll m re ve
        information info anyone someone
        possible possibly really just only still already soon now today tomorrow yesterday week weeks month months
        day days year years weekend tonight morning evening next last new old few lot lots bit thing things stuff
        think thought guess wonder maybe perhaps actually basically honestly probably sure kind sort
        husband wife son daughter partner friend friends mum mom dad parents family home
        house flat apartment after before during since between against also else ever even though although
        because while again here there one ones something anything everything way ways time times
        going go gonna see look looking love hate trying try really pretty quite
        take takes took taking make makes made making put puts goes went find found
    """),
}
# Not stop words: they tell a cost from a delay ("combien" as in "how much", "when"), kept as content.
_KEEP = {"fr": frozenset({"combien", "quand", "comment"}), "en": frozenset({"much", "long", "when", "where"})}

# Words that mean the same to a shop's customers, as one term (folded, surface forms; stems are merged below).
_BUILT_IN_SYNONYMS = {
    "fr": """
        livraison, livrer, livre, livrez, livres, livree, livrees, expedition, expedier, expediez, expedie, envoi,
        envoyer, envoyez, envoie, acheminement
        frais de livraison, frais de port, frais d envoi, frais d expedition, cout de livraison
        retour, retourner, renvoyer, renvoi, rendre, rends, rapporter, retourne, renvoie
        remboursement, rembourser, rembourse, remboursee, remboursez
        garantie, garanti, garantis, garanties, garantie constructeur
        notice, mode d emploi, instructions, manuel
        installer, installation, monter, montage, poser, pose, fixer, brancher
        magasin, boutique, showroom, point de vente, boutiques, magasins
        horaires, horaire, heures d ouverture, ouvrez, fermez
        suivi, suivre, tracer, tracking, numero de suivi
        essai, essayer, tester, test, essais
        paiement, payer, regler, reglement, payement
        casse, cassee, abime, abimee, brise, brisee, endommage, endommagee, fele
        prix, tarif, cout, coute, coutent
        carte cadeau, bon cadeau, bon d achat, cheque cadeau
        batterie, accu, accumulateur
        velo, bicyclette, vae, velo electrique, velo a assistance electrique
        etranger, international, hors de france, belgique, suisse, luxembourg, allemagne, espagne, italie,
        royaume uni, angleterre, canada, etats unis, usa, pays bas, portugal, autriche, europe, dom tom, outre mer
        pluie, pleut, pleuvoir, pluvieux, averse
        maximum, max, maximale, maximal, maxi
        fourni, fournie, fournies, fournis, inclus, incluse, incluses, compris, comprise
        recevoir, recois, recevrai, recevrais, recevrez, recu, recue, reception, recoit, recevoit
        combien de temps, en combien de temps, quel delai, quels delais, delai, delais
    """,
    "en": """
        delivery, deliver, delivered, shipping, ship, shipped, ships, postage, dispatch, dispatched, shipment
        return, returns, returning, send back, sending back, bring back
        refund, refunded, refunds, reimburse, reimbursed, money back
        warranty, guarantee, guaranteed, warrantee, warrenty
        instructions, manual, guide, instruction
        install, installing, installation, assemble, assembly, mount, put together, set up, setup
        store, shop, showroom, stores, shops, boutique
        hours, opening hours, opening times, opening, closing
        track, tracking, trace, follow
        cost, price, charge, fee, fees, how much
        payment, pay, paying, paid
        broken, damaged, smashed, shattered, cracked
        gift card, gift voucher, voucher, gift certificate
        bike, bicycle, e bike, ebike, electric bike
        abroad, international, internationally, overseas, belgium, switzerland, luxembourg, germany, spain, italy,
        united kingdom, uk, england, scotland, ireland, canada, united states, usa, us, netherlands, portugal,
        austria, europe, other countries, another country
        rain, raining, rainy, wet weather, showers
        maximum, max, maximal
        included, include, includes, supplied, provided, comes with, come with
        receive, received, receiving, arrive, arrives, arrival
    """,
}


def _synonym_groups(text: str) -> list[list[str]]:
    return [[fold(term) for term in line.split(",") if fold(term)] for line in (text or "").splitlines()]


def parse_synonyms(lines: str) -> dict[str, str]:
    """The brand's synonym groups ("livraison, expédition, envoi" per line) as each term's group head."""
    heads: dict[str, str] = {}
    for group in _synonym_groups(lines):
        for term in group[1:]:
            heads[term] = group[0]
    return heads


class Synonyms:
    """Terms (one word or several) that mean the same, each replaced by its group's head: the brand's, then ours.

    A phrase is also known without its small words ("send it back" is "send back"), for it is looked for again once
    the stop words are gone."""

    def __init__(self, groups: dict[str, str], lang: str) -> None:
        self.words = {term: head for term, head in groups.items() if " " not in term}
        groups = dict(groups)
        for term, head in list(groups.items()):
            bare = " ".join(word for word in term.split() if not is_stop(word, lang))
            if " " in bare and bare not in groups:
                groups[bare] = head
        phrases = sorted((term for term in groups if " " in term), key=len, reverse=True)
        self.heads = {term: groups[term] for term in phrases}
        self.phrases = re.compile(r"\b(" + "|".join(map(re.escape, phrases)) + r")\b") if phrases else None
        self.first_words = frozenset(term.split()[0] for term in phrases)

    def merged(self, folded: str) -> list[str]:
        if self.phrases is not None and not self.first_words.isdisjoint(folded.split()):
            folded = self.phrases.sub(lambda found: self.heads[found.group(1)], folded)
        return " ".join(self.words.get(word, word) for word in folded.split()).split()


@lru_cache(maxsize=256)
def synonyms_for(lang: str, brand: str = "") -> Synonyms:
    """The brand's groups and the built-in ones of `lang`: where a term is in both, the brand's group wins."""
    heads = {}
    for group in _synonym_groups(_BUILT_IN_SYNONYMS[lang]) + _synonym_groups(brand):
        for term in group[1:]:
            heads[term] = group[0]
    return Synonyms(heads, lang)


@lru_cache(maxsize=2)
def _stemmer(lang: str):
    return snowballstemmer.stemmer("french" if lang == "fr" else "english")


@lru_cache(maxsize=65536)
def stem(word: str, lang: str) -> str:
    """The word's stem in `lang`."""
    if word.isdigit() or len(word) <= 3:
        return word
    if lang == "fr" and len(word) > 4 and word[-1] in "sx" and word[-2] not in "su":
        word = word[:-1]
    return _stemmer(lang).stemWord(word)


_CONTRACTIONS = [(re.compile(pattern), words) for pattern, words in (
    (r"\b(can|won|ain) t\b", lambda found: {"can": "can not", "won": "will not", "ain": "is not"}[found.group(1)]),
    (r"\b(\w+)n t\b", r"\1 not"), (r"\b(\w+) s\b", r"\1 is"), (r"\bi m\b", "i am"), (r"\b(\w+) ve\b", r"\1 have"),
    (r"\b(\w+) ll\b", r"\1 will"), (r"\b(\w+) re\b", r"\1 are"), (r"\b(\w+) d\b", r"\1 would"),
)]

_PARTICLE = re.compile(r"\b(send|sending|sent|bring|take|give|pay|paying|put|putting|set|setting)((?: \w+){1,2}) "
                       r"(back|together|up)\b")  # "send the lamp back" -> "send back the lamp"


def spelled_out(folded: str, lang: str) -> str:
    """The folded text with SMS spelling replaced by the words it stands for ("slt c koi" -> "salut c est quoi")."""
    if lang == "en":
        for pattern, words in _CONTRACTIONS:
            folded = pattern.sub(words, folded)
        folded = _PARTICLE.sub(r"\1 \3 \2", folded)
    sms = _SMS[lang]
    return " ".join(sms.get(word, word) for word in folded.split())


def is_stop(word: str, lang: str) -> bool:
    return word in _STOP[lang] and word not in _KEEP[lang]


def words_of(text: str, lang: str, synonyms: Synonyms) -> list[str]:
    """The content words of `text` in `lang`, surface form (folded, SMS spelled out, synonyms merged)."""
    found = spelled_out(fold(text), lang).split()
    for _ in range(2):
        found = [word for word in synonyms.merged(" ".join(found)) if not is_stop(word, lang) and len(word) > 1]
    return found


def terms(text: str, synonyms: dict[str, str] | None = None, lang: str = "fr") -> list[str]:
    """The stemmed content terms of `text` read in `lang` (with the brand's synonym heads `synonyms`)."""
    groups = "\n".join(f"{head}, {term}" for term, head in (synonyms or {}).items())
    return [stem(word, lang) for word in words_of(text, lang, synonyms_for(lang, groups))]


# Words that only one of the two languages uses, to tell which one a message is in.
_MARKERS = {
    "fr": word_set("""
        je j tu vous nous le la les un une des du de est et ou pour avec pas mon ma mes votre vos bonjour bonsoir
        merci quel quelle quels quelles comment combien pourquoi puis peut ce cette sur dans c qu que qui quoi
        salut au aux il elle sont suis avez faut veux voudrais livraison commande colis bien tres aussi mais
        svp stp oui non ai etre avoir fait faire en
    """),
    "en": word_set("""
        i you we the an is are and or for with not my your hello hi hey thanks thank what which how much why can
        could this that in do does of to it be have has will would should please when where there they
        am was were get got any yes no did dont its
    """),
}
_SMS_ONLY = {lang: frozenset(_SMS[lang]) - frozenset(_SMS_COMMON) for lang in LANGUAGES}
_FRENCH_LETTERS = re.compile(r"[éèêàçùâîôûëïœ]")


def language(text: str) -> str | None:
    """fr or en: the language `text` is most likely written in; None when nothing tells."""
    raw = (text or "").lower()
    words = fold(raw).split()
    french = sum(1.0 for word in words if word in _MARKERS["fr"] or word in _SMS_ONLY["fr"])
    english = sum(1.0 for word in words if word in _MARKERS["en"] or word in _SMS_ONLY["en"])
    french += 1.5 * min(len(_FRENCH_LETTERS.findall(raw)), 2)
    if french == english:
        return None
    return "fr" if french > english else "en"

