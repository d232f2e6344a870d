"""The file readers: what they yield, and how they refuse broken or foreign files."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.importers import disqus, parley_json, wordpress
from parley.importers.sources import FormatError, Skipped, SourceComment, SourceThread

DATA = Path(__file__).resolve().parents[2] / "functional" / "data"


def test_wxr_yields_threads_before_their_comments_and_skips_pingbacks() -> None:
    items = list(wordpress.parse(DATA / "wordpress.xml"))
    threads = [i for i in items if isinstance(i, SourceThread)]
    comments = [i for i in items if isinstance(i, SourceComment)]
    skipped = [i.reason for i in items if isinstance(i, Skipped)]
    assert [t.ref for t in threads] == ["101", "2", "120"]  # the attachment is no thread
    assert threads[0].key == "https://stadtblatt.example/2024/05/strassenbahn/"
    assert threads[1].closed
    assert sorted(skipped) == ["pingback", "trackback"]
    statuses = {c.ref: c.status for c in comments}
    assert statuses == {
        "11": "published",
        "12": "published",
        "14": "published",
        "13": "rejected",
        "15": "deleted",
        "16": "held",
        "21": "published",
        "22": "published",
    }
    seen: set[str] = set()
    for item in items:
        if isinstance(item, SourceThread):
            seen.add(item.ref)
        elif isinstance(item, SourceComment):
            assert item.thread_ref in seen
    reply = next(c for c in comments if c.ref == "12")
    assert reply.parent_ref == "11"
    assert reply.author_name == "Ølga Ŝtraße"


@pytest.mark.parametrize(("strategy", "key"), [("id", "101"), ("guid", "https://stadtblatt.example/?p=101")])
def test_wxr_thread_key_strategies(strategy: wordpress.ThreadKey, key: str) -> None:
    first = next(iter(wordpress.parse(DATA / "wordpress.xml", strategy)))
    assert isinstance(first, SourceThread)
    assert first.key == key


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_broken_xml_names_the_line(tmp_path: Path) -> None:
    text = (DATA / "wordpress.xml").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[40] = lines[40] + "<broken"
    path = write(tmp_path, "broken.xml", "\n".join(lines))
    with pytest.raises(FormatError, match=r"line 4[12]: broken XML"):
        list(wordpress.parse(path))


def test_a_disqus_file_is_not_a_wordpress_export(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not a WordPress export"):
        list(wordpress.parse(DATA / "disqus.xml"))
    with pytest.raises(FormatError, match="not a Disqus export"):
        list(disqus.parse(DATA / "wordpress.xml"))


def test_a_comment_without_id_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (
        (DATA / "wordpress.xml").read_text(encoding="utf-8").replace("<wp:comment_id>13</wp:comment_id>", "")
    )
    with pytest.raises(FormatError, match=r"line \d+: <wp:comment> without <wp:comment_id>"):
        list(wordpress.parse(write(tmp_path, "noid.xml", text)))


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',  # laughs
        '<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',  # external entity
        '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">',  # network DTD
    ],
)
def test_dtds_and_entities_are_refused(tmp_path: Path, doctype: str) -> None:
    body = '<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><title>&b;&xxe;</title></channel></rss>'
    path = write(tmp_path, "dtd.xml", '<?xml version="1.0"?>\n' + doctype + "\n" + body)
    with pytest.raises(FormatError, match=r"DTDs are not allowed|broken XML"):
        list(wordpress.parse(path))


def test_disqus_posts_keep_parents_flags_and_identity() -> None:
    items = list(disqus.parse(DATA / "disqus.xml"))
    threads = [i for i in items if isinstance(i, SourceThread)]
    posts = {i.ref: i for i in items if isinstance(i, SourceComment)}
    assert [t.key for t in threads] == [
        "https://stadtblatt.example/artikel-42",
        "https://stadtblatt.example/artikel-43",
    ]
    assert threads[1].closed
    assert posts["9003"].parent_ref == "9001"
    assert posts["9002"].status == "rejected"
    assert posts["9004"].status == "deleted"
    assert posts["9001"].author_key == "disqus:maxm"
    assert posts["9002"].author_key is None  # anonymous: identified by e-mail or name


def test_disqus_identifier_as_key() -> None:
    first = next(iter(disqus.parse(DATA / "disqus.xml", "id")))
    assert isinstance(first, SourceThread)
    assert first.key == "artikel-42"


def test_parley_json_refuses_a_cut_off_file(tmp_path: Path) -> None:
    head = parley_json.header_line({"slug": "s", "name": "S"})
    good = head + '{"type":"thread","ref":"1","key":"k"}\n]}\n'
    assert [type(i).__name__ for i in parley_json.parse(write(tmp_path, "ok.json", good))] == ["SourceThread"]
    with pytest.raises(FormatError, match="cut off"):
        list(
            parley_json.parse(write(tmp_path, "cut.json", head + '{"type":"thread","ref":"1","key":"k"},\n'))
        )
    with pytest.raises(FormatError, match="line 2: broken JSON"):
        list(parley_json.parse(write(tmp_path, "bad.json", head + '{"type":"thr\n]}\n')))
    with pytest.raises(FormatError, match="not a Parley export"):
        list(parley_json.parse(write(tmp_path, "other.json", '{"hello": 1}\n')))
