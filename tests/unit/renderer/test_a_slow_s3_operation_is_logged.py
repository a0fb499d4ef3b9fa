"""An S3 operation that takes seconds is logged with what it was and how long it took.

A render that stood still for 27 s while narrating its first scene (a fan-out share handing
its speech over through S3) left no trace in its log: the operation neither failed nor
retried. Now the log says which request was slow, so such a stall can be told apart from a
slow voice or a starved CPU.
"""

import logging
import time

from videojob.renderer import storage
from videojob.renderer.storage import S3Store


def test_an_operation_slower_than_the_threshold_is_logged(monkeypatch, caplog):
    monkeypatch.setattr(storage, "SLOW_SECONDS", 0.05)
    store = S3Store(client=None, bucket="videos")
    with caplog.at_level(logging.INFO, logger=storage.__name__):
        assert store._retrying("uploading s3://videos/a.wav", lambda: time.sleep(0.1) or "done") == "done"
        store._retrying("checking s3://videos/b.json", lambda: None)
    slow = [record.getMessage() for record in caplog.records]
    assert len(slow) == 1 and slow[0].startswith("uploading s3://videos/a.wav took 0.1 s")
