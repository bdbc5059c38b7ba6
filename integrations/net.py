"""Outgoing connections that cannot be pointed inside (SPEC §5, the SSRF guard).

Every outgoing connection a user can aim (``http_request``, ``slack``, ``llm``,
credential tests, SMTP credentials, later outgoing webhooks) goes through a
:class:`Guard`:

* the host is **resolved once**, and every address it resolves to is checked:
  private, loopback, link-local, multicast, reserved, unspecified, shared
  (CGNAT) and cloud-metadata addresses are refused, whatever the spelling —
  decimal ``2130706433``, hex ``0x7f000001``, short ``127.1``, octal
  ``0177.0.0.1``, IPv6 ``::1``, IPv4-mapped ``::ffff:127.0.0.1`` (and the
  other IPv6 forms that carry an IPv4 address), or a DNS name resolving there;
* the connection is made **to the checked address**, so a DNS answer that
  changes between check and connect (rebinding) cannot slip through, while
  TLS SNI, certificate checks and the ``Host`` header keep the host name;
* HTTP clients never follow redirects themselves (:mod:`integrations.http`
  follows them by hand), and every new connection, so every redirect hop to
  another origin, goes through the same check;
* ``FLOWBUILDER_HTTP_ALLOWLIST`` names exceptions: host names (``internal.example.com``,
  ``*.corp.example.com``) whose addresses are all let through, or CIDRs
  (``10.1.2.0/24``, ``127.0.0.1``) whose addresses are.

:func:`guarded_client` hands out one ``httpx.Client`` per process and guard
(opening a client costs ~29 ms of TLS set-up; reusing it keeps connections
alive too). :func:`connect_socket` is the same check for plain sockets (SMTP).
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import os
import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx
from django.conf import settings

from flowbuilder.api.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean…
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but routed inside some networks
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
ALLOWED_SCHEMES = frozenset({"http", "https"})
USER_AGENT = "Flowbuilder/1.0"

# What inet_aton accepts (and so what C resolvers treat as an IPv4 literal): 1 to 4 parts, each decimal,
# octal (leading 0) or hex (0x…), e.g. 2130706433, 0x7f000001, 127.1, 0177.0.0.1.
_INET_ATON_FORM = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]*|[0-9]+)){0,3}\.?$")


class BlockedAddress(Exception):
    """The guard refused a destination. ``message`` says which address and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnresolvableHost(OSError):
    pass


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, if it is an IP literal in any form a resolver accepts; else None."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.split("%", 1)[0]  # an IPv6 zone id
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _INET_ATON_FORM.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64 or (ip in IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal_reason(ip: IPAddress) -> str | None:
    """Why connecting to ``ip`` is refused (``"a loopback address"``), or None for a public address."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        reason = refusal_reason(embedded)
        if reason:
            return f"{reason} ({embedded} inside an IPv6 address)"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT:
        return "a shared (CGNAT) address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in SITE_LOCAL:
        return "a site-local address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Guard:
    """Which destinations are let through: public addresses, plus the allow-listed hosts and networks."""

    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_allowlist(cls, entries: Iterable[str]) -> Guard:
        """Entries are CIDRs or IP addresses (networks), ``*.example.com`` / ``.example.com`` (suffixes), or host names."""
        hosts: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                continue
            except ValueError:
                pass
            if entry.startswith("*."):
                suffixes.append(entry[1:])
            elif entry.startswith("."):
                suffixes.append(entry)
            else:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(sorted(set(suffixes))), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        name = host.strip().lower().rstrip(".")
        return name in self.hosts or any(name.endswith(suffix) for suffix in self.suffixes)

    def address_allowed(self, ip: IPAddress) -> bool:
        candidates = [ip]
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            candidates.append(embedded)
        return any(c in network for c in candidates for network in self.networks if c.version == network.version)

    def check_address(self, ip: IPAddress, host: str) -> None:
        """Raise BlockedAddress unless ``ip`` (what ``host`` resolved to) may be connected to."""
        if self.address_allowed(ip):
            return
        reason = refusal_reason(ip)
        if reason:
            target = str(ip) if str(ip) == host.strip("[]").lower() else f"{host} ({ip})"
            raise BlockedAddress(
                f"Refused to connect to {target}: it is {reason}. Outgoing requests reach only public "
                "addresses unless FLOWBUILDER_HTTP_ALLOWLIST names the host or network"
            )

    def check_url(self, url: httpx.URL | str) -> None:
        """Refuse what can be refused before connecting: other schemes, no host, a blocked IP literal."""
        if not isinstance(url, httpx.URL):
            try:
                url = httpx.URL(url)
            except httpx.InvalidURL as exc:
                raise BlockedAddress(f"Refused: not a valid URL ({exc})") from None
        if url.scheme not in ALLOWED_SCHEMES:
            raise BlockedAddress(f"Refused: only http and https URLs may be requested, not '{url.scheme}'")
        if not url.host:
            raise BlockedAddress("Refused: the URL has no host")
        if self.host_allowed(url.host):
            return
        literal = ip_literal(url.host)
        if literal is not None:
            self.check_address(literal, url.host)

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The checked addresses of ``host``, resolved once.

        Raises BlockedAddress if any address it resolves to is refused (a name
        that answers both public and private addresses is not trusted with
        either), UnresolvableHost if it does not resolve.
        """
        host = host.strip("[]")
        literal = ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
            except (socket.gaierror, UnicodeError) as exc:
                raise UnresolvableHost(f"Could not resolve host '{host}': {exc}") from None
            addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
            if not addresses:
                raise UnresolvableHost(f"Could not resolve host '{host}'")
        if not self.host_allowed(host):
            for ip in addresses:
                self.check_address(ip, host)
        return addresses


_guards: dict[tuple[str, ...], Guard] = {}


def current_guard(*, allow: Iterable[str] = ()) -> Guard:
    """The guard of the current settings, with ``allow`` (hosts or CIDRs the caller trusts) added."""
    entries = (*settings.FLOWBUILDER_HTTP_ALLOWLIST, *allow)
    guard = _guards.get(entries)
    if guard is None:
        guard = _guards[entries] = Guard.from_allowlist(entries)
    return guard


def check_destination(url: str, *, field: str = "url") -> str:
    """Refuse a URL the SSRF guard would refuse (scheme, IP literal, a host resolving inside).

    A host that does not resolve now is accepted: it may later, and every
    delivery is checked again when it connects. Raises ValidationFailed.
    """
    guard = current_guard()
    try:
        parsed = httpx.URL(url)
        guard.check_url(parsed)
        if not guard.host_allowed(parsed.host):
            guard.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except httpx.InvalidURL as exc:
        raise ValidationFailed(f"Not a valid URL: {exc}", field=field) from None
    except BlockedAddress as exc:
        raise ValidationFailed(exc.message, field=field) from None
    except UnresolvableHost:
        pass
    return url


def connect_socket(host: str, port: int, timeout: float | None, guard: Guard | None = None) -> socket.socket:
    """A TCP socket to a checked address of ``host`` (raises BlockedAddress, OSError)."""
    guard = guard or current_guard()
    error: OSError | None = None
    for ip in guard.resolve(host, port):
        try:
            return socket.create_connection((str(ip), port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error or OSError(f"Could not connect to {host}:{port}")


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's network backend, connecting only to addresses the guard allows.

    httpcore asks for ``connect_tcp(host, port)`` with the URL's host; TLS is
    started on the returned stream with the host name as SNI, so certificate
    checks are unchanged.
    """

    def __init__(self, guard: Guard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self._guard.resolve(host, port)
        except UnresolvableHost as exc:
            raise httpcore.ConnectError(str(exc)) from None
        error: Exception | None = None
        for ip in addresses:
            try:
                return self._inner.connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise BlockedAddress("Refused: Unix sockets cannot be reached")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool whose connections go through :class:`GuardedBackend`.

    Never uses a proxy (a proxy would connect on our behalf, unchecked).
    """

    def __init__(self, guard: Guard, *, verify: bool = True, limits: httpx.Limits | None = None) -> None:
        # HTTPTransport's own __init__ would build a pool we would throw away; ours differs only in its backend.
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard),
        )


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """The client is shared by every user's requests: it must never keep a cookie from one for another."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


_clients: dict[tuple[int, Guard, bool], httpx.Client] = {}
_clients_lock = threading.Lock()


def guarded_client(*, allow: Iterable[str] = (), verify: bool = True) -> httpx.Client:
    """The process's client for this guard (settings' allow-list plus ``allow``) and TLS verification.

    It follows no redirects (:func:`integrations.http.send` does, hop by hop)
    ignores proxy environment variables and keeps no cookies. Keyed by process id too, so a
    forked worker never shares a parent's connections.
    """
    key = (os.getpid(), current_guard(allow=allow), verify)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = httpx.Client(
                    transport=GuardedTransport(key[1], verify=verify),
                    follow_redirects=False,
                    trust_env=False,
                    timeout=30,
                    headers={"User-Agent": USER_AGENT},
                    cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
                )
                _clients[key] = client
    return client
