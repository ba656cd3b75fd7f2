"""pyaes: FunctionBench's pyaes — AES-CTR encrypt and decrypt of a generated message.

Debian ships pyaes itself (python3-pyaes, pure Python, no C extension), so this is the same
CPU-bound interpreter workload FunctionBench measures: every AES round is Python bytecode.
The key and the message come from the seed; decrypting must give the message back.
"""
import hashlib
import random
import resource
import string
import time

import pyaes


def handle(event):
    length = int(event.get("length", 2000))
    iterations = int(event.get("iterations", 10))
    rng = random.Random(int(event.get("seed", 1)))
    key = hashlib.sha256(b"thaw-pyaes-%d" % rng.getrandbits(64)).digest()   # AES-256
    message = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length)).encode()

    t0 = time.perf_counter()
    for _ in range(iterations):
        ciphertext = pyaes.AESModeOfOperationCTR(key, pyaes.Counter(1)).encrypt(message)
        plaintext = pyaes.AESModeOfOperationCTR(key, pyaes.Counter(1)).decrypt(ciphertext)
        if plaintext != message:
            raise RuntimeError("AES-CTR round trip changed the message")
    t1 = time.perf_counter()
    return {
        "message_bytes": length,
        "iterations": iterations,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "crypt_ms": round((t1 - t0) * 1000, 3),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
