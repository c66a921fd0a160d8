"""Images, products, review and delete."""
from __future__ import annotations

from pathlib import Path

from db import repo

from ..errors import EnhancerError, NotFoundError
from ..service import decide, delete_batch, delete_image, delete_product, reenhance, upload
from ..views import image_history, image_summary, product_summary
from .common import (BAD_INPUT, EXIT_BAD_INPUT, EXIT_FAIL, EXIT_OK, actor, add_enhance_opts, backends, bounded,
                     confirm, emit, options, say)


def args_enhance(p) -> None:
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--sku", default=None, help="product SKU: every file becomes one of its images "
                                               "(default: each file's name)")
    p.add_argument("--force", action="store_true", help="enhance again even if the same bytes were done")
    p.add_argument("--output", type=Path, default=None, help="also write each result into this folder")
    add_enhance_opts(p)


def cmd_enhance(args, settings) -> int:
    opts = options(args, settings)
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
    b = backends(settings)
    worst = EXIT_OK
    for path in args.files:
        try:
            res = upload(b, path.read_bytes(), path.name, opts, sku_id=args.sku, actor=actor(), force=args.force)
            if res.fell_back:
                say(f"warning: {path}: the AI provider failed; the local pipeline made the result")
            out = res.to_dict()
            if res.success and args.output is not None:
                target = args.output / res.download_name
                target.write_bytes(b.storage.get(res.enhanced_key))
                out["output_path"] = str(target)
            emit(out)
            if not res.success:
                say(f"error: {path}: {res.error}")
                worst = EXIT_FAIL
        except BAD_INPUT as exc:
            say(f"error: {path}: {exc}" if str(path.name) not in str(exc) else f"error: {exc}")
            worst = worst if worst == EXIT_FAIL else EXIT_BAD_INPUT
        except EnhancerError as exc:
            say(f"error: {path}: {exc}")
            worst = EXIT_FAIL
    return worst


def args_images(p) -> None:
    p.add_argument("--status", default=None)
    p.add_argument("--sku", default=None, help="only this product's images")
    p.add_argument("--limit", type=bounded(1, 1000), default=50)
    p.add_argument("--offset", type=bounded(0, 10**9), default=0)
    p.add_argument("--search", default=None)


def cmd_images(args, settings) -> int:
    b = backends(settings)
    with b.session() as s:
        total, rows = repo.list_images(s, repo.ImageFilter(status=args.status, search=args.search, sku_id=args.sku),
                                       limit=args.limit, offset=args.offset)
        emit({"total": total, "limit": args.limit, "offset": args.offset,
              "images": [image_summary(r) for r in rows]})
    return EXIT_OK


def args_history(p) -> None:
    p.add_argument("image_id")


def cmd_history(args, settings) -> int:
    b = backends(settings)
    with b.session() as s:
        img = repo.get_image(s, args.image_id)
        if img is None:
            raise NotFoundError(f"No image with id {args.image_id}")
        rows = repo.history(s, img.id)
        emit(image_history(img, rows))
    return EXIT_OK


def args_reenhance(p) -> None:
    p.add_argument("image_id")
    add_enhance_opts(p)


def cmd_reenhance(args, settings) -> int:
    res = reenhance(backends(settings), args.image_id, options(args, settings), actor=actor())
    emit(res.to_dict())
    return EXIT_OK


def args_product(p) -> None:
    p.add_argument("sku", help="SKU (or product id)")


def cmd_product(args, settings) -> int:
    b = backends(settings)
    with b.session() as s:
        product = repo.product_by_sku(s, args.sku) or repo.get_product(s, args.sku)
        if product is None:
            raise NotFoundError(f"No product with SKU {args.sku}")
        emit(product_summary(product, repo.product_images(s, product.id)))
    return EXIT_OK


def args_products(p) -> None:
    p.add_argument("--status", default=None, help="pending, processing, pending_review, approved, rejected, failed")
    p.add_argument("--limit", type=bounded(1, 1000), default=50)
    p.add_argument("--offset", type=bounded(0, 10**9), default=0)
    p.add_argument("--search", default=None, help="part of a SKU or name")


def cmd_products(args, settings) -> int:
    b = backends(settings)
    with b.session() as s:
        total, rows = repo.list_products(s, repo.ProductFilter(status=args.status, search=args.search),
                                         limit=args.limit, offset=args.offset)
        emit({"total": total, "limit": args.limit, "offset": args.offset,
              "products": [product_summary(p, repo.product_images(s, p.id)) for p in rows]})
    return EXIT_OK


def args_review(p) -> None:
    p.add_argument("history_id", help="the enhancement's id (database_id)")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--approve", action="store_const", const="approve", dest="decision")
    g.add_argument("--reject", action="store_const", const="reject", dest="decision")
    p.add_argument("--actor", default=None, help="who decides (default cli:<os user>)")


def cmd_review(args, settings) -> int:
    d = decide(backends(settings), args.history_id, args.decision, actor=args.actor or actor())
    emit(d.__dict__)
    return EXIT_OK


def args_delete(p) -> None:
    p.add_argument("kind", choices=("image", "product", "batch"))
    p.add_argument("id", help="image id, product id or SKU, or batch id")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def cmd_delete(args, settings) -> int:
    confirm(f"Delete {args.kind} {args.id} with its files?", args.yes)
    fn = {"image": delete_image, "product": delete_product, "batch": delete_batch}[args.kind]
    emit(fn(backends(settings), args.id, actor=actor()).to_dict())
    return EXIT_OK


__all__ = ["EXIT_BAD_INPUT"]
