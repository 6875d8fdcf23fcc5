"""Replaces the one occurrence of OLD by NEW (same length) in FILE, in place: an edit of the
manifest embedded in a code object that keeps every offset. Fails unless OLD occurs once.
Usage: replace_bytes.py FILE OLD NEW [--digest]. With --digest the edit also rewrites the
manifest's digest (the global dsv4_manifest_digest, found by its value) to the edited text's, as
a forger would: what the runtime then still refuses, it refuses for another reason."""
import sys

MANIFEST_START = b'{"format":'


def fnv1a64(data):
    """include/dsv4/ABI/ManifestDigest.h's digest."""
    digest = 0xcbf29ce484222325
    for byte in data:
        digest = ((digest ^ byte) * 0x100000001b3) & 0xffffffffffffffff
    return digest


def digest_bytes(data):
    """The little-endian digest of the manifest text embedded in `data` (up to its NUL)."""
    start = data.index(MANIFEST_START)
    return fnv1a64(data[start:data.index(b"\0", start)]).to_bytes(8, "little")


def once(data, what, path):
    if data.count(what) != 1:
        sys.exit("replace_bytes: %r occurs %d times in %s (need once)"
                 % (what, data.count(what), path))


args = sys.argv[1:]
redigest = "--digest" in args
path, old, new = [a for a in args if a != "--digest"]
old, new = old.encode(), new.encode()
data = open(path, "rb").read()
once(data, old, path)
if len(old) != len(new):
    sys.exit("replace_bytes: '%s' and '%s' differ in length" % (old.decode(), new.decode()))
edited = data.replace(old, new)
if redigest:
    before, after = digest_bytes(data), digest_bytes(edited)
    once(edited, before, path)
    edited = edited.replace(before, after)
open(path, "wb").write(edited)
