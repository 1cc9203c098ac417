#!/bin/sh
# doc_check.sh: every section citation and case id in the code names
# something that exists in doc/.
# Section numbers (§) below refer to doc/protocol.md in the examples.
#
# Citations are a section sign and a number, e.g. "§3.4" or "§12".
#   - "NAME.md §N" must match a heading numbered N in doc/NAME.md (a line
#     "## N. Title" or "### N Title").
#   - A bare "§N" on a line that names NAME.md before it belongs to that
#     doc ("terminal.md §9, §11": both terminal.md).
#   - Any other bare "§N" belongs to the file's default doc, set by a line
#         Section numbers (§) refer to doc/NAME.md unless another doc is named
#     in the opening comment; the same sentence further down changes the
#     default from that line on (mosh.h: one per section). "below" may
#     follow "(§)". A file with no default line fails on every bare §.
#   - "RFC NNNN §N" cites an RFC, not our docs, and is skipped.
#   - In doc/*.md itself a bare § refers to the same doc.
# Case ids: the first field of a case table row in a test program
# ({ "P15", ...) and every renderer case (D and one or two digits, as a
# word of its own) anywhere must be defined by a table row "| ID |" in
# doc/*.md.
#
# Each citation and each case id is one check; failures name file:line.
cd "$(dirname "$0")/.." || exit 1
LC_ALL=C
export LC_ALL

set -- *.c *.h test/*.c test/*.sh test/*.py README.md doc/*.md
files=
for f in "$@"; do
	[ -f "$f" ] && files="$files $f"
done
# shellcheck disable=SC2086
awk -v DOCS="$(echo doc/*.md)" '
function heading(f, line,    m, n) {
	# "## 3. Title", "### 3.4 Title", "#### 14.1 Title"
	if (match(line, /^#+ [0-9]+(\.[0-9]+)*/) == 0) {
		return
	}
	m = substr(line, RSTART, RLENGTH)
	sub(/^#+ /, "", m)
	n = f
	sub(/^doc\//, "", n)
	head[n, m] = 1
}
function pass() {
	np++
}
function fail(msg) {
	nf++
	printf "FAIL %s:%d: %s\n", FILENAME, FNR, msg
}
# The doc named last in s, or "".
function lastdoc(s,    d) {
	d = ""
	while (match(s, /[a-z][a-z]*\.md/)) {
		d = substr(s, RSTART, RLENGTH)
		s = substr(s, RSTART + RLENGTH)
	}
	return d
}
function cite(line,    pre, num, doc, rest) {
	rest = line
	pre = ""
	while (match(rest, /§[0-9][0-9]*(\.[0-9][0-9]*)*/)) {
		pre = pre substr(rest, 1, RSTART - 1)
		num = substr(rest, RSTART, RLENGTH)
		sub(/^§/, "", num)
		rest = substr(rest, RSTART + RLENGTH)
		if (pre ~ /RFC [0-9][0-9]* $/) {
			pre = pre "§" num
			continue
		}
		doc = lastdoc(pre)
		if (doc == "") {
			doc = dflt
		}
		pre = pre "§" num
		if (doc == "") {
			fail("§" num ": no doc named, and no default line " \
			    "in the file")
		} else if (!((doc, "") in have)) {
			fail("§" num ": " doc " is not in doc/")
		} else if (!((doc, num) in head)) {
			fail(doc " §" num ": no heading " num " in doc/" doc)
		} else {
			pass()
		}
	}
}
function caseid(id) {
	if ((id) in cases) {
		pass()
	} else {
		fail("case " id " is not defined in doc/")
	}
}
BEGIN {
	# First pass: the headings and case rows of doc/*.md.
	n = split(DOCS, d, " ")
	for (i = 1; i <= n; i++) {
		name = d[i]
		sub(/^doc\//, "", name)
		have[name, ""] = 1
		while ((getline line < d[i]) > 0) {
			heading(d[i], line)
			if (match(line, /^\| [A-Z][0-9]+ \|/)) {
				id = substr(line, 3, RLENGTH - 4)
				cases[id] = 1
			}
		}
		close(d[i])
	}
}
FNR == 1 {
	dflt = ""
	if (FILENAME ~ /^doc\/.*\.md$/) {
		dflt = FILENAME
		sub(/^doc\//, "", dflt)
	}
	# A default line in the opening comment holds from the first line.
	while ((getline line < FILENAME) > 0) {
		if (match(line, /Section numbers \(§\) (below )?refer to doc\/[a-z]+\.md/)) {
			m = substr(line, RSTART, RLENGTH)
			sub(/.*doc\//, "", m)
			dflt = m
			break
		}
		if (index(line, "*/") > 0) {
			break
		}
	}
	close(FILENAME)
}
{
	if (match($0, /Section numbers \(§\) (below )?refer to doc\/[a-z]+\.md/)) {
		m = substr($0, RSTART, RLENGTH)
		sub(/.*doc\//, "", m)
		dflt = m
	}
	if (index($0, "§") > 0) {
		cite($0)
	}
	if (FILENAME ~ /^test\/.*\.c$/ && \
	    match($0, /^[ \t]*\{ "[A-Z][0-9]+",/)) {
		m = substr($0, RSTART, RLENGTH)
		sub(/^[ \t]*\{ "/, "", m)
		sub(/",$/, "", m)
		caseid(m)
	}
	rest = $0
	while (match(rest, /(^|[^A-Za-z0-9_+])D[0-9][0-9]?/)) {
		m = substr(rest, RSTART, RLENGTH)
		rest = substr(rest, RSTART + RLENGTH)
		if (rest ~ /^[A-Za-z0-9_]/) {
			continue
		}
		sub(/^[^D]/, "", m)
		if (FILENAME ~ /^test\/.*\.c$/ && \
		    $0 ~ /^[ \t]*\{ "D[0-9]+",/) {
			continue	# counted as a table row above
		}
		caseid(m)
	}
}
END {
	printf "%d passed, %d failed\n", np, nf
	exit nf != 0
}
' $files
