"""compression: FunctionBench's compression — zip a set of generated files (zipfile + zlib).

The files mix text-like data (seeded random bytes mapped onto letters with English-like
frequencies, so zlib finds entropy to squeeze, at C speed) with incompressible bytes, are
written to /tmp (a tmpfs in the guest: RAM) and zipped there; everything is removed at the end
so repeated calls do not grow the guest's memory.
"""
import os
import random
import resource
import shutil
import tempfile
import time
import zipfile
import zlib

# 256 byte values -> letters, roughly in English frequency: uniform random bytes become text
# with about 4 bits of entropy per character.
_LETTERS = ("     eeeeeeeeetttttttaaaaaaoooooiiiiinnnnnssssshhhhhrrrrrddddlllluuuccmmwwffggyyppbbvk"
            "EETTAAOOIINNSSHHRR,,..\n")
TEXT_TABLE = bytes((_LETTERS * (256 // len(_LETTERS) + 1))[:256], "ascii")


def write_files(directory, count, size, rng):
    total = 0
    for i in range(count):
        if i % 4 == 3:
            data = rng.randbytes(size)                      # incompressible
        else:
            data = rng.randbytes(size).translate(TEXT_TABLE)
        with open(os.path.join(directory, "file%03d.%s" % (i, "bin" if i % 4 == 3 else "txt")), "wb") as f:
            f.write(data)
        total += len(data)
    return total


def handle(event):
    count = int(event.get("files", 8))
    size = int(event.get("file_kib", 256)) * 1024
    rng = random.Random(int(event.get("seed", 1)))
    work = tempfile.mkdtemp(prefix="compression-", dir="/tmp")
    try:
        src = os.path.join(work, "src")
        os.mkdir(src)
        t0 = time.perf_counter()
        raw = write_files(src, count, size, rng)
        t1 = time.perf_counter()
        archive = os.path.join(work, "archive.zip")
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name in sorted(os.listdir(src)):
                zf.write(os.path.join(src, name), arcname=name)
        t2 = time.perf_counter()
        crc = 0
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                crc = zlib.crc32(info.CRC.to_bytes(4, "little"), crc)
        return {
            "files": count,
            "raw_bytes": raw,
            "zip_bytes": os.path.getsize(archive),
            "ratio": round(os.path.getsize(archive) / raw, 4),
            "members_crc": crc,
            "generate_ms": round((t1 - t0) * 1000, 3),
            "zip_ms": round((t2 - t1) * 1000, 3),
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
