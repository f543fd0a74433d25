"""Response bodies built without a database: streamed bodies and their blocks."""

from __future__ import annotations

import json

from geoapp.web.serializers.common import in_blocks
from geoapp.web.serializers.lookup import stream_batch_json


def test_streamed_bodies_go_out_in_blocks_with_nothing_lost() -> None:
    parts = [f"part-{i:05d};" for i in range(10_000)]  # 11 characters each
    blocks = list(in_blocks(iter(parts), block_chars=1000))
    assert "".join(blocks) == "".join(parts)
    # The first part alone (the status and headers go with it), then blocks of 91 parts.
    assert blocks[0] == parts[0]
    assert all(len(block) >= 1000 for block in blocks[1:-1])
    assert len(blocks) == 1 + -(-(len(parts) - 1) * 11 // 1001)
    assert list(in_blocks(iter([]))) == []
    rows = [{"id": i, "status": "unmapped"} for i in range(5000)]
    body = list(stream_batch_json(iter(rows), len(rows)))
    assert len(body) < 10  # not a write per point
    assert json.loads("".join(body)) == {"count": 5000, "results": rows}
