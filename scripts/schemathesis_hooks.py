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

`map_case` makes every valid `Idempotency-Key` unique to its case. A key names one request:
the same key again means "the same request, give me its answer" (or `409` for another body).
Schemathesis draws keys per case from few values (coverage uses the same ones everywhere), so
unrelated requests share keys and get an earlier request's answer, e.g. a multipart replay of
a stored job for a form whose files are missing (multipart replays match the `json` part and
read no files). A counter appended to the key keeps it valid (1 to 255 of `!`..`~`); keys the
document forbids are left as generated, so negative cases stay negative.

`filter_failure` drops two kinds of reports that are about the generator's model of HTTP, not
about mtgate, each only when the exchange itself shows the rule holds:

- "Schema-violating request accepted" for a multipart body whose only violation is the JSON
  type of the `file` property (say `false` for the array of files). On the wire every part is
  bytes: `false` is sent as one 5-byte file, a valid form. Dropped only when the body is the
  one negative component, its every violation is a type change under `/properties/file` (a
  coverage "incorrect type" there, or fuzzing `change_type` mutations), and the parts as sent
  are 1 to 10 non-empty files.
- "Schema-valid request rejected" for a multipart body whose `json` part is not valid by the
  document after all. Schemathesis substitutes constants into generated bodies and checks the
  result against the body schema, but a body holding binary file parts cannot be checked, so
  the substitution stands even when it breaks a rule spanning fields (say `text` next to
  `media.caption`: the caption is one or the other). Dropped only when the `json` part, as
  sent, fails its schema in the document.
- "Deleted resource still available" after `DELETE .../jobs/{id}`: that DELETE cancels the
  job, which stays readable in state `cancelled` (job states are part of the API). Dropped only
  when the later read answers the job with `"state": "cancelled"`.
"""

import itertools
import json
import re
from base64 import b64decode

import jsonschema_rs
import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.openapi.checks import RejectedPositiveData, UseAfterFree
from schemathesis.transport.serialization import Binary

# The smallest valid PNG: one 1x1 greyscale pixel.
PNG = b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
MULTIPART_PATHS = ("/messages", "/outbox", "/outbox/batch")
MAX_FILES = 10
KEY_HEADER = "idempotency-key"
VALID_KEY = re.compile(r"^[!-~]{1,255}$")
MAX_KEY = 255
_key_counter = itertools.count(1)
JOB_DELETE = re.compile(r"^DELETE /v1/(accounts/[^/]+/)?jobs/[^/]+$")


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


@schemathesis.hook
def map_case(context, case):
    headers = case.headers
    if not headers:
        return case
    name = next((n for n in headers if n.lower() == KEY_HEADER), None)
    key = headers.get(name) if name is not None else None
    if not isinstance(key, str) or not VALID_KEY.match(key):
        return case
    suffix = f"~{next(_key_counter)}"
    case.headers = {**headers, name: key[: MAX_KEY - len(suffix)] + suffix}
    return case


def _wire_bytes(value):
    """A form part's bytes as schemathesis sends them (non-text values in their JSON spelling)."""
    if isinstance(value, Binary):
        return value.data
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value).encode()


def _files_valid_on_wire(case):
    body = case.body
    if not isinstance(body, dict) or "file" not in body:
        return False
    files = body["file"]
    parts = files if isinstance(files, list) else [files]
    return 1 <= len(parts) <= MAX_FILES and all(_wire_bytes(part) for part in parts)


def _under_file(pointer):
    return pointer == "/properties/file" or (pointer or "").startswith("/properties/file/")


def _only_file_type_changed(case):
    """Whether the case's one violation is the JSON type of the `file` property (or its items)."""
    meta = case.meta
    if meta is None or not (case.media_type or "").startswith("multipart/form-data"):
        return False
    negative = {location for location, info in meta.components.items() if info.mode.is_negative}
    if negative != {ParameterLocation.BODY}:
        return False
    data = meta.phase.data
    if isinstance(data, CoveragePhaseData) and not data.mutations:
        # Coverage names its violation by the schema keyword it breaks: `.../file/type`.
        return data.scenario == CoverageScenario.INCORRECT_TYPE and _under_file(data.location)
    mutations = getattr(data, "mutations", ())
    return bool(mutations) and all(
        m.operator == OperatorKind.CHANGE_TYPE
        and m.parameter_location == ParameterLocation.BODY
        and _under_file(m.schema_pointer)
        for m in mutations
    )


def _cancelled_job(response):
    try:
        return response.status_code == 200 and response.json()["job"]["state"] == "cancelled"
    except (ValueError, KeyError, TypeError):
        return False


def _json_part_invalid(case):
    """Whether a multipart body's `json` part fails its schema in the document (False when
    that cannot be told)."""
    body = case.body
    if not (case.media_type or "").startswith("multipart/form-data") or not isinstance(body, dict):
        return False
    try:
        document = case.operation.schema.raw_schema
        form = case.operation.definition.raw["requestBody"]["content"]["multipart/form-data"]["schema"]
        if "$ref" in form:
            form = document["components"]["schemas"][form["$ref"].rsplit("/", 1)[-1]]
        part = {**form["properties"]["json"], "components": document["components"]}
        validator = jsonschema_rs.Draft202012Validator(part)
        return not validator.is_valid(body["json"])
    except Exception:
        return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if isinstance(failure, RejectedPositiveData):
        return not _json_part_invalid(case)
    if isinstance(failure, AcceptedNegativeData):
        return not (_only_file_type_changed(case) and _files_valid_on_wire(case))
    if isinstance(failure, UseAfterFree):
        return not (JOB_DELETE.match(failure.free) and _cancelled_job(response))
    return True
