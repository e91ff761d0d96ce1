"""Reading a file of the audited tree whole: only a regular file (what discovery saw there may
have been swapped since for a FIFO, which a plain read would wait on forever, or for a huge or
sparse file), within a size cap, with the fewest calls (half the cost of ``Path.read_bytes`` for
the small files a project is made of). The parsers read through it (``parsers.project.read_text``),
and so do the project's snippets and the partitioning of a tree."""
from __future__ import annotations

import errno
import os
import stat

# Beyond any file the parsers take (discovery's size cap is 5 MiB unless configured): a file
# swapped in after discovery is refused, never read whole into memory.
READ_CAP = 256 * 1024 * 1024


def read_regular_file(path: str, cap: int = READ_CAP) -> bytes:
    """A regular file's bytes, at most ``cap`` of them (``OSError`` for anything else: a FIFO
    swapped in since discovery would block a plain read forever, a file grown or swapped past the
    size cap would be read whole), read with the fewest calls: half the cost of
    ``Path.read_bytes`` for the small files a project is made of."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > cap:
            raise OSError(errno.EFBIG, f"{info.st_size:,} bytes, over the {cap:,}-byte size cap")
        data = os.read(descriptor, info.st_size + 1)  # one more byte: a file grown since its fstat
        if len(data) <= info.st_size:  # (a regular file reads short only at its end)
            return data
        blocks, size = [data], len(data)
        while block := os.read(descriptor, 1 << 20):
            blocks.append(block)
            size += len(block)
            if size > cap:
                raise OSError(errno.EFBIG, f"grew past the {cap:,}-byte size cap while it was read")
        return b"".join(blocks)
    finally:
        os.close(descriptor)
