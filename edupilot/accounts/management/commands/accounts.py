"""``edupilot accounts provision|reset|unlock``: accounts from the command line."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from edupilot.accounts import credentials, services
from edupilot.accounts.models import User
from edupilot.audit.services import Actor
from edupilot.orgs.models import Org


def _write_private(path: Path, data: bytes) -> None:
    # The file holds live passwords: readable by its owner only, from the first byte on.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class Command(BaseCommand):
    help = "Accounts: provision schools' applicant accounts, reset a password, lift a lockout."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pr = sub.add_parser("provision", help="open accounts for the schools of a subtree")
        pr.add_argument("--org", required=True, metavar="CODE")
        pr.add_argument("--xlsx", required=True, metavar="FILE", help="credential list to write")
        pr.add_argument(
            "--kinds", nargs="*", default=["school", "university", "unit"], metavar="KIND"
        )
        pr.add_argument("--reissue-unused", action="store_true")
        rs = sub.add_parser("reset", help="give a user a new one-time password")
        rs.add_argument("username")
        rs.add_argument("--xlsx", metavar="FILE")
        ul = sub.add_parser("unlock", help="lift a login lockout")
        ul.add_argument("username")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    def _login_url(self) -> str:
        return settings.BASE_URL.rstrip("/") + reverse("accounts:login")

    def do_provision(self, org, xlsx, kinds, reissue_unused, **_):
        root = Org.objects.filter(code=org).first()
        if root is None:
            raise CommandError(f"找不到机构代码 {org}")
        target = Path(xlsx)
        if target.exists():
            raise CommandError(f"文件 {xlsx} 已存在：为免覆盖旧的密码单，请换一个文件名")
        creds = services.accounts_provision(
            root=root, actor=Actor.system(), kinds=kinds, reissue_unused=reissue_unused
        )
        if not creds:
            self.stdout.write(f"{root.name}：没有需要开通账号的单位")
            return
        data = credentials.credentials_xlsx(
            creds,
            login_url=self._login_url(),
            title=f"EduPilot 初始密码单：{root.name}（{len(creds)} 个账号）",
        )
        _write_private(target, data)
        self.stdout.write(
            f"{root.name}：已开通 {len(creds)} 个账号，初始密码单已写入 {target}（仅所有者可读）。"
            "分发后请删除该文件。"
        )

    def do_reset(self, username, xlsx, **_):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"找不到用户 {username}")
        cred = services.user_reset_password(user=user, actor=Actor.system())
        if xlsx:
            _write_private(
                Path(xlsx),
                credentials.credentials_xlsx(
                    [cred], login_url=self._login_url(), title="EduPilot 初始密码单：重置密码"
                ),
            )
            self.stdout.write(f"{username} 的新初始密码已写入 {xlsx}")
        else:
            self.stdout.write(f"{username} 的新初始密码：{cred.password}（首次登录须修改）")

    def do_unlock(self, username, **_):
        from axes.utils import reset

        n = reset(username=username)
        self.stdout.write(f"{username}：已解除 {n} 条登录锁定记录")
