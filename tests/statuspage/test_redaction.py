"""Redaction of customer names from the public status page (incidents/statuspage/build.py,
`customer_names` through `Redactor`, as `build` applies it): a name written the way a slug
spells it is still the customer's name, and a name inside a longer word is not."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from escalation.services.public import public_incident_publish, public_incident_update_post
from incidents.statuspage.build import Redactor, build
from tests.factories import CustomerFactory

from .conftest import open_incident

MARK = Redactor.MARK


def published(manager, world, body: str) -> str:
    incident = open_incident(manager, [world.portal])
    face = public_incident_publish(actor=manager, incidents=[incident], title="Portal gestört")
    public_incident_update_post(public_incident=face, actor=manager, body=body)
    [public] = build().open_incidents
    [update] = [u for u in public.updates if u.kind == "update"]
    return update.bodies["de"]


@pytest.mark.django_db
def test_a_name_spelt_as_its_slug_words_is_redacted(world, manager):
    """Customer "Müller Logistik GmbH" (slug mueller-logistik): an update writing "Mueller
    Logistik" (how a German keyboard without umlauts spells it) names them too."""
    CustomerFactory(name="Müller Logistik GmbH", slug="mueller-logistik")
    body = published(manager, world, "Mueller Logistik, MUELLER LOGISTIK und Müller Logistik GmbH")
    assert body == f"{MARK}, {MARK} und {MARK}"


@pytest.mark.django_db
def test_a_name_inside_a_longer_word_is_left_alone(world, manager):
    """A customer named "Nova" must not turn "Renova" into "Re[…]" (nor "Novartis" into
    "[…]rtis"): names count as whole words only."""
    CustomerFactory(name="Nova", slug="nova")
    body = published(manager, world, "Renova und Novartis melden nichts; Nova meldet einen Ausfall")
    assert body == f"Renova und Novartis melden nichts; {MARK} meldet einen Ausfall"


# Names of one or two words, the first at least four letters (so it counts on its own), with a
# slug that spells them in ASCII as customers' slugs do.
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
word = st.from_regex(r"[A-Z][a-zäöüß]{3,9}", fullmatch=True)
affix = st.from_regex(r"[a-zA-Zäöü]{1,4}", fullmatch=True)


@st.composite
def customers(draw):
    words = draw(st.lists(word, min_size=1, max_size=2, unique_by=str.casefold))
    name = " ".join(words)
    slug = "-".join(w.casefold().translate(UMLAUTS) for w in words)
    return name, slug


@given(customer=customers(), before=affix, after=affix)
@example(customer=("Nova", "nova"), before="Re", after="rtis")
def test_a_customer_word_is_redacted_alone_and_never_inside_another_word(customer, before, after):
    name, slug = customer
    redact = Redactor([customer])
    first = name.split()[0]
    assert redact(f"bei {name}: Ausfall") == f"bei {MARK}: Ausfall"
    assert redact(f"bei {slug.replace('-', ' ')}: Ausfall") == f"bei {MARK}: Ausfall"
    assert redact(f"({first})") == f"({MARK})"
    for text in (f"{before}{first}", f"{first}{after}", f"{before}{first}{after}"):
        assert redact(text) == text


def test_the_longest_name_wins_so_one_mark_covers_it():
    """ "Nova Corp" (slug nova) becomes one mark, not "[…] Corp": the company name is longer
    than its slug and its first word, and is tried first."""
    redact = Redactor([("Nova Corp", "nova")])
    assert redact("Nova Corp meldet; NOVA CORP auch") == f"{MARK} meldet; {MARK} auch"


def test_slug_words_count_from_three_characters():
    """A slug of three characters ("a-z") still names the customer by its words ("a z")."""
    assert Redactor([("A-Z Logistik", "a-z")])("Lager a z offen") == f"Lager {MARK} offen"


@pytest.mark.parametrize("name", [None, "", "   "])
def test_an_empty_name_or_slug_adds_no_word(name):
    """A customer row without a name (or slug) is recognised by what it has, and adds nothing
    of its own: no empty alternative, no placeholder."""
    redact = Redactor([(name, "nova"), ("Acme", None)])
    assert redact("XXXX, nova und Acme") == f"XXXX, {MARK} und {MARK}"
    assert Redactor([(name, None)]).pattern is None
