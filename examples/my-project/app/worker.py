"""A background worker that refreshes a cache file in the persistent filesystem."""
import pathlib
import time

MOUNT = pathlib.Path(__file__).resolve().parent.parent / "mount"

while True:
    (MOUNT / "cache").mkdir(parents=True, exist_ok=True)
    (MOUNT / "cache" / "heartbeat.txt").write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
    time.sleep(60)
