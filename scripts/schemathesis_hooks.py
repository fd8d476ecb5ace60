"""Schemathesis hooks for mtgate: the one rule the OpenAPI document cannot state.

A `file` part sent as a photo (`media.kind` is `photo` and `media.force_document` is not
`true`) must be an image Telegram can decode; other bytes are refused by Telegram
(`IMAGE_PROCESS_FAILED`) and mtgate answers `400`. OpenAPI has no way to make a part's bytes
depend on a field of another part, so schemathesis sends arbitrary bytes as photos and reports
the `400` as "schema-valid request rejected".

`map_body` below swaps such a file's bytes for a 1x1 PNG, and touches nothing else. The swap
is neutral to the schema (a non-empty binary string stays a non-empty binary string), so a
body keeps whatever validity it was generated with: positive bodies stay positive, negative
ones stay negative, and every check still runs on every case. Files that already start with
an image signature (schemathesis samples PNG, JPEG and GIF files itself) are left as they are.

`map_body` applies where bodies are drawn from strategies: the fuzzing and stateful phases.
The coverage phase builds its binary values from schemathesis' own sample files, whose first
pick is a PNG; its cases are not mapped (a `map_case` edit would make schemathesis re-judge
the binary body, which it cannot validate, and relabel positive cases negative).
"""

from base64 import b64decode

import schemathesis
from schemathesis.transport.serialization import Binary

# The smallest valid PNG: one 1x1 greyscale pixel.
PNG = b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
MULTIPART_PATHS = ("/messages", "/outbox", "/outbox/batch")


def _sent_as_photo(json_part):
    if not isinstance(json_part, dict):
        return False
    media = json_part.get("media")
    return (
        isinstance(media, dict)
        and media.get("kind") == "photo"
        and media.get("force_document") is not True
    )


def _as_image(item):
    data = item.data if isinstance(item, Binary) else item
    if not isinstance(data, bytes) or not data or data.startswith(IMAGE_SIGNATURES):
        # Empty or non-binary parts are what a negative case is about: keep them.
        return item
    return Binary(PNG)


@schemathesis.hook
def map_body(context, body):
    operation = context.operation
    if (
        operation is None
        or operation.method.upper() != "POST"
        or not operation.path.endswith(MULTIPART_PATHS)
        or not isinstance(body, dict)
        or not _sent_as_photo(body.get("json"))
    ):
        return body
    files = body.get("file")
    if isinstance(files, list):
        return {**body, "file": [_as_image(item) for item in files]}
    if isinstance(files, (Binary, bytes)):
        return {**body, "file": _as_image(files)}
    return body
