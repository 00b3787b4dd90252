#!/usr/bin/env python3
"""Packs a fuzz corpus folder into one seeds file, or unpacks it.

A seeds file is a sequence of (u32 little-endian length, bytes) entries: one
file per target instead of thousands. The regression test
(`cargo test -p causet-collector --test it fuzz`) replays every entry.

    seeds.py pack CORPUS_DIR SEEDS_FILE [MAX_BYTES]
    seeds.py unpack SEEDS_FILE CORPUS_DIR
"""
import hashlib
import os
import struct
import sys


def pack(corpus, seeds, max_bytes=2048):
    entries = []
    for name in sorted(os.listdir(corpus)):
        with open(os.path.join(corpus, name), "rb") as f:
            data = f.read()
        if len(data) <= max_bytes:
            entries.append(data)
    with open(seeds, "wb") as out:
        for data in entries:
            out.write(struct.pack("<I", len(data)))
            out.write(data)
    print(f"{seeds}: {len(entries)} inputs")


def unpack(seeds, corpus):
    os.makedirs(corpus, exist_ok=True)
    with open(seeds, "rb") as f:
        blob = f.read()
    at = 0
    while at < len(blob):
        (length,) = struct.unpack_from("<I", blob, at)
        data = blob[at + 4 : at + 4 + length]
        at += 4 + length
        with open(os.path.join(corpus, hashlib.sha1(data).hexdigest()), "wb") as out:
            out.write(data)


if __name__ == "__main__":
    if sys.argv[1] == "pack":
        pack(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2048)
    else:
        unpack(sys.argv[2], sys.argv[3])
