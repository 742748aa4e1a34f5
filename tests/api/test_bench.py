"""`manage.py bench` measures the service API's decision call beside a bare Django JSON view of
the same body size, in the same run (R-FEAT-4)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from api.models import ServiceToken

SIZES = {"members": 30, "groups": 3, "invitations": 5, "events": 20, "requests": 2, "warmup": 1}


@pytest.mark.django_db
def test_bench_prints_the_service_api_table() -> None:
    out = StringIO()
    call_command("bench", stdout=out, **SIZES)
    text = out.getvalue()

    assert "| Service API | Median | p95 | Queries |" in text
    api_row = next(
        line for line in text.splitlines() if line.startswith("| Member features (service API) |")
    )
    bare_row = next(
        line for line in text.splitlines() if line.startswith("| Bare Django JSON view |")
    )
    assert "HTTP" not in api_row  # the call answered 200 ...
    assert "HTTP" not in bare_row  # ... and so did the baseline
    sizes = re.search(
        r"decisions \(([\d,]+) bytes\) beside a bare Django JSON view answering ([\d,]+) bytes",
        text,
    )
    assert sizes is not None
    assert sizes[1] == sizes[2] != "0"
    assert bare_row.endswith("| 0 |")  # the baseline reads nothing
    # The bench's token does not outlive the run.
    assert not ServiceToken.objects.exists()
