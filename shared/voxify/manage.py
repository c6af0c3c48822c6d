"""Operator commands, run out of band against the stage's data table (never over the API):

    python -m voxify.manage grant-admin EMAIL     # the account of EMAIL becomes an administrator
    python -m voxify.manage revoke-admin EMAIL    # and back to a plain user

Registering an address never makes an administrator. `grant-admin` refuses an address that
is not verified (the user confirms it with the token mailed at registration:
`POST /api/v1/auth/verify-email`, or by completing a password reset); there is no override.
The role is read from the table on every request, so a change applies to the user's current
tokens and keys at once.

The command reaches the table the way the service does (voxify.settings): AWS credentials and
region from the environment, the data table from `VOXIFY_TABLE_NAME` (for a deployed stage,
`voxify-<stage>-data`), and `AWS_ENDPOINT_URL` for an emulator. Against the local stack of
`make up`:

    AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \\
        .venv/bin/python -m voxify.manage grant-admin ada@example.com

Without this module the same grant is a conditional table write by someone allowed to make
it: on the user's item (`pk` = `USER#<user_id>`, `sk` = `PROFILE`; the `EMAIL#<address>` item
holds the user id) `SET #role = :admin` with the condition `email_verified = :true`.

Exit status: 0 done, 1 refused (unknown or unverified address), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from voxify.domain.users import Role
from voxify.errors import VoxifyError
from voxify.logic import auth

ROLES = {"grant-admin": Role.ADMIN, "revoke-admin": Role.USER}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voxify.manage", description="Voxify operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, role in ROLES.items():
        command = commands.add_parser(name, help=f"give the account of EMAIL the {role.value} role")
        command.add_argument("email")
    args = parser.parse_args(argv)
    try:
        user = auth.set_role(args.email, ROLES[args.command])
    except VoxifyError as error:
        print(f"refused: {error.message}", file=sys.stderr)
        return 1
    print(f"{user.email} ({user.user_id}) now has the {user.role.value} role")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
