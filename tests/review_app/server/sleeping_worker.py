"""A worker that reports progress, then works (sleeps) until it is stopped."""

import time

if __name__ == "__main__":
    print('{"progress": ["near duplicates (MinHash)", 0, 1]}', flush=True)
    time.sleep(120)
