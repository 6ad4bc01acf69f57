"""The mirror download, against local HTTP servers on 127.0.0.1 (never the real network)."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from core.data.dataset import MNIST_FILE_NAMES, ROLES, load_dataset
from core.data.download import Cancelled, DownloadProgress, download_mnist
from core.errors import DatasetError, DownloadError
from tests.fake_data import write_dataset
from tests.http_fixtures import PROXY_VARIABLES, closed_port_url, start_mirror, stop_mirror

NAMES = [MNIST_FILE_NAMES[role] for role in ROLES]
TRAIN_IMAGES = MNIST_FILE_NAMES["train_images"]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """urllib honours *_proxy variables; a proxy must not stand between the tests and 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The generated dataset the mirrors serve: its folder, gzipped bytes and decompressed SHA-256s."""
    folder = write_dataset(tmp_path_factory.mktemp("served"), train_count=300, test_count=100, seed=7)
    files = {name: (folder / name).read_bytes() for name in NAMES}
    checksums = {name: hashlib.sha256(gzip.decompress(content)).hexdigest() for name, content in files.items()}
    assert len(files[TRAIN_IMAGES]) > 2 * 64 * 1024, "the train images should take several chunks"
    return folder, files, checksums


@pytest.fixture
def mirror(source):
    """Start a local mirror: mirror(mode) -> server with .url and .log [(file, Range, status)]."""
    servers = []

    def start(mode="plain", files=None):
        server = start_mirror(source[1] if files is None else files, mode)
        servers.append(server)
        return server

    yield start
    for server in servers:
        stop_mirror(server)


@pytest.fixture
def dead_url():
    """A URL on a port where nothing listens: the OS picked it free, and it is closed again."""
    return closed_port_url()


def assert_same_dataset(folder, source_folder):
    got, expected = load_dataset(folder), load_dataset(source_folder)
    for role in ROLES:
        np.testing.assert_array_equal(getattr(got, role), getattr(expected, role))


def test_download_reports_progress_and_leaves_four_loadable_files(tmp_path, source, mirror):
    source_folder, files, checksums = source
    server = mirror()
    folder = tmp_path / "data" / "mnist"
    reports: list[DownloadProgress] = []
    assert download_mnist(folder, progress=reports.append, mirrors=[server.url], timeout=5,
                          checksums=checksums) == folder
    assert sorted(path.name for path in folder.iterdir()) == sorted(NAMES)
    for name in NAMES:
        assert (folder / name).read_bytes() == files[name]
    assert_same_dataset(folder, source_folder)

    assert [report.file_name for report in reports if report.file_index == 0][0] == TRAIN_IMAGES
    for index, name in enumerate(NAMES):
        mine = [report for report in reports if report.file_name == name]
        assert mine and {(report.file_index, report.file_count) for report in mine} == {(index, 4)}
        done = [report.bytes_done for report in mine]
        assert done == sorted(set(done)), f"{name}: bytes done must only increase: {done}"
        assert done[-1] == len(files[name])
        assert {report.bytes_total for report in mine} == {len(files[name])}
    assert len([report for report in reports if report.file_name == TRAIN_IMAGES]) >= 3
    assert [report.file_index for report in reports] == sorted(report.file_index for report in reports)
    assert [entry[0] for entry in server.log] == NAMES


def test_without_content_length_the_total_is_unknown_but_the_files_arrive(tmp_path, source, mirror):
    source_folder, _, checksums = source
    reports = []
    download_mnist(tmp_path, progress=reports.append, mirrors=[mirror("no-length").url], timeout=5,
                   checksums=checksums)
    assert {report.bytes_total for report in reports} == {None}
    assert_same_dataset(tmp_path, source_folder)


def test_files_already_there_are_kept_and_not_fetched_again(tmp_path, source, mirror):
    source_folder, _, checksums = source
    shutil.copy(source_folder / TRAIN_IMAGES, tmp_path / TRAIN_IMAGES)
    # the other naming style, raw, counts as there too
    (tmp_path / "t10k-labels.idx1-ubyte").write_bytes(gzip.decompress((source_folder / NAMES[3]).read_bytes()))
    server = mirror()
    download_mnist(tmp_path, mirrors=[server.url], timeout=5, checksums=checksums)
    assert [entry[0] for entry in server.log] == [NAMES[1], NAMES[2]]
    assert_same_dataset(tmp_path, source_folder)


def test_a_checksum_mismatch_is_a_download_error_and_leaves_no_file(tmp_path, source, mirror):
    _, _, checksums = source
    wrong = dict(checksums, **{TRAIN_IMAGES: "0" * 64})
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path, mirrors=[mirror().url], timeout=5, checksums=wrong)
    assert "checksum" in str(info.value) and TRAIN_IMAGES in str(info.value)
    assert list(tmp_path.iterdir()) == [], "neither the file nor its .part may stay"


def test_mnists_own_checksums_are_the_default(tmp_path, mirror):
    # the generated files are not MNIST: with the default checksums they must be refused
    with pytest.raises(DownloadError, match="checksum"):
        download_mnist(tmp_path, mirrors=[mirror().url], timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_gzip_is_refused(tmp_path, source, mirror):
    _, files, checksums = source
    html = dict(files, **{TRAIN_IMAGES: b"<html><body>Please log in</body></html>"})
    with pytest.raises(DownloadError, match="not valid gzip"):
        download_mnist(tmp_path, mirrors=[mirror(files=html).url], timeout=5, checksums=checksums)
    assert list(tmp_path.iterdir()) == []


def test_a_gzip_bomb_from_a_mirror_is_refused_while_streaming(tmp_path, source, mirror, monkeypatch):
    """The check streams the file through the hash and stops at the bound (lowered here to 8 MB,
    against 64 MB of zeros), instead of inflating it whole."""
    _, files, checksums = source
    monkeypatch.setattr("core.data.download.MAX_IDX_BYTES", 8 << 20)
    bomb = dict(files, **{TRAIN_IMAGES: gzip.compress(bytes(64 << 20), compresslevel=1)})
    with pytest.raises(DownloadError, match="inflates past 8,388,608 bytes"):
        download_mnist(tmp_path, mirrors=[mirror(files=bomb).url], timeout=5, checksums=checksums)
    assert list(tmp_path.iterdir()) == []


def test_with_no_server_the_message_says_to_connect_or_use_data_dir(tmp_path, dead_url):
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path / "mnist", mirrors=[dead_url], timeout=5)
    message = str(info.value)
    assert isinstance(info.value, DatasetError)
    assert "connect" in message.lower() and "--data-dir" in message
    assert dead_url + TRAIN_IMAGES in message
    assert all(name in message for name in NAMES), "the message should name the four files to get"
    assert not any((tmp_path / "mnist").glob("*-ubyte*"))


def test_when_the_first_mirror_is_down_the_second_is_used(tmp_path, source, mirror, dead_url):
    source_folder, _, checksums = source
    server = mirror()
    download_mnist(tmp_path, mirrors=[dead_url, server.url], timeout=5, checksums=checksums)
    assert [entry[0] for entry in server.log] == NAMES
    assert_same_dataset(tmp_path, source_folder)


def test_a_mirror_without_the_file_falls_back_to_the_next(tmp_path, source, mirror):
    source_folder, _, checksums = source
    empty, full = mirror(files={}), mirror()
    download_mnist(tmp_path, mirrors=[empty.url, full.url], timeout=5, checksums=checksums)
    assert [status for _, _, status in empty.log] == [404] * 4
    assert_same_dataset(tmp_path, source_folder)


def test_when_every_mirror_fails_each_is_named_in_the_message(tmp_path, mirror, dead_url):
    empty = mirror(files={})
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path, mirrors=[empty.url, dead_url], timeout=5)
    message = str(info.value)
    assert empty.url + TRAIN_IMAGES in message and "404" in message and dead_url + TRAIN_IMAGES in message


def test_an_interrupted_transfer_fails_then_resumes_with_a_range_request(tmp_path, source, mirror):
    source_folder, files, checksums = source
    with pytest.raises(DownloadError) as info:
        download_mnist(tmp_path, mirrors=[mirror("cut").url], timeout=5, checksums=checksums)
    assert "stopped after" in str(info.value)
    assert not (tmp_path / TRAIN_IMAGES).exists()
    partial = tmp_path / (TRAIN_IMAGES + ".part")
    kept = partial.stat().st_size
    assert 0 < kept < len(files[TRAIN_IMAGES]) and files[TRAIN_IMAGES].startswith(partial.read_bytes())

    server = mirror("range")
    reports = []
    download_mnist(tmp_path, progress=reports.append, mirrors=[server.url], timeout=5, checksums=checksums)
    assert server.log[0] == (TRAIN_IMAGES, f"bytes={kept}-", 206)
    assert [entry[1] for entry in server.log[1:]] == [None, None, None]
    first_file = [report for report in reports if report.file_index == 0]
    assert first_file[0].bytes_done > kept and first_file[-1].bytes_total == len(files[TRAIN_IMAGES])
    assert not partial.exists()
    assert_same_dataset(tmp_path, source_folder)


def test_a_server_that_ignores_range_makes_the_download_start_over(tmp_path, source, mirror):
    source_folder, files, checksums = source
    (tmp_path / (TRAIN_IMAGES + ".part")).write_bytes(files[TRAIN_IMAGES][:5000])
    server = mirror("plain")
    download_mnist(tmp_path, mirrors=[server.url], timeout=5, checksums=checksums)
    assert server.log[0] == (TRAIN_IMAGES, "bytes=5000-", 200)
    assert (tmp_path / TRAIN_IMAGES).read_bytes() == files[TRAIN_IMAGES]
    assert_same_dataset(tmp_path, source_folder)


def test_a_stale_part_longer_than_the_file_is_discarded_and_fetched_again(tmp_path, source, mirror):
    source_folder, files, checksums = source
    (tmp_path / (TRAIN_IMAGES + ".part")).write_bytes(files[TRAIN_IMAGES] + b"left over from another file")
    server = mirror("range")
    download_mnist(tmp_path, mirrors=[server.url], timeout=5, checksums=checksums)
    assert server.log[:2] == [(TRAIN_IMAGES, f"bytes={len(files[TRAIN_IMAGES]) + 27}-", 416),
                              (TRAIN_IMAGES, None, 200)]
    assert_same_dataset(tmp_path, source_folder)


def test_should_stop_cancels_and_keeps_the_part_for_next_time(tmp_path, source, mirror):
    source_folder, _, checksums = source
    reports = []
    with pytest.raises(Cancelled) as info:
        download_mnist(tmp_path, progress=reports.append, mirrors=[mirror().url], timeout=5,
                       checksums=checksums, should_stop=lambda: len(reports) >= 1)
    assert isinstance(info.value, DownloadError) and "cancelled" in str(info.value)
    assert len(reports) == 1
    assert not (tmp_path / TRAIN_IMAGES).exists()
    assert (tmp_path / (TRAIN_IMAGES + ".part")).stat().st_size == reports[0].bytes_done

    server = mirror("range")
    download_mnist(tmp_path, mirrors=[server.url], timeout=5, checksums=checksums)
    assert server.log[0] == (TRAIN_IMAGES, f"bytes={reports[0].bytes_done}-", 206)
    assert_same_dataset(tmp_path, source_folder)


def test_a_cancel_is_not_retried_on_the_next_mirror(tmp_path, mirror):
    first, second = mirror(), mirror()
    with pytest.raises(Cancelled):
        download_mnist(tmp_path, mirrors=[first.url, second.url], timeout=5, should_stop=lambda: True)
    assert len(first.log) == 1 and second.log == []
    assert not (tmp_path / TRAIN_IMAGES).exists()


def test_a_data_folder_that_cannot_be_created_is_a_download_error(tmp_path, dead_url):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DownloadError, match="cannot create the data folder"):
        download_mnist(blocker / "mnist", mirrors=[dead_url], timeout=5)
