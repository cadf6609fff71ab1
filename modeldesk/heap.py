"""Keeping the cyclic garbage collector's pauses off the event loop (SPEC 9.7: < 100 ms).

A full collection walks every tracked object. A server holds tens of
thousands of long-lived ones from start-up (modules, the GraphQL schema,
templates, pools), and a request building a page of 500 transcripts makes
enough garbage to trigger full collections: measured, they held the loop for
over 300 ms in one request. Frozen, the start-up objects are never walked
again, and a collection costs only what requests leave behind.
"""

from __future__ import annotations

import gc
import logging

logger = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """Collect once, then exempt every object alive now from future collections."""
    gc.collect()
    gc.freeze()
    logger.debug("garbage collector: %d start-up objects frozen", gc.get_freeze_count())
