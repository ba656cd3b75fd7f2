"""image: FunctionBench's image_processing reduced to FaaSnap's rotate (+ resize, JPEG encode).

The picture is generated, not shipped: a Mandelbrot view (its window chosen by the seed) in the
red channel and two gradients in green and blue. Pillow renders all of it in C, so the
Python-level work stays small and the time goes to Pillow and libjpeg, as with a real photo.
"""
import hashlib
import io
import random
import resource
import time

from PIL import Image


def make_picture(width, height, seed):
    rng = random.Random(seed)
    cx, cy, span = rng.uniform(-0.8, -0.6), rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.6)
    extent = (cx - span, cy - span * height / width, cx + span, cy + span * height / width)
    # The fractal is rendered at a quarter of the size and scaled up: at full size it would
    # cost more than the processing being measured.
    red = Image.effect_mandelbrot((max(1, width // 4), max(1, height // 4)), extent, 100)
    red = red.resize((width, height), Image.BICUBIC)
    green = Image.linear_gradient("L").resize((width, height))
    blue = Image.radial_gradient("L").resize((width, height))
    return Image.merge("RGB", (red, green, blue))


def handle(event):
    width = int(event.get("width", 800))
    height = int(event.get("height", 600))
    angle = float(event.get("angle", 45))
    scale = float(event.get("scale", 0.5))

    t0 = time.perf_counter()
    picture = make_picture(width, height, int(event.get("seed", 1)))
    t1 = time.perf_counter()
    rotated = picture.rotate(angle, resample=Image.BICUBIC, expand=True)
    resized = rotated.resize((max(1, int(rotated.width * scale)), max(1, int(rotated.height * scale))),
                             Image.LANCZOS)
    out = io.BytesIO()
    resized.save(out, format="JPEG", quality=85)
    t2 = time.perf_counter()
    return {
        "input": [width, height],
        "rotated": [rotated.width, rotated.height],
        "output": [resized.width, resized.height],
        "jpeg_bytes": out.tell(),
        "sha256": hashlib.sha256(resized.tobytes()).hexdigest(),
        "generate_ms": round((t1 - t0) * 1000, 3),
        "process_ms": round((t2 - t1) * 1000, 3),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
