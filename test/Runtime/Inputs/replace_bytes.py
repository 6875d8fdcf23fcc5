"""Replaces the one occurrence of OLD by NEW (same length) in FILE, in place: an edit of the
manifest embedded in a code object that keeps every offset. Fails unless OLD occurs once."""
import sys

path, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
data = open(path, "rb").read()
if len(old) != len(new) or data.count(old) != 1:
    sys.exit("replace_bytes: '%s' occurs %d times in %s (need once, same length as the new)"
             % (sys.argv[2], data.count(old), path))
open(path, "wb").write(data.replace(old, new))
