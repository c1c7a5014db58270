"""RFC 3339 stamps: what nsbox writes, it reads back to the same instant."""
from __future__ import annotations

import calendar
import random
import time

import pytest

from nsbox.oci.timestamps import parse_rfc3339, rfc3339

pytestmark = pytest.mark.needs_no_root


def test_parse_agrees_with_the_c_library_across_four_centuries():
    chance = random.Random(3339)
    stamps = [rfc3339(chance.randrange(0, 13_000_000_000) * 1_000_000_000 + chance.randrange(10**9))
              for _ in range(20000)] + ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59.999999999Z",
                                        "2100-03-01T00:00:00.5Z", "2400-02-29T12:00:00Z"]
    for stamp in stamps:
        expected = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) + float(stamp[19:].rstrip("Z") or 0)
        assert parse_rfc3339(stamp) == expected, stamp


@pytest.mark.parametrize("stamp", ["2024-13-01T00:00:00Z", "2024/01/01T00:00:00Z", "2024-01-01T24:00:00Z",
                                   "yesterday at noon, more or less", "2024-01-0"])
def test_what_is_not_a_stamp_is_refused(stamp):
    with pytest.raises(ValueError):
        parse_rfc3339(stamp)


def test_empty_is_zero():
    assert parse_rfc3339("") == 0.0
