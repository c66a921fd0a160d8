"""``python -m enhancer user add|list|remove``: who gets which role when the provider sends none."""
from __future__ import annotations

from .common import EXIT_BAD_INPUT, EXIT_OK, actor, backends, emit, say


def args_user(p) -> None:
    sub = p.add_subparsers(dest="user_command", required=True)
    add = sub.add_parser("add", help="add a user or change their role")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=("viewer", "operator", "admin"))
    sub.add_parser("list", help="list users and their roles")
    rm = sub.add_parser("remove", help="remove a user")
    rm.add_argument("email")


def cmd_user(args, settings) -> int:
    from ..service.users import list_users, remove_user, set_user

    b = backends(settings)
    if args.user_command == "add":
        emit(set_user(b, args.email, args.role, actor=actor()))
    elif args.user_command == "list":
        emit(list_users(b))
    elif not remove_user(b, args.email, actor=actor()):
        say(f"error: no user {args.email}")
        return EXIT_BAD_INPUT
    else:
        emit({"removed": args.email.strip().lower()})
    return EXIT_OK
