"""``api-key create|list|revoke``: the REST API's keys (the secret is printed once, only a hash is kept)."""
from __future__ import annotations

from ..service import create_key, list_keys, revoke_key
from ..service.api_keys import ROLES
from .common import EXIT_OK, actor, backends, emit, say


def args_api_key(p) -> None:
    sub = p.add_subparsers(dest="key_command", required=True)
    c = sub.add_parser("create", help="a new key; prints {id, name, role, key} once")
    c.add_argument("--name", required=True, help="who or what uses it, e.g. pim-sync")
    c.add_argument("--role", required=True, choices=ROLES,
                   help="viewer: reads and downloads; operator: also uploads, batches, reviews; "
                        "admin: also deletes and keys")
    sub.add_parser("list", help="every key (never the secret)")
    r = sub.add_parser("revoke", help="refuse a key from now on")
    r.add_argument("key_id")


def cmd_api_key(args, settings) -> int:
    b = backends(settings)
    if args.key_command == "create":
        out = create_key(b, args.name, args.role, actor=actor())
        say("store this key now: it is shown only once")
        emit(out)
    elif args.key_command == "list":
        emit({"keys": [k.to_dict() for k in list_keys(b)]})
    else:
        emit(revoke_key(b, args.key_id, actor=actor()).to_dict())
    return EXIT_OK
