"""Test function for clone uniqueness: answers fresh values from every usual source of
randomness, and how many times its after_restore hook ran in this instance."""
import os
import random
import secrets
import uuid

import thaw

RESTORES = 0


@thaw.after_restore
def count_restore():
    global RESTORES
    RESTORES += 1


def handle(event):
    return {"urandom": os.urandom(8).hex(), "random": random.random(), "uuid4": str(uuid.uuid4()),
            "secrets": secrets.token_hex(8), "after_restore_runs": RESTORES}
