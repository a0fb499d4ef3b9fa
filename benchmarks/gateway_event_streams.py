"""Many open event streams through the gateway: the delay from a status write on the API server
to its event on every stream, and the gateway's memory. Goal: 500 streams, delay p99 <= 1 s.

The streams follow ``--videos`` VideoJobs (spread evenly); each round writes one status change
to every VideoJob (as the operator would: the status subresource) and times each stream's event
for it from just before that write. Each stream is one Kubernetes watch held by the gateway.

    PYTHONSAFEPATH=1 .venv/bin/python -P benchmarks/gateway_event_streams.py [--streams 500] [--videos 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp
import kubernetes

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -P leaves the script's folder off sys.path
from gateway_harness import TENANT, Harness, gateway_harness, percentile

from videojob.api.kube import Kube, videojobs_path

LECTURE = "# Tides\n\nThe moon pulls the sea.\n"


async def follow(
    session: aiohttp.ClientSession,
    video_id: str,
    arrivals: dict[tuple[str, int], list[float]],
    opened: asyncio.Event,
    counter: list[int],
    total: int,
) -> None:
    async with session.get(f"/v1/videos/{video_id}/events", timeout=aiohttp.ClientTimeout(total=None)) as response:
        counter[0] += 1
        if counter[0] == total:
            opened.set()
        async for line in response.content:
            if line.startswith(b"data: "):
                progress = json.loads(line[6:])["progress"]
                arrivals.setdefault((video_id, progress), []).append(time.perf_counter())


async def drive(harness: Harness, streams: int, videos: int, rounds: int) -> None:
    headers = {"Authorization": f"Bearer {harness.key}"}
    connector = aiohttp.TCPConnector(limit=0)
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(config_file=str(harness.plane.kubeconfig), client_configuration=configuration)
    kube = Kube(configuration)
    async with aiohttp.ClientSession(harness.url, headers=headers, connector=connector) as session:
        ids = []
        for _ in range(videos):
            async with session.post("/v1/videos", json={"markdown": LECTURE, "quality": "low"}) as created:
                ids.append((await created.json())["id"])
        arrivals: dict[tuple[str, int], list[float]] = {}
        opened, counter = asyncio.Event(), [0]
        started = time.perf_counter()
        tasks = [
            asyncio.create_task(follow(session, ids[i % videos], arrivals, opened, counter, streams))
            for i in range(streams)
        ]
        await asyncio.wait_for(opened.wait(), 300)
        print(
            f"{streams} streams on {videos} videos open in {time.perf_counter() - started:.1f} s; "
            f"gateway RSS {harness.rss_mib():.0f} MiB"
        )
        await asyncio.sleep(2)  # let every stream's first event arrive
        delays: list[float] = []
        per_video = streams // videos
        for round_ in range(1, rounds + 1):
            progress = round_ * 5
            written: dict[str, float] = {}
            for video_id in ids:
                written[video_id] = time.perf_counter()
                await kube.request(
                    "PATCH",
                    videojobs_path(TENANT, video_id) + "/status",
                    body={
                        "status": {
                            "phase": "Rendering",
                            "progress": progress,
                            "stage": f"Rendering scene {round_}/{rounds}",
                        }
                    },
                    content_type="application/merge-patch+json",
                )
            deadline = time.perf_counter() + 30
            while time.perf_counter() < deadline and any(
                len(arrivals.get((video_id, progress), [])) < per_video for video_id in ids
            ):
                await asyncio.sleep(0.05)
            for video_id in ids:
                got = arrivals.get((video_id, progress), [])
                delays += [arrival - written[video_id] for arrival in got]
                delays += [float("inf")] * (per_video - len(got))  # a lost event counts as never
        missing = sum(1 for delay in delays if delay == float("inf"))
        print(
            f"event delay over {len(delays)} events ({rounds} rounds): p50 {percentile(delays, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms, lost {missing}"
        )
        print(f"gateway RSS with {streams} streams: {harness.rss_mib():.0f} MiB")
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await kube.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with gateway_harness() as harness:
        asyncio.run(drive(harness, args.streams, args.videos, args.rounds))


if __name__ == "__main__":
    main()
