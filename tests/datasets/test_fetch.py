"""fetch_* downloads, tested against a local HTTP server on 127.0.0.1 (never the internet)."""

import hashlib
import http.server
import re
import threading

import numpy as np
import pytest

import skntl.datasets._fetch as fetch_module
from skntl.datasets import (
    fetch_mnist,
    fetch_mnist_usps_jda,
    fetch_office31_features,
    fetch_office_caltech,
    fetch_usps,
    load_office_caltech,
)
from skntl.datasets._fetch import _REMOTES, RemoteFile, _fetch_remote

PAYLOAD = bytes(range(256)) * 40  # a small "dataset"
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Server:
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1 and counts the requests."""

    def __init__(self):
        self.files, self.requests = {}, []
        self.truncate = set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path in server.truncate:  # the connection drops mid-transfer
                    body = body[: len(body) // 2]
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server():
    s = _Server()
    yield s
    if s.thread.is_alive():
        s.stop()


def _files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_good_download_then_cached_without_network(server, tmp_path):
    server.files["/data/file.bin"] = PAYLOAD
    remote = RemoteFile("sub/dir/file.bin", (server.url("/data/file.bin"),), PAYLOAD_SHA)
    path = _fetch_remote(remote, tmp_path)
    assert path == tmp_path / "sub" / "dir" / "file.bin"
    assert path.read_bytes() == PAYLOAD
    assert _files_under(tmp_path) == ["sub/dir/file.bin"]  # no temporary file left
    assert server.requests == ["/data/file.bin"]

    server.stop()  # any network access now fails
    assert _fetch_remote(remote, tmp_path) == path
    assert server.requests == ["/data/file.bin"]


@pytest.mark.parametrize("kind", ["corrupted", "truncated"])
def test_bad_download_is_rejected_and_nothing_is_left(server, tmp_path, kind):
    if kind == "corrupted":
        server.files["/f.bin"] = PAYLOAD[:-1] + b"X"
    else:
        server.files["/f.bin"] = PAYLOAD
        server.truncate.add("/f.bin")
    remote = RemoteFile("f.bin", (server.url("/f.bin"),), PAYLOAD_SHA)
    with pytest.raises(OSError, match="Could not download f.bin") as info:
        _fetch_remote(remote, tmp_path)
    message = str(info.value)
    if kind == "corrupted":
        assert "Checksum mismatch" in message and PAYLOAD_SHA in message
        assert hashlib.sha256(server.files["/f.bin"]).hexdigest() in message
    assert server.url("/f.bin") in message
    assert _files_under(tmp_path) == []  # neither the file nor a partial download


def test_mirrors_are_tried_in_order(server, tmp_path):
    server.files["/good"] = PAYLOAD
    server.files["/bad"] = b"corrupted"
    remote = RemoteFile("x.bin", (server.url("/missing"), server.url("/bad"),
                                  server.url("/good")), PAYLOAD_SHA)  # fmt: skip
    assert _fetch_remote(remote, tmp_path).read_bytes() == PAYLOAD
    assert server.requests == ["/missing", "/bad", "/good"]

    remote = RemoteFile("y.bin", (server.url("/missing"), server.url("/bad")), PAYLOAD_SHA)
    with pytest.raises(OSError) as info:
        _fetch_remote(remote, tmp_path)
    assert "404" in str(info.value) and "Checksum mismatch" in str(info.value)
    assert _files_under(tmp_path) == ["x.bin"]


def test_corrupted_cached_file_is_reported_not_used(server, tmp_path):
    (tmp_path / "c.bin").write_bytes(PAYLOAD[:100])
    remote = RemoteFile("c.bin", (server.url("/c.bin"),), PAYLOAD_SHA)
    with pytest.raises(OSError, match="present but its sha256 .* Delete it"):
        _fetch_remote(remote, tmp_path)
    assert server.requests == []


def test_only_http_urls(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_bytes(PAYLOAD)
    remote = RemoteFile("copy.bin", (secret.as_uri(),), PAYLOAD_SHA)
    with pytest.raises(OSError, match=r"Only http\(s\) URLs"):
        _fetch_remote(remote, tmp_path / "home")


# --- the public fetch_* functions, served locally -------------------------------------------


def _serve_registry_entry(monkeypatch, server, key, shared_data_home):
    """Point ``_REMOTES[key]`` at the local server, serving the shared copies of its files."""
    remotes = []
    for remote in _REMOTES[key]:
        url_path = "/" + remote.path
        server.files[url_path] = (shared_data_home / remote.path).read_bytes()
        remotes.append(remote._replace(urls=(server.url(url_path),)))
    monkeypatch.setitem(fetch_module._REMOTES, key, tuple(remotes))


def test_fetch_usps_downloads_into_data_home(server, tmp_path, monkeypatch, shared_data_home):
    _serve_registry_entry(monkeypatch, server, ("usps", "all"), shared_data_home)
    monkeypatch.setenv("SKNTL_DATA", str(tmp_path))
    X, y = fetch_usps("test", return_X_y=True)
    assert X.shape == (2007, 1, 32, 32) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]
    assert _files_under(tmp_path) == ["digits/usps/usps.h5"]
    server.stop()
    bunch = fetch_usps()  # cached: no network
    assert bunch.data.shape == (9298, 1, 32, 32)
    assert server.requests == ["/digits/usps/usps.h5"]


def test_fetch_jda_pair_and_office31(server, tmp_path, monkeypatch, shared_data_home):
    _serve_registry_entry(monkeypatch, server, ("mnist_usps_jda", "all"), shared_data_home)
    _serve_registry_entry(monkeypatch, server, ("office31_resnet50", "dslr"), shared_data_home)
    pair = fetch_mnist_usps_jda(data_home=tmp_path, image_size=None, flatten=True)
    assert pair.X_source.shape == (2000, 256) and pair.X_target.shape == (1800, 256)
    dslr = fetch_office31_features("D", data_home=tmp_path)
    assert dslr.data.shape == (498, 2048)
    assert len(server.requests) == 2
    with pytest.raises(ValueError, match="only the DSLR file can be downloaded"):
        fetch_office31_features("amazon", data_home=tmp_path)


def test_fetch_mnist_and_office_caltech(server, tmp_path, monkeypatch, shared_data_home):
    _serve_registry_entry(monkeypatch, server, ("mnist", "test"), shared_data_home)
    _serve_registry_entry(
        monkeypatch, server, ("office_caltech_decaf6", "webcam"), shared_data_home
    )
    _serve_registry_entry(monkeypatch, server, ("office_caltech_surf", "webcam"), shared_data_home)
    X, y = fetch_mnist("test", data_home=tmp_path, image_size=None, return_X_y=True)
    assert X.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    decaf = fetch_office_caltech("W", features="decaf6", data_home=tmp_path)
    assert decaf.data.shape == (295, 4096) and decaf.domain == "webcam"
    surf = fetch_office_caltech("webcam", data_home=tmp_path, preprocess=None)
    raw = load_office_caltech("webcam", preprocess=None, data_home=shared_data_home)
    assert np.array_equal(surf.data, raw.data)  # read from the data home, not the bundled copy
    assert _files_under(tmp_path) == [
        "digits/mnist/t10k-images-idx3-ubyte.gz",
        "digits/mnist/t10k-labels-idx1-ubyte.gz",
        "office_caltech10/decaf6/webcam_decaf.mat",
        "office_caltech10/surf/webcam_SURF_L10.mat",
    ]
    with pytest.raises(ValueError, match="not available for domain"):
        fetch_office_caltech("amazon", features="decaf6", data_home=tmp_path)
    assert len(server.requests) == 4


def test_download_if_missing_false_never_downloads(server, tmp_path, monkeypatch):
    monkeypatch.setitem(
        fetch_module._REMOTES, ("usps", "all"),
        (RemoteFile("digits/usps/usps.h5", (server.url("/usps.h5"),), PAYLOAD_SHA),),
    )  # fmt: skip
    with pytest.raises(FileNotFoundError, match="fetch_usps"):
        fetch_usps(data_home=tmp_path, download_if_missing=False)
    assert server.requests == []
    with pytest.raises(ValueError, match="'download_if_missing' parameter of fetch_usps"):
        fetch_usps(data_home=tmp_path, download_if_missing="no")


# --- the registry itself -------------------------------------------------------------------


def test_registry_checksums_match_the_shared_files(shared_data_home):
    sums = {}
    for line in (shared_data_home / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name.removeprefix("./")] = digest
    checked = 0
    for remotes in _REMOTES.values():
        for remote in remotes:
            assert re.fullmatch(r"[0-9a-f]{64}", remote.sha256)
            assert remote.urls and all(u.startswith(("https://", "http://")) for u in remote.urls)
            if remote.path in sums:
                assert remote.sha256 == sums[remote.path], remote.path
                actual = hashlib.sha256((shared_data_home / remote.path).read_bytes()).hexdigest()
                assert actual == remote.sha256
                checked += 1
    assert checked == 12  # every downloadable file that shared/data also holds
