"""Where a network probe may connect: the SSRF guard in front of every http/tcp/tls probe.

Checks are configuration, and configuration is written by more people than the code is
reviewed by. Without a guard, one check pointed at http://169.254.169.254/ would hand the
cloud credentials of the probe host to whoever reads the check results. So a probe only
reaches a host that is in the service catalogue (or explicitly allowed), and only at an
address whose class the NetworkPolicy allows. `vet` returns the addresses it checked, and the
probes connect to those addresses rather than resolving the name again, which closes the
DNS-rebinding window between the check and the connection.
"""

import ipaddress
import logging
import socket
import time

from serviceops.domain.cmdb import NetworkPolicy

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud instance metadata: AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba Cloud.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host" on Linux, not routable
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: private in practice
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix embeds an IPv4


class TargetRefused(Exception):
    """The policy does not let a probe reach this host or address; nothing was connected."""


def normalise_host(host: str) -> str:
    """Comparable form of a host: lower case, no IPv6 brackets, no trailing dot, IP literals
    in their canonical text (so `[0:0::1]` and `::1` are the same host)."""
    bare = host.strip().strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(bare).compressed
    except ValueError:
        return bare


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address carries: both are ways to spell 127.0.0.1 or
    169.254.169.254 that an IPv6-only rule would miss."""
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def refusal(ip: IPAddress, policy: NetworkPolicy) -> str | None:
    """Why `ip` may not be reached under `policy`, None when it may. Order matters: ::1 is
    inside the reserved ::/8, so loopback is judged before reserved."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:127.0.0.1 *is* 127.0.0.1 on a dual stack
            return refusal(ip.ipv4_mapped, policy)
        embedded = _embedded_ipv4(ip)
        if embedded is not None and (reason := refusal(embedded, policy)) is not None:
            return reason
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip in METADATA_ADDRESSES:
        if policy.allow_link_local:
            return None
        return "link-local (cloud metadata)" if ip.is_link_local else "a cloud metadata address"
    if ip.is_link_local:
        return None if policy.allow_link_local else "link-local"
    if ip.is_loopback:
        return None if policy.allow_loopback else "loopback"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private or ip in _SHARED or not ip.is_global:
        return None if policy.allow_private else "a private address"
    return None


def vet(host: str, port: int, policy: NetworkPolicy, known_hosts: frozenset[str]) -> list[str]:
    """The addresses of `host` a probe may connect to, in resolver order, IPv4-mapped IPv6
    unwrapped to IPv4. Raises TargetRefused when the host is not a catalogue host nor in
    `policy.allow_hosts` (checked before any DNS query), or when ANY resolved address is
    refused: a name that resolves to one public and one internal address is refused, since
    which one a client picks is not ours to choose. Raises OSError (socket.gaierror) when the
    name does not resolve.
    """
    name = normalise_host(host)
    allowed = {normalise_host(h) for h in known_hosts} | {
        normalise_host(h) for h in policy.allow_hosts
    }
    if name not in allowed:
        raise TargetRefused(f"{name} is not a catalogue host nor in the allow list")
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        reason = refusal(ip, policy)
        if reason is not None:
            bare = host.strip().strip("[]").rstrip(".")
            mapped = getattr(ip, "ipv4_mapped", None) or ip
            shown = bare if name == ip.compressed else f"{bare} ({mapped})"
            logger.warning("refused probe target %s:%s: %s", shown, port, reason)
            raise TargetRefused(f"{shown} is {reason}")
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        # A link-local IPv6 address needs its zone to be reachable: keep the resolver's text.
        text = str(sockaddr[0]) if ip.is_link_local and ip.version == 6 else ip.compressed
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise OSError(f"{name} has no address")
    return addresses


def connect_vetted(
    host: str, port: int, policy: NetworkPolicy, known_hosts: frozenset[str], timeout: float
) -> tuple[socket.socket, str]:
    """A TCP connection to a vetted address of `host` (never a second resolution of the
    name), trying each address in turn within `timeout` seconds in all. Raises TargetRefused,
    TimeoutError or the last OSError of the attempts."""
    addresses = vet(host, port, policy, known_hosts)
    deadline = time.monotonic() + timeout
    last_error: OSError = TimeoutError(f"timed out after {timeout:g} s")
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((address, port), timeout=remaining), address
        except OSError as error:
            logger.debug("connect to %s (%s) port %s failed: %s", host, address, port, error)
            last_error = error
    raise last_error


def connection_problem(error: OSError, target: str, timeout: float) -> str:
    """One line for a failed connection, the same wording for every network probe."""
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s connecting to {target}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused: {target}"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve {target}: {error.strerror or error}"
    return f"connection failed: {target}: {error.strerror or error}"
