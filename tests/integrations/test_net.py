"""The SSRF guard: every spelling of an internal address is refused, the checked address is the one connected to.

Requests that must be refused aim at the "internal" servers (127.0.0.2 and
[::1]); the ``servers`` fixture fails the test if either was reached. Addresses
outside loopback (metadata, private ranges) are only classified, never sent to.
"""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from integrations import http, mail, net
from integrations.net import BlockedAddress, Guard, ip_literal, refusal_reason

pytestmark = pytest.mark.usefixtures("servers")


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7F.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("169.254.169.254", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("[fd00:ec2::254]", "fd00:ec2::254"),
        ("example.com", None),
        ("cafe.example", None),
    ],
)
def test_ip_literal_reads_every_spelling(spelling, address):
    assert ip_literal(spelling) == (ipaddress.ip_address(address) if address else None)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("100.64.0.1", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("fec0::1", "site-local"),
        ("192.0.2.1", "private"),  # documentation range
    ],
)
def test_internal_addresses_are_refused(address, reason):
    assert reason in (refusal_reason(ipaddress.ip_address(address)) or "")


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_allowlist_entries():
    guard = Guard.from_allowlist(["10.0.0.0/8", "127.0.0.1", "internal.example.com", "*.corp.example", " "])
    assert guard.address_allowed(ipaddress.ip_address("10.9.9.9"))
    assert guard.address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"))  # the same address, mapped
    assert not guard.address_allowed(ipaddress.ip_address("127.0.0.2"))
    assert guard.host_allowed("INTERNAL.example.com.")
    assert guard.host_allowed("a.b.corp.example")
    assert not guard.host_allowed("corp.example.evil")
    guard.check_url("http://10.1.1.1/")  # allowed network: no error
    with pytest.raises(BlockedAddress, match=r"169\.254\.169\.254: it is a cloud metadata address"):
        guard.check_url("http://169.254.169.254/latest/meta-data/")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1/", "ftp://example.com/", "http:///nohost"])
def test_only_http_urls(url):
    with pytest.raises(BlockedAddress):
        Guard().check_url(url)


def _internal_spellings(internal_server, internal_v6_server) -> list[str]:
    port, v6_port = internal_server.port, internal_v6_server.port
    return [
        f"http://127.0.0.2:{port}/",
        f"http://2130706434:{port}/",  # decimal
        f"http://0x7f000002:{port}/",  # hex
        f"http://127.2:{port}/",  # short
        f"http://0177.0.0.2:{port}/",  # octal
        f"http://[::ffff:127.0.0.2]:{port}/",  # IPv4-mapped IPv6
        f"http://[::ffff:7f00:2]:{port}/",
        f"http://[::1]:{v6_port}/",  # IPv6 loopback
        f"http://[0:0:0:0:0:0:0:1]:{v6_port}/",
    ]


def test_every_spelling_of_an_internal_address_is_refused(internal_server, internal_v6_server):
    for url in _internal_spellings(internal_server, internal_v6_server):
        with pytest.raises(BlockedAddress, match="Refused"):
            http.send("GET", url, timeout=5)
    # (the servers fixture asserts that neither internal server saw a request)


def test_the_allow_listed_target_is_reached(target_server):
    response = http.send("GET", target_server.url("/echo?x=1"), timeout=5)
    assert response.status == 200
    assert response.json()["query"] == {"x": "1"}


def test_a_dns_name_resolving_to_loopback_is_refused(target_server, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = []
    with pytest.raises(BlockedAddress, match=r"localhost \(127\.0\.0\.1\): it is a loopback address"):
        http.send("GET", f"http://localhost:{target_server.port}/echo", timeout=5)
    with pytest.raises(BlockedAddress):
        http.send("GET", target_server.url("/echo"), timeout=5)
    assert target_server.hits == []


def test_a_host_name_can_be_allow_listed(target_server, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["localhost"]
    assert http.send("GET", f"http://localhost:{target_server.port}/echo", timeout=5).status == 200
    with pytest.raises(BlockedAddress):  # the name is allowed, not the address in another spelling
        http.send("GET", target_server.url("/echo"), timeout=5)


def test_a_redirect_into_an_internal_address_is_refused(target_server, internal_server, internal_v6_server):
    for location in _internal_spellings(internal_server, internal_v6_server):
        url = str(httpx.URL(target_server.url("/redirect"), params={"to": location + "secret"}))
        with pytest.raises(BlockedAddress, match="Refused"):
            http.send("GET", url, timeout=5)
    assert len(target_server.hits) == len(_internal_spellings(internal_server, internal_v6_server))


def test_a_redirect_to_another_scheme_is_refused(target_server):
    url = str(httpx.URL(target_server.url("/redirect"), params={"to": "file:///etc/passwd"}))
    with pytest.raises(BlockedAddress, match="only http and https"):
        http.send("GET", url, timeout=5)


def test_the_guard_holds_below_the_url_check(internal_server):
    """Even a caller that skips check_url cannot connect: the transport resolves and checks again."""
    client = net.guarded_client()
    with pytest.raises(BlockedAddress):
        client.get(f"http://0x7f000002:{internal_server.port}/")


def test_one_client_per_guard_and_process(settings):
    first = net.guarded_client()
    assert net.guarded_client() is first
    assert net.guarded_client(verify=False) is not first
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1", "10.0.0.0/8"]
    assert net.guarded_client() is not first


def test_the_shared_client_keeps_no_cookies(target_server):
    http.send("GET", target_server.url("/echo"), timeout=5)  # answers Set-Cookie
    http.send("GET", target_server.url("/echo"), timeout=5)
    assert "cookie" not in target_server.hits[-1]["headers"]


def test_smtp_connections_go_through_the_guard(internal_server):
    backend = mail.connection_for(
        {"host": "0x7f000002", "port": internal_server.port, "from_email": "a@example.com"}, timeout=5
    )
    with pytest.raises(BlockedAddress):
        backend.open()
    with pytest.raises(BlockedAddress):
        mail.GuardedSMTP("127.0.0.2", internal_server.port, timeout=5)
