"""The status page's feeds against their specifications: the Atom feed validated with jing
against a RELAX NG grammar of RFC 4287 (tests/fixtures/atom-rfc4287.rnc: an author on the feed
and on every entry, zoned dates, ids, links), and each feed's self link is the URL it was
fetched from."""

import shutil
import subprocess
import xml.etree.ElementTree as ET  # our own server's output, not untrusted input
from pathlib import Path

import pytest

from escalation.services import incident_resolve
from escalation.services.public import public_incident_publish
from tests.conftest import require

from .conftest import open_incident

pytestmark = pytest.mark.django_db

SCHEMA = Path(__file__).parent.parent / "fixtures" / "atom-rfc4287.rnc"
ATOM = "{http://www.w3.org/2005/Atom}"


def _parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 (our own server's output)


@pytest.fixture
def incidents(world, manager):
    current = open_incident(manager, [world.portal])
    resolved = open_incident(manager, [world.api], title="API langsam")
    for incident in (current, resolved):  # the status page shows public incidents only
        public_incident_publish(actor=manager, incidents=[incident], title=f"{incident.title}!")
    incident_resolve(incident=resolved, actor=manager, resolution="Cache geleert")
    return current, resolved


def _jing(tmp_path, body: bytes) -> subprocess.CompletedProcess:
    document = tmp_path / "feed.atom"
    document.write_bytes(body)
    return subprocess.run(  # noqa: S603 (a fixed program and our own files)
        [shutil.which("jing"), "-c", str(SCHEMA), str(document)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("query", ["", "?lang=de", "?lang=en"])
def test_atom_feed_is_valid_rfc_4287(client, incidents, tmp_path, query):
    require(shutil.which("jing") is not None, "jing (apt-get install jing) is not installed")
    body = client.get(f"/status/feed.atom{query}").content
    result = _jing(tmp_path, body)
    assert result.returncode == 0, result.stdout + result.stderr
    feed = _parse(body)
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    assert all(e.find(f"{ATOM}author/{ATOM}name").text for e in [feed, *entries])


def test_the_grammar_refuses_an_entry_without_author(client, incidents, tmp_path):
    """The check is not vacuous: the feed as it was before (no author) fails."""
    require(shutil.which("jing") is not None, "jing (apt-get install jing) is not installed")
    feed = _parse(client.get("/status/feed.atom").content)
    for element in [feed, *feed.findall(f"{ATOM}entry")]:
        for author in element.findall(f"{ATOM}author"):
            element.remove(author)
    result = _jing(tmp_path, ET.tostring(feed))
    assert result.returncode != 0 and "author" in result.stdout


@pytest.mark.parametrize(
    ("url", "headers", "self_url"),
    [
        ("/status/feed.atom", {}, "/status/feed.atom"),
        ("/status/feed.atom", {"accept-language": "de"}, "/status/feed.atom"),
        ("/status/feed.atom?lang=de", {}, "/status/feed.atom?lang=de"),
        ("/status/feed.atom?lang=en", {"accept-language": "de"}, "/status/feed.atom?lang=en"),
        ("/status/feed.rss", {}, "/status/feed.rss"),
        ("/status/feed.rss?lang=de", {}, "/status/feed.rss?lang=de"),
    ],
)
def test_self_link_is_the_fetched_url(client, incidents, url, headers, self_url):
    body = client.get(url, headers=headers).content
    root = _parse(body)
    links = root.iter(f"{ATOM}link")
    selfs = [link.get("href") for link in links if link.get("rel") == "self"]
    assert selfs == [f"https://status.example.org{self_url}"]
    if "lang=de" in url or headers.get("accept-language") == "de" and "lang=en" not in url:
        assert b'lang="de"' in body or b"<language>de</language>" in body
