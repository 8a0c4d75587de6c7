"""What the bot must not answer whatever its base holds: a request for a person, one order of the visitor's, a
complaint, small talk. Each is a person's work (or nothing to answer): the bot hands over.

The patterns read the folded message with its SMS spelling spelled out, once as French and once as English.
"Comment suivre ma commande ?" is a question the base answers; "ma commande 4521 n'est pas arrivée" is not.
"""

from __future__ import annotations

import re

from marketplace.core.faq.text import fold, spelled_out, word_set

ASKED_FOR_PERSON = "asked_for_person"
ORDER_SPECIFIC = "order_specific"
COMPLAINT = "complaint"
CHIT_CHAT = "chit_chat"


def _any(*patterns: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


_PERSON = {
    "fr": _any(
        r"\b(conseiller|conseillere|conseillers|humain|humaine|operateur|operatrice|agent)s?\b",
        r"\b(parler|discuter|echanger) (a|avec) (un|une|des|quelqu un|qqn|quelqu|votre|vos|le|la|l|personne|vous)\b",
        r"\bquelqu un (au|par) (telephone|tel|bout du fil)\b", r"\b(etre rappele|etre rappelee|me rappeler|"
        r"rappelez moi|me rappelez|m appeler|appelez moi|me telephoner|mettre en relation|mettez moi en relation)\b",
        r"\b(vraie|vrai|real) personne\b", r"\bune personne (reelle|humaine|physique)\b",
        r"\bquelqu un de (chez vous|votre|reel)",
        r"\b(contacter|joindre|appeler|avoir|parler au|passer le) (le |un |votre )?(service client|sav|vendeur|"
        r"responsable)", r"\bpas (un|une|a un|a une|avec un|avec une) (robot|bot|machine)\b",
    ),
    "en": _any(
        r"\b(human|humans|agent|agents|representative|operator|advisor|adviser)\b",
        r"\b(real|actual|live) (person|people|human|someone)\b",
        r"\b(talk|speak|chat|talking|speaking) (to|with) (someone|somebody|anyone|a person|a human|an agent|a "
        r"representative|a real|a live|a member|your staff|staff|a manager|the manager|support|customer service|you "
        r"guys|a salesperson|sales)\b",
        r"\b(contact|reach|call|phone|email) (your |the )?(customer service|customer support|support|staff|team)\b",
        r"\bnot (a|an|with a|with an) (bot|robot|machine)\b", r"\bcall me\b",
        r"\b(person|someone|somebody|human|anyone) (i|we) (can|could) (talk|speak|chat) (to|with)\b",
        r"\b(connect|transfer|put) me (with|to|through)\b",
    ),
}

# One order of the visitor's: its number, or a delivery of theirs that went wrong.
_ORDER_NUMBER = re.compile(r"#\s*\d{3,}|\bn\s*[°o]\s*\d{3,}|\b(no|nr|num|numero|number|ref|reference)\s*\d{3,}")
_ORDER = {
    "fr": _any(
        r"\b(commande|commandes|colis|cde|cmd|livraison|facture)\s+(n\s+|no\s+|numero\s+)?\d{3,}",
        r"\b(toujours pas|jamais|pas encore|toujours rien|rien) (ete )?(recu|recue|recus|arrive|arrivee|arrives|livre|"
        r"livree|livres|parvenu|parvenue)\b",
        r"\b(je n ai|j ai|nous n avons|on n a|je ne l ai) (toujours |encore )?(pas|rien|jamais) (toujours |encore )?"
        r"(recu|eu|vu arriver)\b(?! (de )?(reponse|mail|e mail|email))",
        r"\b(colis|commande|velo|lampe|paquet|article|livraison|remboursement)s? (n est|n a|ne sont|n ont|toujours|"
        r"pas|jamais)( \w+){0,3} (arrive|arrivee|arrives|livre|livree|recu|recue|parvenu|parvenue|ete livre|"
        r"ete livree|ete rembourse)\b",
        r"\b(ou|quand) (est|en est|sont|en sont) (mon|ma|mes) (colis|commande|commandes|velo|lampe|livraison|"
        r"remboursement|paquet|article)",
        r"\b(il|elle) est ou (mon|ma) ", r"\bou en est (mon|ma|mes) ",
        r"\b(mon|ma|mes) (colis|commande|paquet|livraison|remboursement)( \w+){0,3} (en retard|perdu|perdue|bloque|"
        r"bloquee|annule|annulee|retarde|retardee|manquant|incomplet|incomplete)",
        r"\b(annuler|modifier|changer) (ma|mon|la) (commande|livraison|adresse)",
        r"\bmanque (un|une|des|le|la|les)\b.*\b(colis|commande|carton)",
        r"\b(devait|devaient|aurait du|auraient du|etait prevu|etait prevue) (arriver|etre livre|etre livree)",
        r"\b(dit|indique|marque|affiche) (livre|livree)\b", r"\b(livre|livree) mais\b",
        r"\b(recu|livre|envoye|envoyee|expedie) (un |une |le |la )?(mauvais|mauvaise)\b",
        r"\b(debite|debitee|preleve|prelevee|facture|facturee) (deux|2) fois\b",
        r"\b(modifier|changer) (l |mon |ma |la )?adresse\b",
        r"\b(commande|commandee|colis|velo|lampe|paquet|article|livraison)\b.*\bn (est|sont) (toujours )?pas "
        r"(encore )?(la|arrive|arrivee|livre|livree)\b",
    ),
    "en": _any(
        r"\b(order|orders|parcel|package|shipment|invoice)\s+(number\s+|no\s+|n\s+)?\d{3,}",
        r"\bwhere (is|are|s) (my|our) (order|orders|package|parcel|bike|lamp|delivery|refund|stuff|item|items|"
        r"shipment)",
        r"\b(my|our) (order|package|parcel|delivery|shipment|bike|lamp|item|refund)( \w+){0,2} (has not|have not|"
        r"did not|never|still|is late|was late|is missing|went missing|is lost|got lost|is delayed|has been delayed|"
        r"is stuck|was wrong|arrived without|is incomplete)\b",
        r"\b(have not|has not|did not|never|still have not|not yet|still not|yet to) (received|receive|got|get|gotten|"
        r"arrived|come|been delivered)\b",
        r"\b(cancel|change|modify) (my|the) (order|delivery|address)\b",
        r"\b(order|package|parcel) (is )?(late|lost|missing|delayed|stuck)\b",
        r"\b(order|tracking|reference|invoice) (number|no)( is| was)? \d{3,}",
        r"\b(status|progress) of (my|our) (order|package|parcel|delivery)", r"\bcheck (on )?(my|our) (order|package|"
        r"parcel|delivery)", r"\bhappened (to|with) (my|our) (order|package|parcel|delivery|bike|lamp)",
        r"\b(charged|billed|debited) (me )?(twice|two times|double)\b",
        r"\b(received|got|sent|delivered|sent me) (me )?(the |a )?wrong\b",
        r"\b(tracking|it) (says|shows) (it was |it is )?delivered\b",
    ),
}

_COMPLAINT = {
    "fr": _any(
        r"\b(inadmissible|scandale|scandaleux|scandaleuse|honte|honteux|honteuse|inacceptable|plainte|arnaque|"
        r"arnaqueur|arnaqueurs|escroc|escrocs|escroquerie|lamentable|deplorable|catastrophique|inadmissibles|"
        r"mecontent|mecontente|furieux|furieuse|degoute|degoutee|voleurs|minable|pitoyable|nul|nuls)\b",
        r"\bremboursez( moi)?\b", r"\b(tres|trop|vraiment) (decu|decue|decus|decues)\b",
        r"\bn importe quoi\b", r"\bplus jamais\b", r"\bfoutez? de\b", r"\bpersonne ne (repond|rappelle)\b",
        r"\b(je|j) (veux|exige|demande) (un |mon |d etre )?(remboursement|rembourse|rembourser)",
        r"\bporter plainte\b", r"\bc est (une honte|abuse|du vol)\b",
    ),
    "en": _any(
        r"\b(unacceptable|disgusted|disgusting|disgrace|disgraceful|complaint|complain|complaining|scam|scammers|"
        r"ripoff|outrageous|appalling|pathetic|shameful|ridiculous|furious|useless|worst|rubbish|incompetent|"
        r"terrible|horrible|awful|fraud|thieves)\b",
        r"\brip off\b", r"\b(want|demand|need) (my money back|a refund now|a full refund|my refund now)\b",
        r"\brefund me\b", r"\bnever (buying|ordering|shopping|buy|order|shop) (from|with|here)\b",
        r"\b(never again|shame on you|fed up|you suck|you guys suck|so angry|very angry|"
        r"not happy at all|really disappointed|very disappointed|extremely disappointed)\b",
        r"\bno one (answers|replies|responds|is answering)\b",
    ),
}

# Small talk: a message made only of these (in any order) asks nothing.
_SMALL_TALK_PHRASES = re.compile(
    r"\b(comment (ca|ca) va|comment allez vous|ca va|ca roule|tu vas bien|vous allez bien|how are you( doing)?|"
    r"how s it going|how is it going|what s up|what is up|whats up|good morning|good afternoon|good evening|good night|"
    r"have a (nice|good|great) (day|evening|weekend)|bonne (journee|soiree|nuit|fin de journee|semaine)|bon week end|"
    r"au revoir|a bientot|a plus|see you|take care|thank you( so much| very much)?|merci (beaucoup|bien|bcp)|"
    r"s il vous plait|s il te plait|d accord|are you (a )?(bot|robot|real)|t es (un )?(bot|robot)|"
    r"vous etes (un )?(bot|robot)|who are you|qui etes vous|(hey|hi|hello) there|thanks a lot|thank you a lot|"
    r"merci mille fois|mille mercis|(j ai|i have|i ve got|i got) (une|a) (petite |quick |small )?question|"
    r"(une|a) (petite |quick |small )?question|excusez moi|excuse me)\b")
_SMALL_TALK_WORDS = word_set("""
    bonjour bonsoir salut coucou hello hi hey hiya yo re merci thanks thank thx ty ok okay okey cool super top parfait
    genial great nice perfect good bien lol mdr ptdr haha hahaha hehe xd oui non yes no yep nope yeah ouais bye
    ciao tchao please plz pls svp stp sup test bisous cheers awesome d accord daccord voila alright fine ah oh ha
    madame monsieur sir madam all everyone tout le monde vous toi you wow waouh allo alo there
""")


def _readings(text: str) -> dict[str, str]:
    folded = fold(text)
    return {lang: spelled_out(folded, lang) for lang in ("fr", "en")}


def is_small_talk(text: str) -> bool:
    """Whether `text` is only greetings, thanks, politeness or laughter (an empty message too)."""
    for reading in _readings(text).values():
        rest = _SMALL_TALK_PHRASES.sub(" ", reading).split()
        if all(word in _SMALL_TALK_WORDS for word in rest):
            return True
    return False


def guard(text: str) -> str | None:
    """The reason a message is a person's work whatever the base holds (matching.GUARDED), or None."""
    readings = _readings(text)
    if any(_PERSON[lang].search(reading) for lang, reading in readings.items()):
        return ASKED_FOR_PERSON
    if _ORDER_NUMBER.search((text or "").lower()) or any(
            _ORDER[lang].search(reading) for lang, reading in readings.items()):
        return ORDER_SPECIFIC
    if any(_COMPLAINT[lang].search(reading) for lang, reading in readings.items()):
        return COMPLAINT
    if is_small_talk(text):
        return CHIT_CHAT
    return None
