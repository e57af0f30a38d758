"""A worker that dies the way a crashed one does: a line of errors, no result, a non-zero exit."""

import sys

if __name__ == "__main__":
    print('{"progress": ["loading the model", 0, 1]}', flush=True)
    print("loading the model", file=sys.stderr, flush=True)
    print("fatal: cannot allocate memory", file=sys.stderr, flush=True)
    sys.exit(3)
