"""One-time passwords: readable, random, and hashed with Argon2id.

A one-time password is typed once, from paper, by someone at a school office: it uses no
characters that read alike (0/o, 1/l/i) and comes in groups of four. Its 12 symbols from a
31-letter alphabet carry about 59 bits of entropy.

It is hashed with Argon2id at lighter parameters than the stored passwords people choose
(8 MiB, 2 passes, 1 lane instead of Django's 100 MiB, 2 passes, 8 lanes). Stretching exists to
protect guessable passwords; a 59-bit random secret is not guessable either way, and full
parameters would make provisioning a city's 2,000 schools take minutes instead of seconds.
The hash is an ordinary ``argon2$argon2id$...`` string, so Django's Argon2PasswordHasher
verifies it (argon2 reads the parameters from the hash), and because the parameters differ
from the configured ones Django re-hashes the password at full strength on first login; the
forced password change then replaces it anyway. See docs/decisions/0101-one-time-passwords.md.
"""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher, make_password
from django.utils.translation import gettext as _

ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
GROUPS = 3
GROUP_LEN = 4


def one_time_password() -> str:
    groups = ["".join(secrets.choice(ALPHABET) for _ in range(GROUP_LEN)) for _ in range(GROUPS)]
    return "-".join(groups)


class OneTimeArgon2Hasher(Argon2PasswordHasher):
    """Argon2id at one-time-password strength (see the module docstring)."""

    time_cost = 2
    memory_cost = 8 * 1024  # KiB
    parallelism = 1


_HASHER = OneTimeArgon2Hasher()


def hash_one_time(password: str) -> str:
    return make_password(password, hasher=_HASHER)


def hash_many(passwords: list[str]) -> list[str]:
    """Hash a batch on two threads: argon2-cffi releases the GIL while it works."""
    if len(passwords) < 16:
        return [hash_one_time(p) for p in passwords]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(hash_one_time, passwords, chunksize=32))


# --- password history -------------------------------------------------------------------------

RECENT_PASSWORDS = 5


class RecentPasswordsValidator:
    """Refuse the account's last ``last_passwords`` passwords (django-password-validators keeps
    them, hashed with PBKDF2 under a per-user salt; see docs/decisions/0104-password-history.md).

    A thin wrapper for a Chinese message that says how many; the library's message is generic.
    """

    def __init__(self, last_passwords: int = RECENT_PASSWORDS):
        from django_password_validators.password_history.password_validation import (
            UniquePasswordsValidator,
        )

        self.last_passwords = int(last_passwords)
        self._inner = UniquePasswordsValidator(last_passwords=self.last_passwords)

    def validate(self, password, user=None):
        from django.core.exceptions import ValidationError

        try:
            self._inner.validate(password, user)
        except ValidationError as exc:
            raise ValidationError(
                _("新密码不能与最近使用过的 %(n)d 个密码相同。") % {"n": self.last_passwords},
                code="password_used",
            ) from exc

    def password_changed(self, password, user=None):
        self._inner.password_changed(password, user)

    def get_help_text(self):
        return _("不能与最近使用过的 %(n)d 个密码相同。") % {"n": self.last_passwords}


class FastHistoryHasher(PBKDF2PasswordHasher):
    """For the test suite only (DPV_DEFAULT_HISTORY_HASHER): history without the stretching."""

    iterations = 1
