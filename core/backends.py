"""An email backend for a developer's terminal."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend

from .email import bodies_of


class ConsoleEmailBackend(EmailBackend):
    """Prints each email's headers and its plain text as written. Django's console
    backend prints the MIME source, quoted-printable, where long links are cut by soft
    line breaks and their "=" turn into "=3D": copied from the terminal, they break."""

    def write_message(self, message: EmailMessage) -> None:
        text, html = bodies_of(message)
        lines = [
            f"Subject: {message.subject}",
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"Cc: {', '.join(message.cc)}")
        if message.bcc:
            lines.append(f"Bcc: {', '.join(message.bcc)}")
        if html and text:
            lines.append("(an HTML part too)")
        lines += ["", (text or html).rstrip("\n"), "-" * 79, ""]
        self.stream.write("\n".join(lines))
