"""Public email providers' domains: nobody may claim them for a workspace."""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.fr",
        "hotmail.co.uk",
        "live.com",
        "live.fr",
        "msn.com",
        "yahoo.com",
        "yahoo.fr",
        "yahoo.co.uk",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "gmx.fr",
        "web.de",
        "mail.com",
        "zoho.com",
        "yandex.com",
        "yandex.ru",
        "mail.ru",
        "orange.fr",
        "wanadoo.fr",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "libero.it",
        "t-online.de",
        "qq.com",
        "163.com",
        "126.com",
        "tutanota.com",
        "tuta.io",
        "fastmail.com",
        "hey.com",
        "example.com",
    }
)


def is_free_mail(domain: str) -> bool:
    return domain.lower().rstrip(".") in FREE_MAIL_DOMAINS
