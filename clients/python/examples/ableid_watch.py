"""Start an AbleID resident check through the gateway, print the page the person opens,
and follow the attempt with the resumable watch helper until it ends.

    python examples/ableid_watch.py --addr localhost:50051

Against ``idv-gateway serve --sandbox``, approve the check by opening the printed page,
or with ``curl -X POST '<page URL>/approve'``.

Events refer to photos rather than carry them (``AttemptEvent.media``): with
``--media DIR``, each file an event refers to is downloaded into ``DIR``, checked against
its size and SHA-256.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import grpc
from google.protobuf import json_format

from idv.ableid.v1 import ableid_pb2, ableid_pb2_grpc
from idv.attempts.v1 import attempts_pb2
from idv_gateway import AttemptWatch, MediaMismatchError, Reconnect, download_media_to, error_details


def save_media(channel: grpc.Channel, event: attempts_pb2.AttemptEvent, media: attempts_pb2.Media, directory: str) -> str:
    """Streams one file an event refers to into ``directory``; a file that does not match
    its reference is removed."""
    ext = ".jpg" if media.content_type == "image/jpeg" else ".bin"
    path = os.path.join(directory, media.media_id + ext)
    try:
        with open(path, "wb") as out:
            download_media_to(channel, event, media, out, timeout=300)
    except BaseException:
        os.remove(path)
        raise
    return path


def describe(call: str, err: grpc.RpcError) -> str:
    d = error_details(err)
    if d is None:
        return f"{call}: {err}"
    lines = [f"{call}: {d.code.name}: {d.message} (reason {d.reason}, domain {d.domain})"]
    lines += [f"  {v.field}: {v.description}" for v in d.field_violations]
    if d.vendor_code:
        lines.append(f"  vendor code {d.vendor_code} (HTTP {d.http_status}): {d.vendor_message}")
    if d.retry_delay is not None:
        lines.append(f"  retry after {d.retry_delay}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--addr", default=os.environ.get("IDV_GATEWAY_ADDR", "localhost:50051"))
    parser.add_argument("--pinfl", default="31205901234567")
    parser.add_argument("--birth-date", default="12.05.1990")
    parser.add_argument("--transaction-id", default=f"example-{time.time_ns()}")
    parser.add_argument("--follow", action="store_true", help="keep watching after the terminal state")
    parser.add_argument("--media", metavar="DIR", help="download the files events refer to (photos) into DIR")
    args = parser.parse_args()

    with grpc.insecure_channel(args.addr) as channel:
        try:
            started = ableid_pb2_grpc.AbleIdServiceStub(channel).StartResidentCheck(
                ableid_pb2.StartResidentCheckRequest(
                    transaction_id=args.transaction_id, pinfl=args.pinfl, birth_date=args.birth_date
                ),
                timeout=30,
            )
        except grpc.RpcError as err:
            print(describe("StartResidentCheck", err), file=sys.stderr)
            return 1
        print(f"attempt {started.attempt_id}\nopen this page to take the check:\n  {started.full_url}")

        def on_reconnect(r: Reconnect) -> None:
            print(f"connection lost ({r.cause.code().name}); resuming in {r.delay:.2f}s", file=sys.stderr)

        watch = AttemptWatch(
            channel,
            ableid_attempt_id=started.attempt_id,
            follow_after_terminal=args.follow,
            on_snapshot=lambda a: print(f"state: {attempts_pb2.AttemptState.Name(a.state)}"),
            on_reconnect=on_reconnect,
        )
        try:
            for event in watch:
                state = attempts_pb2.AttemptState.Name(event.attempt_state)
                print(f"event #{event.sequence} ({state}): {json_format.MessageToJson(event, indent=None)}")
                for media in event.media if args.media else ():
                    try:
                        path = save_media(channel, event, media, args.media)
                    except grpc.RpcError as err:
                        print(describe("DownloadAttemptMedia", err), file=sys.stderr)
                        return 1
                    except MediaMismatchError as err:
                        print(f"DownloadAttemptMedia: {err}", file=sys.stderr)
                        return 1
                    print(f"  {media.field}: {media.size_bytes} bytes ({media.content_type}) in {path}")
        except grpc.RpcError as err:
            print(describe("WatchAttempt", err), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"stopped; resume later with token {watch.resume_token!r}")
            return 0
        print(f"attempt ended: {attempts_pb2.AttemptState.Name(watch.state)}")
        return 0


if __name__ == "__main__":
    sys.exit(main())
