#!/usr/bin/env python3
"""git merge driver for .po/.pot files: union of entries by (msgctxt, msgid) and of their
references; ours wins for a translation both sides set.

Line-based merges of translation files lose entry boundaries (two branches that append
entries at the end interleave their lines, and Odoo's reader then fails on an entry with no
``#. module:`` comment). `.gitattributes` names this driver ``pounion``; enable it once per
clone (polib comes with Odoo's virtualenv):

    git config merge.pounion.driver "$CAMPOTECH_ODOO_PYTHON tools/po_merge.py %O %A %B"

Without it git merges the files as text.
"""

import sys

import polib


def load(path):
    try:
        return polib.pofile(path, wrapwidth=78)
    except (OSError, ValueError):  # no base: a file both sides added
        return polib.POFile(wrapwidth=78)


def key(entry):
    return (entry.msgctxt, entry.msgid)


def merge(base, ours, theirs):
    """Entries theirs added join ours; shared entries gain theirs' references."""
    in_base = {key(entry) for entry in base}
    mine = {key(entry): entry for entry in ours}
    for entry in theirs:
        kept = mine.get(key(entry))
        if kept is None:
            if key(entry) not in in_base:  # not one ours deleted
                ours.append(entry)
            continue
        for occurrence in entry.occurrences:
            if occurrence not in kept.occurrences:
                kept.occurrences.append(occurrence)
        lines = kept.comment.splitlines()
        for line in entry.comment.splitlines():
            if line not in lines:
                lines.append(line)
        kept.comment = "\n".join(lines)
        if not kept.msgstr and entry.msgstr:
            kept.msgstr = entry.msgstr
    return ours


def main(argv):
    base, ours, theirs = argv[1:4]
    merge(load(base), load(ours), load(theirs)).save(ours)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
