"""Django's SMTP backend, plus internationalised addresses (SMTPUTF8, RFC 6531/6532).

An address with letters such as "ü" before the @ (jürgen@müller-logistik.de) can only be delivered
by a server that offers SMTPUTF8: the envelope and the address headers then carry the address in
UTF-8 as it is. Django's backend never asks for SMTPUTF8; it turns such a local part into an
encoded word ("=?utf-8?b?...?=@...") that no mailbox has. This backend sends a message with such an
address with `MAIL FROM:<...> SMTPUTF8` and the headers in UTF-8; a server that does not offer
SMTPUTF8 refuses it for good (SMTPNotSupportedError) rather than mangling it. Every other message
goes through Django's backend unchanged (internationalised domains in punycode, as before).
"""

import smtplib
from email import policy
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

from django.core.mail.backends.smtp import EmailBackend as DjangoEmailBackend

UTF8_HEADERS = policy.SMTPUTF8.clone(linesep="\r\n")
ADDRESS_HEADERS = ("From", "To", "Cc", "Reply-To")


def needs_smtputf8(address: str) -> bool:
    """Whether an address can only be sent with SMTPUTF8 (non-ASCII before the @)."""
    return not address.rpartition("@")[0].isascii()


class EmailBackend(DjangoEmailBackend):
    def _send(self, email_message) -> bool:
        addresses = [email_message.from_email, *email_message.recipients()]
        if not any(needs_smtputf8(address) for address in addresses):
            return super()._send(email_message)
        self.connection.ehlo_or_helo_if_needed()
        if not self.connection.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "the mail server does not offer SMTPUTF8, which an address with letters such "
                "as “ü” before the @ needs"
            )
        message = email_message.message()
        for header, values in (
            ("From", [email_message.from_email]),
            ("To", email_message.to),
            ("Cc", email_message.cc),
            ("Reply-To", email_message.reply_to),
        ):
            if values:
                del message[header]
                # As typed, UTF-8 on the wire (Django's own __setitem__ would encode them).
                Message.__setitem__(message, header, ", ".join(values))
        out = BytesIO()
        BytesGenerator(out, mangle_from_=False, policy=UTF8_HEADERS).flatten(message)
        self.connection.sendmail(
            email_message.from_email,
            email_message.recipients(),
            out.getvalue(),
            mail_options=["SMTPUTF8"],
        )
        return True
