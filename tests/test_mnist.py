"""MNIST: the IDX reader, load_mnist's search order, checks and download, the shipped subset.

No test touches the internet: downloads go to a local HTTP server on 127.0.0.1 (port 0), and
an autouse fixture makes any other URL fail the test.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import re
import runpy
import shutil
import socket
import struct
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from glassnet.datasets import mnist
from glassnet.datasets.mnist import (
    MNIST_FILES,
    ChecksumError,
    DataNotFoundError,
    DownloadError,
    IDXFormatError,
    load_digits_subset,
    load_mnist,
    read_idx,
    write_idx,
)

REAL_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
# Label counts 0-9 from ../shared/data/mnist/README.md
REAL_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
REAL_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def need_real_mnist():
    if not all((REAL_MNIST / (name + ".gz")).is_file() for name in MNIST_FILES):
        pytest.skip(f"the real MNIST files are not in {REAL_MNIST}")


# --------------------------------------------------------------------------- helpers


def idx_bytes(array, code):
    """An IDX file written independently of glassnet: the oracle for the reader."""
    array = np.asarray(array)
    header = struct.pack(">HBB", 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def fake_mnist(rng, n_train=6, n_test=4):
    """Small random arrays in MNIST's four roles, in MNIST_FILES order."""
    rng = np.random.default_rng(rng)
    return (
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_train, dtype=np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, n_test, dtype=np.uint8),
    )


def mnist_file_bytes(arrays, *, gz=True):
    """{file name as stored: bytes} for the four arrays."""
    files = {}
    for name, array in zip(MNIST_FILES, arrays, strict=True):
        data = idx_bytes(array, 0x08)
        if gz:
            files[name + ".gz"] = gzip.compress(data, mtime=0)
        else:
            files[name] = data
    return files


def checksums_of(files):
    """A checksums table accepting exactly these files."""
    table = {}
    for stored, data in files.items():
        table.setdefault(stored.removesuffix(".gz"), set()).add(hashlib.sha256(data).hexdigest())
    return table


def write_files(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for stored, data in files.items():
        (folder / stored).write_bytes(data)
    return folder


def assert_loaded(result, arrays, *, kind="float32", flatten=False):
    X_train, y_train, X_test, y_test = result
    for X, y, images, labels in (
        (X_train, y_train, arrays[0], arrays[1]),
        (X_test, y_test, arrays[2], arrays[3]),
    ):
        n = len(images)
        assert X.shape == ((n, 784) if flatten else (n, 1, 28, 28))
        assert y.dtype == np.int64
        np.testing.assert_array_equal(y, labels)
        if kind == "float32":
            assert X.dtype == np.float32
            np.testing.assert_array_equal(
                X.reshape(images.shape) * np.float32(255), images.astype(np.float32)
            )
        else:
            assert X.dtype == np.uint8
            np.testing.assert_array_equal(X.reshape(images.shape), images)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No user settings, no home cache, and no URL other than 127.0.0.1."""
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "default-cache"))
    real_urlopen = urllib.request.urlopen

    def local_only(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        host = urllib.parse.urlsplit(url).hostname
        if host != "127.0.0.1":
            pytest.fail(f"a test tried to reach the network: {url}")
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


class FileServer:
    """An HTTP server on 127.0.0.1 serving ``files`` ({url path: bytes}), with Range support.

    ``requests`` records (path, Range header) per request. Paths in ``cut`` send the full
    Content-Length but only half the body, then close the connection. ``ignore_range``
    makes the server answer every request with the whole file (status 200).
    """

    def __init__(self):
        self.files = {}
        self.requests = []
        self.cut = set()
        self.ignore_range = False
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                range_header = self.headers.get("Range")
                owner.requests.append((self.path, range_header))
                body = owner.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                start = 0
                if range_header and not owner.ignore_range:
                    start = int(re.fullmatch(r"bytes=(\d+)-", range_header)[1])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.path in owner.cut:
                    payload = payload[: len(payload) // 2]
                    self.close_connection = True
                self.wfile.write(payload)

            def log_message(self, format, *args):  # keep the test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, prefix):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{prefix}/"

    def serve(self, prefix, files):
        for stored, data in files.items():
            self.files[f"/{prefix}/{stored}"] = data

    def paths_requested(self):
        return [path for path, _ in self.requests]


@pytest.fixture
def server():
    srv = FileServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
        srv.thread.join()


def refused_url():
    """A URL on a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing/"


# --------------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_reads_uint8_images_and_labels_from_paths_and_file_objects(tmp_path, gz):
    images, labels, _, _ = fake_mnist(0)
    for name, array in (("images", images), ("labels", labels)):
        data = idx_bytes(array, 0x08)
        if gz:
            data = gzip.compress(data)
        path = tmp_path / (name + (".gz" if gz else ""))
        path.write_bytes(data)

        from_path = read_idx(path)
        assert from_path.dtype == np.uint8 and from_path.flags.writeable
        np.testing.assert_array_equal(from_path, array)
        np.testing.assert_array_equal(read_idx(str(path)), array)
        with open(path, "rb") as f:
            np.testing.assert_array_equal(read_idx(f), array)
        np.testing.assert_array_equal(read_idx(io.BytesIO(data)), array)


@pytest.mark.parametrize(
    "code, values",
    [
        (0x08, np.array([0, 1, 200, 255], dtype=np.uint8)),
        (0x09, np.array([[-128, -1], [0, 127]], dtype=np.int8)),
        (0x0B, np.array([-32768, -2, 258, 32767], dtype=np.int16)),
        (0x0C, np.array([[[-(2**31), 1], [65536, 2**31 - 1]]], dtype=np.int32)),
        (0x0D, np.array([-1.5, 0.0, 3.25e-5, 1e30], dtype=np.float32)),
        (0x0E, np.array([[np.pi, -np.e], [1e-300, 1e300]], dtype=np.float64)),
    ],
)
def test_read_idx_reads_every_dtype_big_endian_into_native_order(tmp_path, code, values):
    path = tmp_path / "values.idx"
    path.write_bytes(idx_bytes(values, code))
    got = read_idx(path)
    assert got.dtype == values.dtype and got.dtype.isnative
    assert got.shape == values.shape
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_write_idx_writes_what_an_independent_writer_writes(tmp_path, dtype):
    values = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    code = {
        np.uint8: 0x08,
        np.int8: 0x09,
        np.int16: 0x0B,
        np.int32: 0x0C,
        np.float32: 0x0D,
        np.float64: 0x0E,
    }[dtype]
    write_idx(tmp_path / "a.idx", values)
    assert (tmp_path / "a.idx").read_bytes() == idx_bytes(values, code)
    write_idx(tmp_path / "a.idx.gz", values)
    write_idx(tmp_path / "b.idx.gz", values)
    assert gzip.decompress((tmp_path / "a.idx.gz").read_bytes()) == idx_bytes(values, code)
    # no file name and time 0 in the gzip header: the same array gives the same bytes
    assert (tmp_path / "a.idx.gz").read_bytes() == (tmp_path / "b.idx.gz").read_bytes()


def test_write_idx_rejects_a_dtype_idx_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="array dtype must be one of .* got int64"):
        write_idx(tmp_path / "a.idx", np.arange(3, dtype=np.int64))


def test_read_idx_wrong_magic_number_names_the_file_expected_and_found(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8), 0x08))  # a labels file: 2049
    with pytest.raises(
        IDXFormatError,
        match=r"train-images-idx3-ubyte: wrong magic number, "
        r"expected 2051 \(images\), found 2049",
    ):
        read_idx(path, magic=2051)


def test_read_idx_rejects_a_file_that_is_not_idx(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, world")
    with pytest.raises(
        IDXFormatError,
        match=r"notes.txt: not an IDX file, magic number "
        r"1751477356 = 0x68656c6c",
    ):
        read_idx(path)


def test_read_idx_rejects_an_unknown_type_code(tmp_path):
    path = tmp_path / "odd.idx"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\0")
    with pytest.raises(IDXFormatError, match=r"odd.idx: unknown IDX type code 0x07"):
        read_idx(path)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_truncated_data_names_the_file_expected_and_found_sizes(tmp_path, gz):
    full = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8), 0x08)
    data = full[: 16 + 2 * 784]  # the header says 3 images; only 2 are there
    path = tmp_path / ("short.idx" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(
        IDXFormatError,
        match=r"short.idx(.gz)?: truncated data, expected 2352 "
        r"bytes \(3 x 28 x 28 uint8\) after the 16-byte "
        r"header, found 1568",
    ):
        read_idx(path)


def test_read_idx_truncated_header(tmp_path):
    path = tmp_path / "stub.idx"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 10))
    with pytest.raises(
        IDXFormatError,
        match=r"stub.idx: truncated IDX header, expected 16 "
        r"bytes for 3 dimensions, found 8",
    ):
        read_idx(path)


def test_read_idx_cut_gzip_stream_is_reported_as_truncated(tmp_path):
    data = gzip.compress(
        idx_bytes(np.random.default_rng(1).integers(0, 256, (20, 28, 28), dtype=np.uint8), 0x08)
    )
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        IDXFormatError,
        match=r"cut.gz: truncated data, expected 15680 bytes .*"
        r"found \d+ \(the gzip stream ends early\)",
    ):
        read_idx(path)


def test_read_idx_rejects_data_beyond_what_the_header_declares(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8), 0x08) + b"\1\2")
    with pytest.raises(
        IDXFormatError,
        match=r"long.idx: 2 bytes after the data, expected 4 "
        r"bytes of data for shape \(4,\) and found 6",
    ):
        read_idx(path)


def test_read_idx_corrupt_gzip_data(tmp_path):
    data = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8), 0x08)))
    data[-6] ^= 0xFF  # inside the CRC-32 trailer
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(IDXFormatError, match=r"bad.gz: corrupt gzip data \(CRC check failed"):
        read_idx(path)


def test_read_idx_does_not_allocate_what_a_lying_header_claims(tmp_path):
    path = tmp_path / "huge.idx"  # claims 2**32-1 x 2**32-1 x 2**32-1 float64 values
    path.write_bytes(bytes([0, 0, 0x0E, 3]) + struct.pack(">3I", *[2**32 - 1] * 3) + b"\0" * 8)
    with pytest.raises(IDXFormatError, match=r"huge.idx: truncated data, .* found 8$"):
        read_idx(path)


# --------------------------------------------------------------------------- load_mnist, local


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_reads_a_folder_gzip_or_not(tmp_path, gz):
    arrays = fake_mnist(2)
    files = mnist_file_bytes(arrays, gz=gz)
    folder = write_files(tmp_path / "mnist", files)
    checksums = checksums_of(files)
    assert_loaded(load_mnist(folder, checksums=checksums, download=False), arrays)
    assert_loaded(
        load_mnist(folder, checksums=checksums, download=False, kind="uint8"), arrays, kind="uint8"
    )
    assert_loaded(
        load_mnist(folder, checksums=checksums, download=False, flatten=True), arrays, flatten=True
    )


def test_load_mnist_float32_pixels_are_pixel_over_255(tmp_path):
    images = np.array([[[0, 1, 128, 255] * 7] * 28], dtype=np.uint8)
    arrays = (images, np.array([3], np.uint8), images, np.array([7], np.uint8))
    files = mnist_file_bytes(arrays)
    X, y, _, _ = load_mnist(
        write_files(tmp_path, files), checksums=checksums_of(files), download=False
    )
    np.testing.assert_array_equal(X[0, 0, 0, :4], np.float32([0, 1 / 255, 128 / 255, 1]))
    assert X.min() == 0.0 and X.max() == 1.0


def test_load_mnist_accepts_the_hash_of_the_decompressed_content(tmp_path):
    arrays = fake_mnist(3)
    raw = mnist_file_bytes(arrays, gz=False)
    folder = write_files(tmp_path, mnist_file_bytes(arrays, gz=True))  # a different gzip
    assert_loaded(load_mnist(folder, checksums=checksums_of(raw), download=False), arrays)


def test_load_mnist_checksum_mismatch_names_the_file_and_both_hashes(tmp_path):
    arrays = fake_mnist(4)
    files = mnist_file_bytes(arrays)
    checksums = checksums_of(files)
    expected = "0" * 64
    checksums["t10k-labels-idx1-ubyte"] = {expected}
    found = hashlib.sha256(files["t10k-labels-idx1-ubyte.gz"]).hexdigest()
    with pytest.raises(
        ChecksumError,
        match=rf"checksum mismatch for \S*t10k-labels-idx1-ubyte"
        rf"\.gz: expected SHA-256 {expected}, found {found}",
    ):
        load_mnist(write_files(tmp_path, files), checksums=checksums, download=False)


def test_load_mnist_checks_the_real_mnist_checksums_by_default(tmp_path):
    files = mnist_file_bytes(fake_mnist(5))
    with pytest.raises(
        ChecksumError,
        match=r"train-images-idx3-ubyte.gz: expected SHA-256 "
        r"440fcabf73cc.* or ba891046e650.*, found",
    ):
        load_mnist(write_files(tmp_path, files), download=False)


def test_load_mnist_image_and_label_counts_must_agree(tmp_path):
    images, labels, test_images, test_labels = fake_mnist(6, n_train=6)
    files = mnist_file_bytes((images, labels[:5], test_images, test_labels))
    with pytest.raises(
        IDXFormatError,
        match=r"train-images-idx3-ubyte.gz has 6 images but "
        r"\S*train-labels-idx1-ubyte.gz has 5 labels",
    ):
        load_mnist(write_files(tmp_path, files), checksums=checksums_of(files), download=False)


def test_load_mnist_wrong_magic_number_in_place_of_images(tmp_path):
    arrays = list(fake_mnist(7))
    files = mnist_file_bytes(arrays)
    files["t10k-images-idx3-ubyte.gz"] = files["t10k-labels-idx1-ubyte.gz"]  # swapped file
    with pytest.raises(
        IDXFormatError,
        match=r"t10k-images-idx3-ubyte.gz: wrong magic number, "
        r"expected 2051 \(images\), found 2049",
    ):
        load_mnist(write_files(tmp_path, files), checksums=checksums_of(files), download=False)


def test_load_mnist_images_must_be_28_by_28(tmp_path):
    arrays = list(fake_mnist(8))
    arrays[2] = np.zeros((4, 27, 28), dtype=np.uint8)
    files = mnist_file_bytes(arrays)
    with pytest.raises(
        IDXFormatError,
        match=r"t10k-images-idx3-ubyte.gz: images must be 28 x 28 "
        r"pixels, found 27 x 28",
    ):
        load_mnist(write_files(tmp_path, files), checksums=checksums_of(files), download=False)


def test_load_mnist_labels_must_be_digits(tmp_path):
    arrays = list(fake_mnist(9))
    arrays[1] = np.array([0, 1, 2, 3, 4, 12], dtype=np.uint8)
    files = mnist_file_bytes(arrays)
    with pytest.raises(
        IDXFormatError,
        match=r"train-labels-idx1-ubyte.gz: labels must be digits "
        r"0-9, found 12",
    ):
        load_mnist(write_files(tmp_path, files), checksums=checksums_of(files), download=False)


def test_load_mnist_search_order_data_dir_then_environment_then_cache(tmp_path, monkeypatch):
    sets = {where: fake_mnist(seed) for seed, where in enumerate(["data", "env", "cache"])}
    files = {where: mnist_file_bytes(arrays) for where, arrays in sets.items()}
    checksums = {}
    for f in files.values():
        for name, digests in checksums_of(f).items():
            checksums.setdefault(name, set()).update(digests)
    data_dir = write_files(tmp_path / "data", files["data"])
    env_root = tmp_path / "env"
    write_files(env_root / "mnist", files["env"])  # $GLASSNET_DATA/mnist is searched too
    cache = write_files(tmp_path / "cache", files["cache"])
    kwargs = dict(cache_dir=cache, checksums=checksums, download=False)

    monkeypatch.setenv("GLASSNET_DATA", str(env_root))
    assert_loaded(load_mnist(data_dir, **kwargs), sets["data"])
    assert_loaded(load_mnist(None, **kwargs), sets["env"])
    monkeypatch.delenv("GLASSNET_DATA")
    assert_loaded(load_mnist(None, **kwargs), sets["cache"])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_loaded(load_mnist(empty, **kwargs), sets["cache"])


def test_load_mnist_default_cache_is_glassnet_cache_mnist(tmp_path, monkeypatch):
    arrays = fake_mnist(10)
    files = mnist_file_bytes(arrays)
    monkeypatch.setenv("GLASSNET_CACHE", str(tmp_path / "root"))
    write_files(tmp_path / "root" / "mnist", files)
    assert_loaded(load_mnist(checksums=checksums_of(files), download=False), arrays)


def test_load_mnist_missing_file_without_download_says_where_it_looked(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(
        DataNotFoundError,
        match=rf"MNIST file train-images-idx3-ubyte.gz "
        rf"\(or train-images-idx3-ubyte\) is in none "
        rf"of: {re.escape(str(tmp_path))} \(data_dir\), "
        rf"{re.escape(str(cache))} \(cache\); "
        rf"download=False\. To install by hand, put "
        rf"train-images-idx3-ubyte\.gz, ",
    ) as info:
        load_mnist(tmp_path, cache_dir=cache, download=False)
    assert isinstance(info.value, ValueError) and isinstance(info.value, FileNotFoundError)


def test_load_mnist_data_dir_must_exist(tmp_path):
    with pytest.raises(
        DataNotFoundError,
        match=r"data_dir must be an existing folder, got "
        r"'\S*nowhere'",
    ):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_argument_checks(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"unknown kind 'float64'; valid names are: float32, "
        r"uint8",
    ):
        load_mnist(tmp_path, kind="float64")
    with pytest.raises(ValueError, match=r"timeout must be > 0.0, got -1"):
        load_mnist(tmp_path, timeout=-1)
    with pytest.raises(TypeError, match=r"flatten must be True or False, got 'yes'"):
        load_mnist(tmp_path, flatten="yes")
    with pytest.raises(ValueError, match=r"checksums has no entry for 't10k-images-idx3-ubyte'"):
        load_mnist(
            tmp_path,
            checksums={"train-images-idx3-ubyte": "0" * 64, "train-labels-idx1-ubyte": "0" * 64},
        )
    with pytest.raises(ValueError, match=r"mirrors must hold at least one URL"):
        load_mnist(
            tmp_path,
            cache_dir=tmp_path / "cache",
            mirrors=[],
            checksums=checksums_of(mnist_file_bytes(fake_mnist(0))),
        )


# --------------------------------------------------------------------------- downloading


def test_download_falls_back_from_a_corrupt_mirror_and_caches_only_verified_files(tmp_path, server):
    arrays = fake_mnist(11)
    files = mnist_file_bytes(arrays)
    corrupt = {stored: data[:-1] + bytes([data[-1] ^ 1]) for stored, data in files.items()}
    server.serve("bad", corrupt)
    server.serve("good", files)
    cache = tmp_path / "cache"
    kwargs = dict(
        cache_dir=cache,
        checksums=checksums_of(files),
        timeout=5,
        mirrors=[server.url("bad"), server.url("good")],
    )

    assert_loaded(load_mnist(**kwargs), arrays)
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)
    for stored, data in files.items():
        assert (cache / stored).read_bytes() == data
    assert sorted(server.paths_requested()) == sorted(
        [f"/bad/{stored}" for stored in files] + [f"/good/{stored}" for stored in files]
    )

    # a second call reads the cache and makes no request at all
    n_requests = len(server.requests)
    assert_loaded(load_mnist(**kwargs), arrays)
    assert len(server.requests) == n_requests


def test_download_mirror_url_may_omit_the_trailing_slash(tmp_path, server):
    arrays = fake_mnist(12)
    files = mnist_file_bytes(arrays)
    server.serve("m", files)
    result = load_mnist(
        cache_dir=tmp_path,
        checksums=checksums_of(files),
        timeout=5,
        mirrors=server.url("m").rstrip("/"),
    )
    assert_loaded(result, arrays)


def test_download_failing_on_every_mirror_names_every_url_and_why(tmp_path, server):
    files = mnist_file_bytes(fake_mnist(13))
    server.serve("bad", {stored: b"not mnist" for stored in files})
    bad, missing, refused = server.url("bad"), server.url("missing"), refused_url()
    cache = tmp_path / "cache"
    name = "train-images-idx3-ubyte.gz"
    found = hashlib.sha256(b"not mnist").hexdigest()
    with pytest.raises(DownloadError) as info:
        load_mnist(
            cache_dir=cache,
            checksums=checksums_of(files),
            timeout=5,
            mirrors=[bad, missing, refused],
        )
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"could not download {name} from any mirror: ")
    assert f"{bad}{name} (checksum mismatch: expected SHA-256 " in message
    assert f", found {found})" in message
    assert f"{missing}{name} (HTTP 404 Not Found)" in message
    assert re.search(rf"{re.escape(refused + name)} \(\[Errno \d+\] Connection refused\)", message)
    assert (
        f"To install by hand, put train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        f"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzip or uncompressed) in "
        f"{cache} "
    ) in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, OSError)
    assert list(cache.iterdir()) == []  # nothing unverified is left behind


def test_download_resumes_an_interrupted_download_with_a_range_request(tmp_path, server):
    arrays = fake_mnist(14, n_train=40)
    files = mnist_file_bytes(arrays)
    server.serve("good", files)
    cache = tmp_path / "cache"
    cache.mkdir()
    name = "train-images-idx3-ubyte.gz"
    half = len(files[name]) // 2
    (cache / (name + ".part")).write_bytes(files[name][:half])

    assert_loaded(
        load_mnist(
            cache_dir=cache, checksums=checksums_of(files), timeout=5, mirrors=[server.url("good")]
        ),
        arrays,
    )
    assert (f"/good/{name}", f"bytes={half}-") in server.requests
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)


def test_download_cut_off_by_one_mirror_is_finished_by_the_next(tmp_path, server):
    arrays = fake_mnist(15, n_train=40)
    files = mnist_file_bytes(arrays)
    server.serve("cut", files)
    server.serve("good", files)
    name = "train-images-idx3-ubyte.gz"
    server.cut.add(f"/cut/{name}")
    cache = tmp_path / "cache"

    assert_loaded(
        load_mnist(
            cache_dir=cache,
            checksums=checksums_of(files),
            timeout=5,
            mirrors=[server.url("cut"), server.url("good")],
        ),
        arrays,
    )
    half = len(files[name]) // 2
    assert server.requests[:2] == [(f"/cut/{name}", None), (f"/good/{name}", f"bytes={half}-")]
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)


def test_download_cut_off_everywhere_keeps_the_part_file_for_next_time(tmp_path, server):
    arrays = fake_mnist(16, n_train=40)
    files = mnist_file_bytes(arrays)
    name = "train-labels-idx1-ubyte.gz"
    server.serve("m", files)
    server.cut.add(f"/m/{name}")
    cache = tmp_path / "cache"
    kwargs = dict(
        cache_dir=cache, checksums=checksums_of(files), timeout=5, mirrors=[server.url("m")]
    )
    with pytest.raises(
        DownloadError,
        match=rf"/m/{name} \(ConnectionError: connection closed "
        rf"after \d+ of \d+ bytes\)",
    ):
        load_mnist(**kwargs)
    assert (cache / (name + ".part")).is_file()

    server.cut.clear()
    first_call = len(server.requests)
    assert_loaded(load_mnist(**kwargs), arrays)
    half = len(files[name]) // 2
    # the labels file was resumed where the first call stopped, not restarted
    assert [r for r in server.requests[first_call:] if r[0] == f"/m/{name}"] == [
        (f"/m/{name}", f"bytes={half}-")
    ]
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)


def test_download_discards_a_resumed_file_that_fails_its_checksum(tmp_path, server):
    arrays = fake_mnist(17)
    files = mnist_file_bytes(arrays)
    server.serve("good", files)
    cache = tmp_path / "cache"
    cache.mkdir()
    name = "t10k-images-idx3-ubyte.gz"
    (cache / (name + ".part")).write_bytes(b"garbage from some other download")

    assert_loaded(
        load_mnist(
            cache_dir=cache, checksums=checksums_of(files), timeout=5, mirrors=[server.url("good")]
        ),
        arrays,
    )
    assert [r for r in server.requests if r[0] == f"/good/{name}"] == [
        (f"/good/{name}", "bytes=32-"),
        (f"/good/{name}", None),
    ]
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)


@pytest.mark.parametrize("case", ["server ignores Range", "part file too long"])
def test_download_restarts_when_the_partial_file_cannot_be_resumed(tmp_path, server, case):
    arrays = fake_mnist(18)
    files = mnist_file_bytes(arrays)
    server.serve("good", files)
    server.ignore_range = case == "server ignores Range"
    cache = tmp_path / "cache"
    cache.mkdir()
    name = "t10k-labels-idx1-ubyte.gz"
    part = files[name][:10] if server.ignore_range else files[name] + b"extra bytes"
    (cache / (name + ".part")).write_bytes(part)

    assert_loaded(
        load_mnist(
            cache_dir=cache, checksums=checksums_of(files), timeout=5, mirrors=[server.url("good")]
        ),
        arrays,
    )
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)


# --------------------------------------------------------------------------- the real files


def test_real_mnist_loads_with_its_published_counts():
    need_real_mnist()
    X_train, y_train, X_test, y_test = load_mnist(REAL_MNIST, download=False)
    assert X_train.shape == (60000, 1, 28, 28) and X_test.shape == (10000, 1, 28, 28)
    assert X_train.dtype == np.float32 and 0.0 == X_train.min() and X_train.max() == 1.0
    assert y_train.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), REAL_TRAIN_COUNTS)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), REAL_TEST_COUNTS)
    np.testing.assert_array_equal(y_train[:5], [5, 0, 4, 1, 9])
    np.testing.assert_array_equal(y_test[:5], [7, 2, 1, 0, 4])


def test_real_t10k_files_pass_the_real_checksums_through_the_download_path(tmp_path, server):
    need_real_mnist()
    data_dir = tmp_path / "train-only"  # the training files from disk, the test files served
    data_dir.mkdir()
    for name in MNIST_FILES[:2]:
        try:
            os.symlink(REAL_MNIST / (name + ".gz"), data_dir / (name + ".gz"))
        except OSError:  # no symlinks (Windows without the privilege): copy
            shutil.copyfile(REAL_MNIST / (name + ".gz"), data_dir / (name + ".gz"))
    test_files = {
        name + ".gz": (REAL_MNIST / (name + ".gz")).read_bytes() for name in MNIST_FILES[2:]
    }
    server.serve("mnist", test_files)
    cache = tmp_path / "cache"

    _, _, X_test, y_test = load_mnist(
        data_dir, cache_dir=cache, kind="uint8", timeout=5, mirrors=[server.url("mnist")]
    )
    assert X_test.shape == (10000, 1, 28, 28) and X_test.dtype == np.uint8
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), REAL_TEST_COUNTS)
    assert sorted(server.paths_requested()) == sorted(f"/mnist/{s}" for s in test_files)
    assert sorted(p.name for p in cache.iterdir()) == sorted(test_files)


# --------------------------------------------------------------------------- the shipped subset


def test_digits_subset_loads_offline_with_every_digit():
    X_train, y_train, X_test, y_test = load_digits_subset()
    assert X_train.shape == (12000, 1, 28, 28) and X_test.shape == (2000, 1, 28, 28)
    assert X_train.dtype == np.float32 and y_train.dtype == np.int64
    assert 0.0 == X_train.min() and X_train.max() == 1.0
    for y in (y_train, y_test):
        assert set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(
        np.bincount(y_train), [1184, 1353, 1195, 1299, 1109, 1078, 1221, 1240, 1175, 1146]
    )
    np.testing.assert_array_equal(
        np.bincount(y_test), [189, 222, 212, 242, 196, 186, 158, 215, 193, 187]
    )
    X8, y8, _, _ = load_digits_subset(kind="uint8", flatten=True)
    assert X8.shape == (12000, 784) and X8.dtype == np.uint8
    np.testing.assert_array_equal(X8, np.round(X_train.reshape(12000, 784) * 255))
    np.testing.assert_array_equal(y8, y_train)


def test_digits_subset_files_match_their_published_sha256():
    folder = Path(mnist.__file__).parent / "data"
    for name, (gz_digest, raw_digest) in mnist.SUBSET_SHA256.items():
        data = (folder / (name + ".gz")).read_bytes()
        assert hashlib.sha256(data).hexdigest() == gz_digest
        assert hashlib.sha256(gzip.decompress(data)).hexdigest() == raw_digest
        assert gz_digest in (folder / "MNIST-ATTRIBUTION.md").read_text()


def test_digits_subset_checksums_are_verified(monkeypatch):
    table = dict(mnist.SUBSET_SHA256)
    table["mnist-subset-t10k-labels-idx1-ubyte"] = ("f" * 64,)
    monkeypatch.setattr(mnist, "SUBSET_SHA256", table)
    with pytest.raises(
        ChecksumError,
        match=r"mnist-subset-t10k-labels-idx1-ubyte.gz: expected "
        rf"SHA-256 {'f' * 64}, found a61618755f7c",
    ):
        load_digits_subset()


def test_digits_subset_is_every_fifth_image_of_the_real_mnist():
    need_real_mnist()
    real = load_mnist(REAL_MNIST, download=False, kind="uint8")
    subset = load_digits_subset(kind="uint8")
    for full, part in zip(real, subset, strict=True):
        np.testing.assert_array_equal(full[::5], part)


def test_digits_subset_ships_its_attribution():
    text = (Path(mnist.__file__).parent / "data" / "MNIST-ATTRIBUTION.md").read_text()
    for needed in (
        "Yann LeCun",
        "Corinna Cortes",
        "Christopher J.C. Burges",
        "CC BY-SA 3.0",
        "tools/make_digits_subset.py",
        "0, 5, 10, ..., 59995",
    ):
        assert needed in text


def test_make_digits_subset_script_reproduces_the_shipped_files(tmp_path, monkeypatch, capsys):
    need_real_mnist()
    script = Path(__file__).resolve().parents[1] / "tools" / "make_digits_subset.py"
    if not script.is_file():
        pytest.skip("tools/make_digits_subset.py is not in this checkout")
    monkeypatch.setattr(sys, "path", list(sys.path))  # the script prepends src/ to sys.path
    module = runpy.run_path(str(script))
    module["main"](["--source", str(REAL_MNIST), "--out", str(tmp_path)])
    assert "total 2,258,693 bytes compressed" in capsys.readouterr().out
    folder = Path(mnist.__file__).parent / "data"
    for name in mnist.SUBSET_FILES:
        made = gzip.decompress((tmp_path / (name + ".gz")).read_bytes())
        shipped = gzip.decompress((folder / (name + ".gz")).read_bytes())
        assert made == shipped
