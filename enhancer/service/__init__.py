"""The service: upload, re-enhance, review and delete, as plain functions over :class:`Backends`.

One module per concern: :mod:`.upload` (read an upload top to bottom),
:mod:`.produce` (make the results), :mod:`.record` (store and record, with
compensation), :mod:`.review` (who decides which file ships), :mod:`.delete`,
:mod:`.products` (catalog fields), :mod:`.api_keys` (the REST API's keys).
"""
from ..errors import EnhancerError
from ..options import MAX_TARGET_KB, MAX_VARIANTS, MIN_TARGET_KB, EnhanceOptions
from .backends import Backends, Limits
from .api_keys import KeyInfo, authenticate, create_key, list_keys, revoke_key
from .delete import Deleted, delete_batch, delete_image, delete_product
from .produce import VARIANT_MODES
from .products import ProductFields, save_product
from .results import UploadResult
from .review import Decision, decide
from .upload import reenhance, sku_from_filename, upload

__all__ = ["Backends", "Limits", "EnhanceOptions", "UploadResult", "upload", "reenhance", "decide",
           "Decision", "delete_image", "delete_product", "delete_batch", "Deleted", "sku_from_filename",
           "VARIANT_MODES", "MIN_TARGET_KB", "MAX_TARGET_KB", "MAX_VARIANTS", "EnhancerError",
           "ProductFields", "save_product", "KeyInfo", "create_key", "list_keys", "revoke_key", "authenticate"]
