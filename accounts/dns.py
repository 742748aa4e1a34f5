"""Reading DNS TXT records to verify domain claims. The resolver class is a setting
(DOMAIN_RESOLVER) so tests put a local fake in its place."""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ResolverError(Exception):
    pass


class Resolver(Protocol):
    def txt_records(self, name: str) -> list[str]: ...


class SystemResolver:
    """Asks the machine's configured DNS servers through dnspython."""

    timeout = 5.0

    def txt_records(self, name: str) -> list[str]:
        import dns.exception  # noqa: PLC0415
        import dns.resolver  # noqa: PLC0415

        resolver = dns.resolver.Resolver()
        resolver.lifetime = self.timeout
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise ResolverError(f"The DNS lookup failed: {exc.__class__.__name__}.") from exc
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


class StaticResolver:
    """A resolver holding records in memory: for tests and the demo data."""

    records: dict[str, list[str]] = {}

    def txt_records(self, name: str) -> list[str]:
        return list(self.records.get(name.lower().rstrip("."), []))


def get_resolver() -> Resolver:
    resolver: Resolver = import_string(settings.DOMAIN_RESOLVER)()
    return resolver
