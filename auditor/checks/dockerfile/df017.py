from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.findings import Fail, Outcome, Pass
from auditor.model.dockerfile import Dockerfile

ID = "DF017"
_SHELL = r"(?:sudo\s+(?:-\S+\s+)*)?(?:/\S*/)?(?:ba|a|da|z|k)?sh\b"
_PIPED_TO_SHELL = re.compile(
    r"\b(?:curl|wget)\b[^|;&\n]*\|\s*" + _SHELL  # curl ... | sh
    + r"|" + _SHELL + r"\s+(?:-\S+\s+)*(?:<\(|[\"']?\$\()\s*(?:curl|wget)\b")  # sh <(curl ...), sh -c "$(curl ...)"
_URL = re.compile(r"^(https?://|git@|ftp://)", re.IGNORECASE)


def check(doc: Dockerfile, params: dict) -> Iterator[Outcome]:
    checked = failed = 0
    for instruction in doc.instructions:
        if instruction.keyword == "ADD":
            checked += 1
            for source in instruction.copy_sources:
                if _URL.match(source.strip("\"'")):
                    failed += 1
                    yield Fail(instruction, f"ADD fetches {source} at build time without verification; "
                                            "download it in a RUN that checks a pinned checksum, or COPY a vendored file")
        elif instruction.keyword == "RUN":
            checked += 1
            match = _PIPED_TO_SHELL.search(instruction.command_text.replace("\\\n", " "))
            if match:
                failed += 1
                yield Fail(instruction, f"'{' '.join(match.group(0).split())}' runs a downloaded script "
                                        "unverified; download it, check its SHA-256, then run it")
    if checked and not failed:
        yield Pass(doc, f"{checked} RUN/ADD instruction(s) fetch nothing into a shell")
