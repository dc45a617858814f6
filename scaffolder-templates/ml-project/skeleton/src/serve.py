"""Serve a model over the Open Inference Protocol (KServe v2) REST API.

    python src/serve.py --model-uri models:/NAME/VERSION [--model-name NAME] [--port 8080]

Endpoints (https://github.com/kserve/open-inference-protocol):
    GET  /v2/health/live                      200 while the process runs
    GET  /v2/health/ready                     200 once the model is loaded, 400 before
    GET  /v2                                  server metadata {name, version, extensions}
    GET  /v2/models/{name}[/versions/{v}]     model metadata {name, versions, platform, inputs, outputs}
    GET  /v2/models/{name}[/versions/{v}]/ready
    POST /v2/models/{name}[/versions/{v}]/infer

Health responses carry their answer in the status code and have an empty body, as the protocol
says. An infer request is {"id"?, "inputs": [{"name", "shape", "datatype", "data"}], "outputs"?:
[{"name"}]}. The features go either in one tensor of shape [N, F] (columns in the order the
model metadata's input describes) or in one tensor per feature, named after it, of shape [N]
or [N, 1]. data is row-major, flat or nested. The response is {"model_name", "model_version",
"id", "outputs": [...]} with "predict" (shape [N]) and, for classifiers, "predict_proba"
(shape [N, classes]). Errors are {"error": "..."} with status 400 (bad request) or 404.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import signal
import sys
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger("serve")

SINGLE_INPUT = "input-0"
MAX_BODY = 32 << 20

# v2 datatype → numpy dtype, and back.
DATATYPES = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
    "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
    "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64,
    "BYTES": np.object_,
}


class InferenceError(Exception):
    """A request the server refuses; status is the HTTP status to answer with."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


def datatype_of(array: np.ndarray) -> str:
    for name, dtype in DATATYPES.items():
        if name != "BYTES" and array.dtype == np.dtype(dtype):
            return name
    return "BYTES"


def _flatten(data: Any) -> list:
    if not isinstance(data, list):
        return [data]
    flat: list = []
    for item in data:
        flat.extend(_flatten(item))
    return flat


def decode_tensor(tensor: Any) -> tuple[str, np.ndarray]:
    """Checks one request input tensor and returns its name and array."""
    if not isinstance(tensor, dict):
        raise InferenceError("each input must be an object with name, shape, datatype and data")
    name, shape, datatype, data = (tensor.get(k) for k in ("name", "shape", "datatype", "data"))
    if not isinstance(name, str) or not name:
        raise InferenceError("input name must be a non-empty string")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise InferenceError(f"input {name}: shape must be a list of non-negative integers")
    if datatype not in DATATYPES:
        raise InferenceError(f"input {name}: datatype {datatype!r} is not one of {', '.join(DATATYPES)}")
    if data is None:
        raise InferenceError(f"input {name}: data is required")
    flat = _flatten(data)
    if len(flat) != math.prod(shape):
        raise InferenceError(f"input {name}: {len(flat)} elements do not fill shape {shape}")
    try:
        array = np.asarray(flat, dtype=DATATYPES[datatype]).reshape(shape)
    except (TypeError, ValueError) as err:
        raise InferenceError(f"input {name}: data is not {datatype}: {err}") from None
    return name, array


def encode_tensor(name: str, array: np.ndarray) -> dict[str, Any]:
    return {
        "name": name,
        "shape": list(array.shape),
        "datatype": datatype_of(array),
        "data": array.ravel().tolist(),
    }


class Model:
    """A loaded scikit-learn model answering v2 metadata and infer requests."""

    def __init__(self, name: str, estimator: Any, version: str | None = None,
                 features: list[str] | None = None):
        self.name = name
        self.version = version
        self.estimator = estimator
        names = features or list(getattr(estimator, "feature_names_in_", []))
        if not names:
            raise ValueError("the model does not record its feature names; pass them explicitly")
        self.features = names
        self.classes = list(getattr(estimator, "classes_", []))

    def metadata(self) -> dict[str, Any]:
        outputs = [{"name": "predict", "datatype": self._label_datatype(), "shape": [-1]}]
        if hasattr(self.estimator, "predict_proba"):
            outputs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(self.classes)]})
        meta: dict[str, Any] = {
            "name": self.name,
            "versions": [self.version] if self.version else [],
            "platform": "sklearn",
            "inputs": [{"name": SINGLE_INPUT, "datatype": "FP64", "shape": [-1, len(self.features)]}],
            "outputs": outputs,
        }
        return meta

    def _label_datatype(self) -> str:
        return datatype_of(np.asarray(self.classes)) if self.classes else "FP64"

    def _frame(self, inputs: list) -> pd.DataFrame:
        if not isinstance(inputs, list) or not inputs:
            raise InferenceError("inputs must be a non-empty list")
        tensors = dict(decode_tensor(t) for t in inputs)
        if len(tensors) != len(inputs):
            raise InferenceError("input names must be unique")
        if len(tensors) == 1:
            (name, array), = tensors.items()
            if array.ndim == 2 and array.shape[1] == len(self.features):
                return pd.DataFrame(array, columns=self.features)
            if name not in self.features:
                raise InferenceError(
                    f"input {name}: expected shape [N, {len(self.features)}] or one input per feature"
                )
        missing = [f for f in self.features if f not in tensors]
        if missing:
            raise InferenceError(f"missing inputs for features: {', '.join(missing[:5])}"
                                 + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
        columns = {}
        for feature in self.features:
            array = tensors[feature]
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise InferenceError(f"input {feature}: shape must be [N] or [N, 1]")
            columns[feature] = array
        if len({len(c) for c in columns.values()}) != 1:
            raise InferenceError("all feature inputs must have the same number of rows")
        return pd.DataFrame(columns)

    def infer(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise InferenceError("the request body must be a JSON object")
        frame = self._frame(request.get("inputs"))
        available = {"predict": lambda: np.asarray(self.estimator.predict(frame))}
        if hasattr(self.estimator, "predict_proba"):
            available["predict_proba"] = lambda: np.asarray(self.estimator.predict_proba(frame), dtype=np.float64)
        wanted = request.get("outputs")
        if wanted is None:
            names = list(available)
        else:
            if not isinstance(wanted, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str) for o in wanted):
                raise InferenceError("outputs must be a list of objects with a name")
            names = [o["name"] for o in wanted]
            unknown = [n for n in names if n not in available]
            if unknown:
                raise InferenceError(f"unknown outputs {unknown}; this model has {list(available)}")
        try:
            outputs = [encode_tensor(n, available[n]()) for n in names]
        except ValueError as err:
            raise InferenceError(f"the model rejected the inputs: {err}") from None
        response: dict[str, Any] = {"model_name": self.name}
        if self.version:
            response["model_version"] = self.version
        response["id"] = str(request.get("id") or uuid.uuid4())
        response["outputs"] = outputs
        return response


class Server:
    """Routes v2 requests to the model; the model may be attached after the server starts."""

    def __init__(self, name: str, version: str | None = None):
        self.name = name
        self.version = version
        self.model: Model | None = None

    _MODEL_PATH = re.compile(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?$")

    def handle(self, method: str, path: str, body: bytes | None) -> tuple[HTTPStatus, Any]:
        """Returns the status and the JSON body (None for an empty body) of a request."""
        path = path.split("?", 1)[0].rstrip("/") or "/"
        if path in ("/v2/health/live", "/v2/health/ready") and method == "GET":
            ok = path.endswith("live") or self.model is not None
            return (HTTPStatus.OK if ok else HTTPStatus.BAD_REQUEST), None
        if path == "/v2" and method == "GET":
            return HTTPStatus.OK, {"name": "mlportal-sklearn-v2", "version": "1", "extensions": []}
        match = self._MODEL_PATH.match(path)
        if not match:
            return HTTPStatus.NOT_FOUND, {"error": f"no route {method} {path}"}
        name, version, action = match.groups()
        if name != self.name or (version is not None and version != self.version):
            wanted = name + (f" version {version}" if version else "")
            return HTTPStatus.NOT_FOUND, {"error": f"model {wanted} not found; this server serves {self.name}"}
        if action == "/infer":
            if method != "POST":
                return HTTPStatus.METHOD_NOT_ALLOWED, {"error": "infer takes POST"}
        elif method != "GET":
            return HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{path} takes GET"}
        if action == "/ready":
            return (HTTPStatus.OK if self.model else HTTPStatus.BAD_REQUEST), None
        if self.model is None:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": f"model {self.name} is still loading"}
        if action is None:
            return HTTPStatus.OK, self.model.metadata()
        try:
            request = json.loads(body or b"")
        except ValueError as err:
            return HTTPStatus.BAD_REQUEST, {"error": f"the request body is not JSON: {err}"}
        try:
            return HTTPStatus.OK, self.model.infer(request)
        except InferenceError as err:
            return err.status, {"error": str(err)}


def make_http_server(server: Server, host: str = "127.0.0.1", port: int = 8080) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 60

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                status, payload = HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request body too large"}
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else None
                status, payload = server.handle(method, self.path, body)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def log_message(self, fmt: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), fmt % args)

    return ThreadingHTTPServer((host, port), Handler)


def version_from_uri(uri: str) -> str | None:
    """The version of a models:/NAME/VERSION URI, else None."""
    match = re.match(r"^models:/[^/@]+/(\d+)$", uri)
    return match.group(1) if match else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", required=True, help="MLflow model URI or local model directory")
    parser.add_argument("--model-name", help="name in the v2 paths (default: from the config's model_name)")
    parser.add_argument("--model-version", help="version reported (default: from a models:/NAME/VERSION URI)")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    name = args.model_name
    if not name:
        from train import load_config

        name = load_config()["model_name"]
    server = Server(name, args.model_version or version_from_uri(args.model_uri))
    httpd = make_http_server(server, args.host, args.port)

    def load() -> None:
        import mlflow.sklearn

        try:
            estimator = mlflow.sklearn.load_model(args.model_uri)
            server.model = Model(server.name, estimator, server.version)
            log.info("model %s loaded from %s", server.name, args.model_uri)
        except Exception:  # noqa: BLE001 (stay live, never ready, and say why)
            log.exception("loading %s failed", args.model_uri)

    threading.Thread(target=load, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    log.info("serving %s on http://%s:%d/v2", name, args.host, args.port)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
