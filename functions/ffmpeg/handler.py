"""ffmpeg: FaaSnap's ffmpeg — flip a short video horizontally with the ffmpeg binary.

The input clip is synthesised by ffmpeg itself (lavfi test source, encoded with ffmpeg's MPEG-4 encoder
by default; libx264 on request) into
/tmp, a tmpfs in the guest; then a second ffmpeg process decodes it, applies hflip and encodes
it again — the measured step. Both run single-threaded, matching the guest's one vCPU.
Files are removed before returning.
"""
import hashlib
import os
import resource
import shutil
import subprocess
import tempfile
import time

FFMPEG = "/usr/bin/ffmpeg"
BASE = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
CODECS = {
    "mpeg4": ["-c:v", "mpeg4", "-q:v", "5"],                     # ffmpeg's own MPEG-4 part 2
    "libx264": ["-c:v", "libx264", "-preset", "veryfast"],       # H.264; ~3x the CPU under TCG
}


def run(args):
    done = subprocess.run(BASE + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise RuntimeError("ffmpeg exited with %d: %s" % (done.returncode, done.stderr.decode(errors="replace")[-2000:]))


def handle(event):
    seconds = float(event.get("seconds", 1))
    width = int(event.get("width", 320))
    height = int(event.get("height", 240))
    rate = int(event.get("rate", 25))
    codec = event.get("codec", "mpeg4")
    if codec not in CODECS:
        raise ValueError("codec must be one of %s, got %r" % (sorted(CODECS), codec))
    encode = CODECS[codec] + ["-pix_fmt", "yuv420p", "-threads", "1"]
    source = event.get("source", "testsrc")          # any lavfi video source: testsrc, testsrc2, smptebars, ...
    if not source.replace("_", "").isalnum():
        raise ValueError("source must be a lavfi source name, got %r" % source)

    work = tempfile.mkdtemp(prefix="ffmpeg-", dir="/tmp")
    try:
        src, dst = os.path.join(work, "in.mp4"), os.path.join(work, "out.mp4")
        t0 = time.perf_counter()
        run(["-f", "lavfi", "-i", "%s=duration=%g:size=%dx%d:rate=%d" % (source, seconds, width, height, rate)]
            + encode + [src])
        t1 = time.perf_counter()
        run(["-threads", "1", "-i", src, "-vf", "hflip"] + encode + ["-an", dst])
        t2 = time.perf_counter()
        with open(dst, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        return {
            "codec": codec,
            "frames": int(round(seconds * rate)),
            "size": [width, height],
            "input_bytes": os.path.getsize(src),
            "output_bytes": os.path.getsize(dst),
            "output_sha256": digest,
            "generate_ms": round((t1 - t0) * 1000, 3),
            "flip_ms": round((t2 - t1) * 1000, 3),
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "ffmpeg_maxrss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
