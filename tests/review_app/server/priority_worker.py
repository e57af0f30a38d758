"""A worker that reports its own priority and whether it is tied to its parent's life."""

import ctypes
import os

from curation.progress import json_channel

if __name__ == "__main__":
    send = json_channel()  # as every worker: this also sets PR_SET_PDEATHSIG
    sig = ctypes.c_int(0)
    ctypes.CDLL(None).prctl(2, ctypes.byref(sig))  # PR_GET_PDEATHSIG
    send({"done": {"nice": os.getpriority(os.PRIO_PROCESS, 0), "pdeathsig": sig.value}})
