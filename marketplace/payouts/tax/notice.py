"""The information art. 242 bis CGI tells a platform to give its sellers with every transaction: their tax and
social obligations, with links to the administrations' own pages. One text, shown on the payout and statement
pages, written in the statement files and the yearly summary, and linked from the payout notification."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

# Official pages only (impots.gouv.fr: income earned through online platforms; urssaf.fr: the self-employed).
IMPOTS_URL = "https://www.impots.gouv.fr/portail/node/10841"
URSSAF_URL = "https://www.urssaf.fr/accueil/independant.html"
LEGAL_BASIS = "Art. 242 bis CGI"

TITLE = _l("Your tax and social obligations")
PARAGRAPHS = (
    _l("The amounts you receive through the platform are income: you must declare them to the tax "
       "administration (income tax) and, as a self-employed person, to the Urssaf (social contributions), and "
       "charge or declare VAT when you are liable to it."),
    _l("Each year before 31 January the platform gives you, and the tax administration, the gross amount you "
       "received through it in the previous year and the number of transactions (art. 242 bis and 1649 ter A of "
       "the French tax code)."),
)
LINKS = (
    (_l("Income from online platforms: what to declare (impots.gouv.fr)"), IMPOTS_URL),
    (_l("Self-employed: your social obligations (urssaf.fr)"), URSSAF_URL),
)


@dataclass(frozen=True)
class Notice:
    title: str
    paragraphs: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (label, address)
    legal_basis: str = LEGAL_BASIS

    def lines(self) -> list[str]:
        """The notice as lines of plain text, for files and e-mails."""
        return [f"{self.title} ({self.legal_basis})", *self.paragraphs,
                *(f"{label}: {address}" for label, address in self.links)]


def notice() -> Notice:
    """The notice in the current request's (or `in_language_of`'s) language."""
    return Notice(str(TITLE), tuple(str(text) for text in PARAGRAPHS),
                  tuple((str(label), address) for label, address in LINKS))


def short_text() -> str:
    """The notice in one sentence with its links, for a payout notification (its body is short)."""
    return str(_l("This income is yours to declare to the tax office and the Urssaf (art. 242 bis CGI): %(impots)s "
                  "and %(urssaf)s.", impots=IMPOTS_URL, urssaf=URSSAF_URL))
