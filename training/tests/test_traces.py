import math

import numpy as np
import pytest

from traces import read_csv


def write(tmp_path, text):
    p = tmp_path / "t.csv"
    p.write_text(text)
    return str(p)


def test_regular_grid_with_gaps_nan_and_duplicates(tmp_path):
    p = write(tmp_path, "timestamp,value\n"
              "2024-01-01T00:00:00Z,1\n2024-01-01T00:05:00Z,2\n2024-01-01T00:05:00Z,3\n"
              "2024-01-01T00:15:00Z,NaN\n2024-01-01T00:20:00Z,\n2024-01-01T00:25:00Z,6\n")
    tr = read_csv(p)
    assert tr.step == 300 and tr.t0 == 1704067200
    np.testing.assert_array_equal(np.isnan(tr.values), [False, False, True, True, True, False])
    assert tr.values[1] == 3  # duplicate timestamp: the last row wins
    assert len(tr.sha256) == 64


@pytest.mark.parametrize("text,where", [
    ("time,value\n1,2\n", ":1:"),
    ("timestamp,value\n2024-01-01T00:00:00Z,1\nyesterday,2\n", ":3:"),
    ("timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,abc\n", ":3:"),
])
def test_bad_rows_name_file_and_line(tmp_path, text, where):
    with pytest.raises(ValueError, match=where):
        read_csv(write(tmp_path, text))


def test_split_is_last_fraction(tmp_path):
    rows = "".join(f"{i * 60},{i}\n" for i in range(100))
    tr = read_csv(write(tmp_path, "timestamp,value\n" + rows))
    assert tr.split(0.2) == 80 and not math.isnan(tr.values[99])
