"""The Open Inference Protocol v2 REST API: exact request and response shapes."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from serve import Model, Server, make_http_server, version_from_uri

NAME = "test-model"


@pytest.fixture(scope="module")
def server(fitted):
    s = Server(NAME, "3")
    s.model = Model(NAME, fitted, "3")
    return s


def rows(split, n):
    return split.x_test.head(n).to_numpy().tolist()


def test_metadata_shape(server, split):
    status, meta = server.handle("GET", f"/v2/models/{NAME}", None)
    assert status == 200
    assert set(meta) == {"name", "versions", "platform", "inputs", "outputs"}
    assert meta["name"] == NAME and meta["versions"] == ["3"] and meta["platform"] == "sklearn"
    assert meta["inputs"] == [{"name": "input-0", "datatype": "FP64", "shape": [-1, split.x_test.shape[1]]}]
    assert meta["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]},
    ]
    assert server.handle("GET", f"/v2/models/{NAME}/versions/3", None) == (200, meta)


def test_infer_single_tensor(server, split, fitted):
    features = split.x_test.shape[1]
    request = {
        "id": "req-1",
        "inputs": [{"name": "input-0", "shape": [2, features], "datatype": "FP64",
                    "data": [x for row in rows(split, 2) for x in row]}],
    }
    status, response = server.handle("POST", f"/v2/models/{NAME}/infer", json.dumps(request).encode())
    assert status == 200
    assert list(response) == ["model_name", "model_version", "id", "outputs"]
    assert response["model_name"] == NAME and response["model_version"] == "3" and response["id"] == "req-1"
    predict, proba = response["outputs"]
    assert set(predict) == {"name", "shape", "datatype", "data"}
    assert predict["name"] == "predict" and predict["shape"] == [2] and predict["datatype"] == "INT64"
    assert predict["data"] == fitted.predict(split.x_test.head(2)).tolist()
    assert proba["name"] == "predict_proba" and proba["shape"] == [2, 2] and proba["datatype"] == "FP64"
    assert len(proba["data"]) == 4 and all(isinstance(p, float) for p in proba["data"])
    assert proba["data"][0] + proba["data"][1] == pytest.approx(1.0)


def test_infer_nested_data_one_tensor_per_feature_and_selected_output(server, split, fitted):
    head = split.x_test.head(3)
    inputs = [{"name": c, "shape": [3, 1], "datatype": "FP32", "data": [[v] for v in head[c]]} for c in head.columns]
    request = {"inputs": inputs, "outputs": [{"name": "predict"}]}
    status, response = server.handle("POST", f"/v2/models/{NAME}/versions/3/infer", json.dumps(request).encode())
    assert status == 200, response
    assert [o["name"] for o in response["outputs"]] == ["predict"]
    assert response["outputs"][0]["data"] == fitted.predict(head).tolist()
    assert response["id"]  # generated when the request has none


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"{not json", 400, "not JSON"),
        (b"[]", 400, "JSON object"),
        (b'{"inputs": []}', 400, "non-empty"),
        (b'{"inputs": [{"name": "input-0", "shape": [1, 30], "datatype": "FP64", "data": [1, 2]}]}', 400, "2 elements"),
        (b'{"inputs": [{"name": "input-0", "shape": [1, 2], "datatype": "FLOAT", "data": [1, 2]}]}', 400, "datatype"),
        (b'{"inputs": [{"name": "input-0", "shape": [-1, 2], "datatype": "FP64", "data": [1, 2]}]}', 400, "shape"),
        (b'{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}', 400, "expected shape"),
        (b'{"inputs": [{"name": "mean_radius", "shape": [1], "datatype": "FP64", "data": [1]}]}', 400, "missing inputs"),
        (b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP64", "data": ["a"]}]}', 400, "not FP64"),
    ],
)
def test_infer_errors(server, body, status, message):
    got, response = server.handle("POST", f"/v2/models/{NAME}/infer", body)
    assert got == status
    assert list(response) == ["error"] and message in response["error"]


def test_unknown_output_and_model(server, split):
    request = {"inputs": [{"name": "input-0", "shape": [1, split.x_test.shape[1]], "datatype": "FP64",
                           "data": rows(split, 1)[0]}], "outputs": [{"name": "logits"}]}
    assert server.handle("POST", f"/v2/models/{NAME}/infer", json.dumps(request).encode())[0] == 400
    assert server.handle("POST", "/v2/models/other/infer", b"{}")[0] == 404
    assert server.handle("GET", f"/v2/models/{NAME}/versions/9", None)[0] == 404
    assert server.handle("GET", f"/v2/models/{NAME}/infer", None)[0] == 405


def test_health_uses_status_codes_and_empty_bodies(fitted):
    s = Server(NAME)
    assert s.handle("GET", "/v2/health/live", None) == (200, None)
    assert s.handle("GET", "/v2/health/ready", None) == (400, None)
    assert s.handle("GET", f"/v2/models/{NAME}/ready", None) == (400, None)
    s.model = Model(NAME, fitted)
    assert s.handle("GET", "/v2/health/ready", None) == (200, None)
    assert s.handle("GET", f"/v2/models/{NAME}/ready", None) == (200, None)
    assert s.handle("GET", f"/v2/models/{NAME}", None)[1]["versions"] == []


def test_over_http(server, split):
    httpd = make_http_server(server, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        with urllib.request.urlopen(f"{base}/v2/health/ready") as r:
            assert r.status == 200 and r.read() == b""
        body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, split.x_test.shape[1]],
                                       "datatype": "FP64", "data": rows(split, 1)[0]}]}).encode()
        req = urllib.request.Request(f"{base}/v2/models/{NAME}/infer", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            assert r.headers["Content-Type"] == "application/json"
            assert json.load(r)["outputs"][0]["shape"] == [1]
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/v2/models/nope")
        assert err.value.code == 404 and "error" in json.load(err.value)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_version_from_uri():
    assert version_from_uri("models:/m/7") == "7"
    assert version_from_uri("models:/m@champion") is None
    assert version_from_uri("runs:/abc/model") is None
