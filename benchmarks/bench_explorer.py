"""Data Explorer on the local emulator: browsing a big prefix, and 1 GiB through the server.

1. A prefix of N objects (default 100,000) on the emulator: AWS calls and time for the first
   page and the next ones (through the API, in-process, with the call recorder), against one
   bare ListObjectsV2 on the emulator.  The emulator accepts ~150 PutObject/s over HTTP on a
   2-CPU machine (100,000 objects: ~11 min), so by default this part runs the emulator (moto)
   in the benchmark's process and seeds its S3 backend directly (~6 s); ``--seed-http`` seeds
   over HTTP instead, 32 boto3 calls at a time.  The product talks HTTP to it either way.
2. ``batchforge server`` as a subprocess (aws mode, endpoint = the emulator): an upload of
   SIZE (default 1 GiB) streamed through it (PUT .../content/{path}), then its download
   (GET .../download/{path}): throughput, and the server's resident memory (baseline, peak
   during each transfer, read from /proc: VmRSS sampled, VmHWM after a clear_refs reset).

Usage: python benchmarks/bench_explorer.py [--objects N] [--size-mib M]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from batchforge import local_aws
from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws, free_port
from batchforge.runtime import build_context
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from batchforge.services.accounts import bootstrap_admin
from batchforge.settings import Settings

BUCKET = "bench-explorer"
PREFIX = "big/"
MiB = 1024 * 1024
RUNS = 5


def credentials_body(name: str) -> CredentialsIn:
    keys = AwsKeysIn(accessKey="AKIABENCHMARK0000001", secretKey="bench-secret-not-real")
    return CredentialsIn(name=name, provider="aws", keys=keys)


# --- 1. browsing --------------------------------------------------------------------------


class InProcessEmulator:
    """moto's server in this process (HTTP on 127.0.0.1), its S3 backend at hand."""

    def __init__(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()

    def boto_client(self, service: str, region: str = "us-east-1") -> object:
        return local_aws.emulator_client(self.url, service, region)

    def stop(self) -> None:
        self._server.stop()


def seed_direct(count: int) -> None:
    from moto.s3.models import s3_backends

    backend = s3_backends[local_aws.ACCOUNT_ID]["aws"]
    for index in range(count):
        backend.put_object(BUCKET, f"{PREFIX}f{index:07d}.txt", b"x")


def seed_http(emulator: InProcessEmulator, count: int) -> None:
    s3 = emulator.boto_client("s3")
    with ThreadPoolExecutor(max_workers=32) as pool:
        list(
            pool.map(
                lambda i: s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}f{i:07d}.txt", Body=b"x"),
                range(count),
            )
        )


def seed(emulator: InProcessEmulator, count: int, over_http: bool) -> float:
    """Create BUCKET and put ``count`` one-byte objects under PREFIX; returns seconds."""
    emulator.boto_client("s3").create_bucket(Bucket=BUCKET)
    started = time.perf_counter()
    if over_http:
        seed_http(emulator, count)
    else:
        seed_direct(count)
    return time.perf_counter() - started


def bench_browse(emulator: InProcessEmulator, data_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from batchforge.server.app import create_app

    settings = Settings(data_dir=data_dir, aws_mode="aws", aws_endpoint_url=emulator.url)
    ctx = build_context(settings)
    ctx.aws.default_keys = local_aws.EMULATOR_KEYS
    token = bootstrap_admin(ctx).token
    http = TestClient(create_app(ctx), base_url="http://bench.test")
    with BatchforgeClient("http://bench.test", token, http=http) as api:
        api.create_credentials(credentials_body("bench"))
        link = next(x for x in api.list_data_links().dataLinks if x.name == BUCKET)
        api.browse_data_link(link.id, "")  # warm up: client construction, first request
        firsts, first_calls, overheads = [], set(), []
        for _ in range(RUNS):
            mark = ctx.recorder.count()
            started = time.perf_counter()
            first = api.browse_data_link(link.id, PREFIX)
            firsts.append(time.perf_counter() - started)
            calls = ctx.recorder.since(mark)
            first_calls.add(tuple(call.name for call in calls))
            overheads.append(firsts[-1] - sum(call.duration_s for call in calls))
        following = []
        token_ = first.nextPageToken
        while token_ and len(following) < RUNS:
            mark = ctx.recorder.count()
            started = time.perf_counter()
            page = api.browse_data_link(link.id, PREFIX, token=token_)
            following.append((time.perf_counter() - started, ctx.recorder.count() - mark))
            token_ = page.nextPageToken
        s3 = emulator.boto_client("s3")
        bare = []
        for _ in range(RUNS):
            started = time.perf_counter()
            s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, Delimiter="/", MaxKeys=1000)
            bare.append(time.perf_counter() - started)
    ctx.db.dispose()
    print(
        f"  first page: {len(first.objects)} items, AWS calls per request "
        f"{sorted(len(calls) for calls in first_calls)} {sorted(set(sum(first_calls, ())))}, "
        f"median {statistics.median(firsts) * 1000:.0f} ms through the API, of which "
        f"{statistics.median(overheads) * 1000:.0f} ms outside the AWS call"
    )
    if following:
        print(
            f"  next {len(following)} pages (continuation token): AWS calls per page "
            f"{sorted({calls for _, calls in following})}, "
            f"median {statistics.median(t for t, _ in following) * 1000:.0f} ms"
        )
    floor = statistics.median(bare) * 1000
    print(f"  the emulator alone: ListObjectsV2 of 1,000 keys, median {floor:.0f} ms")


# --- 2. transfers through a server process ------------------------------------------------


def read_status(pid: int, field: str) -> int:
    """A ``VmRSS``/``VmHWM`` figure of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak(pid: int) -> None:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


class Sampler:
    """The highest VmRSS of a process while running, sampled every 20 ms."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, read_status(self.pid, "VmRSS"))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        reset_peak(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, read_status(self.pid, "VmHWM"))


def start_server(emulator: LocalAws, data_dir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    env = dict(
        os.environ,
        BATCHFORGE_DATA_DIR=str(data_dir),
        BATCHFORGE_AWS_MODE="aws",
        BATCHFORGE_AWS_ENDPOINT_URL=emulator.url,
        BATCHFORGE_PORT=str(port),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    exe = Path(sys.executable).with_name("batchforge")
    process = subprocess.Popen(
        [str(exe), "server"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/service-info", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    token = (data_dir / "admin-token").read_text().strip()
    return process, url, token


def body_chunks(size: int) -> Iterator[bytes]:
    block = os.urandom(MiB)
    sent = 0
    while sent < size:
        chunk = block[: min(MiB, size - sent)]
        sent += len(chunk)
        yield chunk


def bench_emulator_alone(emulator: LocalAws, size: int) -> None:
    """The same transfer with boto3 straight to the emulator: the floor the server sits on."""
    s3 = emulator.boto_client("s3")
    part = os.urandom(16 * MiB)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="alone.bin")["UploadId"]
    started = time.perf_counter()
    parts = []
    for number in range(1, size // len(part) + 1):
        answer = s3.upload_part(
            Bucket=BUCKET, Key="alone.bin", UploadId=upload_id, PartNumber=number, Body=part
        )
        parts.append({"ETag": answer["ETag"], "PartNumber": number})
    parts_seconds = time.perf_counter() - started
    started = time.perf_counter()
    s3.complete_multipart_upload(
        Bucket=BUCKET, Key="alone.bin", UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    complete_seconds = time.perf_counter() - started
    started = time.perf_counter()
    body = s3.get_object(Bucket=BUCKET, Key="alone.bin")["Body"]
    while body.read(MiB):
        pass
    get_seconds = time.perf_counter() - started
    s3.delete_object(Bucket=BUCKET, Key="alone.bin")
    mib = size / MiB
    print(
        f"  emulator alone (boto3): UploadPart {mib / parts_seconds:.0f} MiB/s, "
        f"CompleteMultipartUpload {complete_seconds:.1f} s, GetObject {mib / get_seconds:.0f} MiB/s"
    )


def bench_transfers(emulator: LocalAws, data_dir: Path, size: int) -> None:
    process, url, token = start_server(emulator, data_dir)
    try:
        with BatchforgeClient(url, token, timeout=600) as api:
            api.create_credentials(credentials_body("bench"))
            link = next(x for x in api.list_data_links().dataLinks if x.name == BUCKET)
            api.browse_data_link(link.id)  # warm up
            time.sleep(0.5)
            baseline = read_status(process.pid, "VmRSS")
            put_url = f"{url}/data-links/{link.id}/content/transfer/blob.bin"
            with Sampler(process.pid) as up:
                started = time.perf_counter()
                response = httpx.put(
                    put_url,
                    content=body_chunks(size),
                    headers={"Authorization": f"Bearer {token}", "Content-Length": str(size)},
                    timeout=600,
                )
                up_seconds = time.perf_counter() - started
            response.raise_for_status()
            parts = response.json()["parts"]
            time.sleep(0.5)
            get_url = f"{url}/data-links/{link.id}/download/transfer/blob.bin"
            received = 0
            with Sampler(process.pid) as down:
                started = time.perf_counter()
                headers = {"Authorization": f"Bearer {token}"}
                with httpx.stream("GET", get_url, headers=headers, timeout=600) as stream:
                    stream.raise_for_status()
                    for chunk in stream.iter_bytes(MiB):
                        received += len(chunk)
                down_seconds = time.perf_counter() - started
        assert received == size, (received, size)
    finally:
        process.terminate()
        process.wait(timeout=30)
    mib = size / MiB
    print(f"  server RSS at rest: {baseline / MiB:.0f} MiB")
    print(
        f"  upload   {mib:.0f} MiB in {up_seconds:.1f} s = {mib / up_seconds:.0f} MiB/s "
        f"({parts} parts); server peak RSS {up.peak / MiB:.0f} MiB "
        f"(+{(up.peak - baseline) / MiB:.0f} MiB)"
    )
    print(
        f"  download {mib:.0f} MiB in {down_seconds:.1f} s = {mib / down_seconds:.0f} MiB/s; "
        f"server peak RSS {down.peak / MiB:.0f} MiB (+{(down.peak - baseline) / MiB:.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--seed-http", action="store_true", help="seed over HTTP (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inproc = InProcessEmulator()
        try:
            how = "over HTTP" if args.seed_http else "into the emulator's backend"
            print(f"Seeding {args.objects:,} objects under s3://{BUCKET}/{PREFIX} {how} ...")
            seconds = seed(inproc, args.objects, args.seed_http)
            print(f"  seeded in {seconds:.1f} s ({args.objects / seconds:,.0f} objects/s)")
            print("Browsing the prefix (1,000 items per page):")
            bench_browse(inproc, Path(tmp) / "inproc")
        finally:
            inproc.stop()
        emulator = local_aws.start()
        try:
            emulator.boto_client("s3").create_bucket(Bucket=BUCKET)
            print(f"Transfers of {args.size_mib} MiB through `batchforge server`:")
            bench_transfers(emulator, Path(tmp) / "server", args.size_mib * MiB)
            bench_emulator_alone(emulator, args.size_mib * MiB)
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
