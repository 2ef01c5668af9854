"""Connector sources in sources.yaml: what each type needs, and the patterns it takes."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from knowledge.connectors import open_connector
from knowledge.connectors.crawl import normalized, read_links, readable_link
from knowledge.connectors.http import retry_after
from knowledge.connectors.site import conditional_headers, validator_of
from knowledge.sources import SourceSpec, SourceUnavailable
from supportbot.settings import Settings


def test_each_connector_type_says_what_it_needs() -> None:
    with pytest.raises(ValidationError, match="sitemap source needs `url`"):
        SourceSpec(name="s", kind="manual", type="sitemap")
    with pytest.raises(ValidationError, match="zendesk source needs `url`"):
        SourceSpec(name="z", kind="manual", type="zendesk")
    with pytest.raises(ValidationError, match="needs `repo`"):
        SourceSpec(name="g", kind="manual", type="github")
    with pytest.raises(ValidationError, match="bad pattern"):
        SourceSpec(
            name="s", kind="manual", type="sitemap", url="https://x.example/s.xml", include=["("]
        )


def test_include_and_exclude_patterns_filter_locations() -> None:
    spec = SourceSpec(
        name="s",
        kind="manual",
        type="sitemap",
        url="https://docs.example.com/sitemap.xml",
        include=[r"/docs/"],
        exclude=[r"/docs/old/"],
    )
    assert spec.wanted("https://docs.example.com/docs/reset")
    assert not spec.wanted("https://docs.example.com/docs/old/reset")
    assert not spec.wanted("https://docs.example.com/blog/post")


def test_validators_round_trip_into_conditional_requests() -> None:
    assert validator_of(httpx.Headers({"ETag": '"abc"'})) == 'etag:"abc"'
    modified = "Wed, 21 Oct 2026 07:28:00 GMT"
    assert validator_of(httpx.Headers({"Last-Modified": modified})) == f"modified:{modified}"
    assert validator_of(httpx.Headers({})) is None
    assert conditional_headers('etag:"abc"') == {"If-None-Match": '"abc"'}
    assert conditional_headers(f"modified:{modified}") == {"If-Modified-Since": modified}
    assert conditional_headers(None) == {}


def test_retry_after_reads_seconds_dates_and_githubs_reset() -> None:
    request = httpx.Request("GET", "https://api.example.com")
    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"}, request=request), 1) == 7
    assert retry_after(httpx.Response(429, request=request), 1.5) == 1.5
    past = httpx.Response(
        429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, request=request
    )
    assert retry_after(past, 1) == 0
    assert (
        retry_after(httpx.Response(403, headers={"x-ratelimit-reset": "1"}, request=request), 9)
        == 0
    )


def test_a_crawl_needs_start_pages_on_one_host() -> None:
    with pytest.raises(ValidationError, match="crawl source needs `url`"):
        SourceSpec(name="c", kind="manual", type="crawl")
    with pytest.raises(ValidationError, match="one host"):
        SourceSpec(
            name="c",
            kind="manual",
            type="crawl",
            urls=["https://docs.example.com/", "https://blog.example.com/"],
        )
    spec = SourceSpec(name="c", kind="manual", type="crawl", url="https://docs.example.com/a")
    assert spec.start_urls == ["https://docs.example.com/a"]


def test_links_are_read_with_base_nofollow_and_the_robots_meta_tag() -> None:
    html = b"""<html><head><base href="/guides/"><meta name="ROBOTS" content="noindex">
    </head><body><a href="reset#step">a</a><a href="reset">same</a><a href="mailto:x@y.z">m</a>
    <a href="/private" rel="external nofollow">p</a><a href="HTTPS://Docs.Example.com">h</a>
    <a href="javascript:void(0)">j</a></body></html>"""
    links, follow, index = read_links(html, "https://docs.example.com/start")
    assert links == ["https://docs.example.com/guides/reset", "https://docs.example.com/"]
    assert (follow, index) == (True, False)
    none = b'<html><head><meta name="robots" content="none"></head><a href="/x">x</a></html>'
    assert read_links(none, "https://docs.example.com/") == ([], False, False)
    assert read_links(b"", "https://docs.example.com/") == ([], True, True)
    assert normalized("https://docs.example.com/a?b=1#c") == "https://docs.example.com/a?b=1"
    assert not readable_link("https://docs.example.com/diagram.png")
    assert readable_link("https://docs.example.com/manual.pdf")
    assert readable_link("https://docs.example.com/guides/reset")


def test_a_notion_source_without_a_token_says_which_setting_is_missing() -> None:
    spec = SourceSpec(name="n", kind="manual", type="notion")
    with pytest.raises(SourceUnavailable, match="SUPPORTBOT_NOTION_TOKEN"):
        open_connector(spec, Settings())
    with pytest.raises(ValidationError, match="root"):
        SourceSpec(name="n", kind="manual", type="notion", root="not-an-id")
