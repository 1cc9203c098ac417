/*
 * vt_test.c: the emulator against terminal.md §14.1 (every conformance case
 * of test/cases/cases.py, expected results transcribed from the spec), the
 * UTF-8 vectors of §2, the width table against glibc's, the user-input
 * translator of §10, and bounds: huge parameters and counts, capped OSC
 * strings, extreme resizes, random input; the fast paths against the state
 * machine alone (random text fed whole, byte by byte and in chunks; edge
 * cases split at every point), and the row pool under long scrolls with
 * snapshots alive.
 *
 * Section numbers (§) refer to doc/terminal.md unless another doc is named.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mosh.h"
#include "test.h"

/*
 * A case: size, input, then an optional resize, and the expected facts, one
 * per line, fields separated by '|':
 *   row|y|text        row y printed one cell per character ('.' = empty
 *                     cell, fallback cells as U+00A0 + marks), trailing
 *                     empty cells left out
 *   cursor|y|x|p      cursor and the pending-wrap flag
 *   wrap|mask         the rows (bit y) whose wrap flag is set
 *   cell|y|x|text|sgr|flag   one cell: text, rendition as §6.2 SGR ("-" =
 *                     unchecked), flag wide/fallback/wrap or "-"
 *   alldefault        every cell has the default rendition
 *   rend|sgr          the current rendition
 *   modes|bits|mouse|encoding
 *   region|top|bottom
 *   reply|bytes       what the application got back
 *   title|title|icon|clipboard|initialized
 *   bell|n
 *   newbg|bg          cells added by the resize have background bg (40+n)
 */
struct vcase {
	const char *id;
	int w, h;
	const char *in;
	size_t inlen;
	int w2, h2;		/* resize after the input, 0 = none */
	const char *facts;
	int ext;		/* server_ext set (area "ext") */
};

/*
 * The conformance cases of terminal.md §14.1: their size, input and resize
 * are read from test/cases/cases.py, the expected facts are here, by id.
 */
#define CASES_PY "test/cases/cases.py"
#define NCASES 107

struct vexpect {
	const char *id;
	const char *facts;
};

static const struct vexpect expect[] = {
	{ "P1",
	    "row|0|ab\n"
	    "row|1|cd\n"
	    "row|2|\n"
	    "cursor|1|2|0" },
	{ "P2",
	    "row|0|a\xef\xbf\xbd" "b\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "P3",
	    "row|0|\xef\xbf\xbd" "A\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "P4",
	    "row|0|\xef\xbf\xbd\xef\xbf\xbdZ\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "P5",
	    "row|0|\xef\xbf\xbd\xef\xbf\xbdZ\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "P6",
	    "row|0|\xef\xbf\xbdZ\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "P7",
	    "row|0|\xef\xbf\xbd..X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|0" },
	{ "P8",
	    "row|0|a..b\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|0" },
	{ "P9",
	    "row|0|a\xef\xbf\xbd" "2Cb\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|5|0" },
	{ "P10",
	    "row|0|AB\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "P11",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0" },
	{ "P12",
	    "row|0|.X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "P13",
	    "row|0|.X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "P14",
	    "row|0|ab\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "P15",
	    "row|0|abcdX\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|1\n"
	    "wrap|0" },
	{ "P16",
	    "row|0|qqq\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "W1",
	    "row|0|abcde\n"
	    "row|1|fg\n"
	    "row|2|\n"
	    "cursor|1|2|0\n"
	    "wrap|1" },
	{ "W2",
	    "row|0|Xbcde\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "wrap|0" },
	{ "W3",
	    "row|0|abcXe\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|0\n"
	    "wrap|0" },
	{ "W4",
	    "row|0|abcde\n"
	    "row|1|X\n"
	    "row|2|\n"
	    "cursor|1|1|0\n"
	    "wrap|1\n"
	    "cell|0|4|e|-|wrap\n"
	    "cell|1|0|X|\033[0;1m|-\n"
	    "rend|\033[0;1m" },
	{ "W5",
	    "row|0|abcde\n"
	    "row|1|X\n"
	    "row|2|\n"
	    "cursor|1|1|0\n"
	    "wrap|1" },
	{ "W6",
	    "row|0|abcdg\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|1\n"
	    "wrap|0" },
	{ "W7",
	    "row|0|fghij\n"
	    "row|1|k\n"
	    "cursor|1|1|0\n"
	    "wrap|1" },
	{ "W8",
	    "row|0|abcdX\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|1\n"
	    "wrap|0" },
	{ "U1",
	    "row|0|a\xe6\xbc\xa2.b\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|0\n"
	    "cell|0|1|\xe6\xbc\xa2|-|wide" },
	{ "U2",
	    "row|0|abcde\n"
	    "row|1|\xe6\xbc\xa2\n"
	    "row|2|\n"
	    "cursor|1|2|0\n"
	    "wrap|0\n"
	    "cell|1|0|\xe6\xbc\xa2|-|wide" },
	{ "U3",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "alldefault" },
	{ "U4",
	    "row|0|e\xcc\x81x\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "alldefault" },
	{ "U5",
	    "row|0|\xc2\xa0\xcc\x81X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "cell|0|0|\xc2\xa0\xcc\x81|-|fallback" },
	{ "U6",
	    "row|0|ab\xcc\x81" "c\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "alldefault" },
	{ "U7",
	    "row|0|ab\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "U8",
	    "row|0|a\xef\xbb\xbf" "b\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "alldefault" },
	{ "U9",
	    "row|0|a\xc2\xa0" "b\xc2\xad" "c\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|5|0" },
	{ "U10",
	    "row|0|abcde\xe6\xbc\xa2\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|5|1\n"
	    "cell|0|5|\xe6\xbc\xa2|-|wide" },
	{ "C1",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|.........X\n"
	    "cursor|3|9|1\n"
	    "wrap|0" },
	{ "C2",
	    "row|0|\n"
	    "row|1|....X\n"
	    "row|2|\n"
	    "row|3|\n"
	    "cursor|1|5|0" },
	{ "C3",
	    "row|0|..X\n"
	    "row|1|...YZ\n"
	    "row|2|\n"
	    "row|3|\n"
	    "cursor|1|5|0" },
	{ "C4",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|\n"
	    "row|5|\n"
	    "cursor|0|1|0\n"
	    "region|2|4" },
	{ "C5",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|\n"
	    "row|5|\n"
	    "cursor|2|1|0\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR+FB_M_ORIGIN|0|0\n"
	    "region|2|4" },
	{ "C6",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|X\n"
	    "row|3|\n"
	    "row|4|Y\n"
	    "row|5|\n"
	    "cursor|4|1|0\n"
	    "region|2|4" },
	{ "C7",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|X\n"
	    "row|3|\n"
	    "row|4|\n"
	    "row|5|\n"
	    "cursor|2|1|0\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR|0|0\n"
	    "region|2|4" },
	{ "C8",
	    "row|0|ab\n"
	    "row|1|c.e\n"
	    "row|2|.d\n"
	    "row|3|\n"
	    "cursor|1|3|0" },
	{ "C9",
	    "row|0|X\n"
	    "row|1|a\n"
	    "row|2|b\n"
	    "cursor|0|1|0" },
	{ "C10",
	    "row|0|a\n"
	    "row|1|.b\n"
	    "row|2|..c\n"
	    "row|3|...d\n"
	    "cursor|3|4|0" },
	{ "C11",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0" },
	{ "C12",
	    "row|0|1\n"
	    "row|1|2\n"
	    "row|2|3\n"
	    "row|3|4\n"
	    "row|4|X\n"
	    "cursor|4|1|0\n"
	    "region|1|3" },
	{ "C13",
	    "row|0|abcd\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "cursor|0|4|0" },
	{ "T1",
	    "row|0|........A.......B\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|17|0" },
	{ "T2",
	    "row|0|...................X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|19|1" },
	{ "T3",
	    "row|0|...X...............Y\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|19|1" },
	{ "T4",
	    "row|0|................X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|17|0" },
	{ "T5",
	    "row|0|Y.......X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0" },
	{ "T6",
	    "row|0|................X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|17|0" },
	{ "E1",
	    "row|0|abc\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "E2",
	    "row|0|....efgh\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "E3",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0" },
	{ "E4",
	    "row|0|..aa\n"
	    "row|1|bb\n"
	    "row|2|\n"
	    "row|3|\n"
	    "cursor|0|1|0" },
	{ "E5",
	    "row|0|ab\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "E6",
	    "row|0|ab...fgh\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0" },
	{ "E7",
	    "row|0|X\n"
	    "row|1|\n"
	    "cursor|0|1|0\n"
	    "cell|0|1||\033[0;44m|-\n"
	    "cell|0|2||\033[0;44m|-\n"
	    "cell|0|3||\033[0;44m|-\n"
	    "cell|1|0||\033[0;44m|-\n"
	    "cell|1|1||\033[0;44m|-\n"
	    "cell|1|2||\033[0;44m|-\n"
	    "cell|1|3||\033[0;44m|-" },
	{ "E8",
	    "row|0|EEEE\n"
	    "row|1|EEEE\n"
	    "cursor|0|2|0\n"
	    "cell|0|0|E|\033[0;44m|-\n"
	    "cell|0|1|E|\033[0;44m|-\n"
	    "cell|0|2|E|\033[0;44m|-\n"
	    "cell|0|3|E|\033[0;44m|-\n"
	    "cell|1|0|E|\033[0;44m|-\n"
	    "cell|1|1|E|\033[0;44m|-\n"
	    "cell|1|2|E|\033[0;44m|-\n"
	    "cell|1|3|E|\033[0;44m|-\n"
	    "rend|\033[0;44m" },
	{ "I1",
	    "row|0|a..bcdef\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0" },
	{ "I2",
	    "row|0|adef\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0" },
	{ "I3",
	    "row|0|aXYbcdef\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR|0|0" },
	{ "I4",
	    "row|0|1\n"
	    "row|1|2\n"
	    "row|2|\n"
	    "row|3|3\n"
	    "row|4|5\n"
	    "cursor|2|0|0\n"
	    "region|1|3" },
	{ "I5",
	    "row|0|1\n"
	    "row|1|2\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|5\n"
	    "cursor|2|0|0\n"
	    "region|1|3" },
	{ "I6",
	    "row|0|1\n"
	    "row|1|2\n"
	    "row|2|3\n"
	    "row|3|4\n"
	    "row|4|5\n"
	    "cursor|0|0|0\n"
	    "region|1|3" },
	{ "I7",
	    "row|0|1\n"
	    "row|1|4\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|5\n"
	    "cursor|0|0|0\n"
	    "region|1|3" },
	{ "I8",
	    "row|0|1\n"
	    "row|1|\n"
	    "row|2|2\n"
	    "row|3|3\n"
	    "row|4|5\n"
	    "cursor|0|0|0\n"
	    "region|1|3" },
	{ "I9",
	    "row|0|ab\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|\n"
	    "cursor|0|2|0\n"
	    "region|0|4" },
	{ "M1",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "modes|FB_M_AUTOWRAP|0|0" },
	{ "M2",
	    "row|0|A\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "alldefault\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR+FB_M_REVERSE|0|0" },
	{ "M3",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR+FB_M_FOCUS+FB_M_PASTE|1002|1006" },
	{ "M4",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR|0|0" },
	{ "M5",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "modes|FB_M_AUTOWRAP+FB_M_CURSOR|0|0" },
	{ "M6",
	    "row|0|abcd\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|4|0" },
	{ "M7",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "modes|FB_M_APPCURSOR+FB_M_AUTOWRAP+FB_M_CURSOR+FB_M_PASTE|0|0" },
	{ "S1",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "cell|0|0|X|\033[0;1;4;31;42m|-\n"
	    "rend|\033[0;1;4;31;42m" },
	{ "S2",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "cell|0|0|X|\033[0;38;5;9;48;5;10m|-\n"
	    "rend|\033[0;38;5;9;48;5;10m" },
	{ "S3",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "cell|0|0|X|\033[0;38;5;196;48;5;21m|-\n"
	    "rend|\033[0;38;5;196;48;5;21m" },
	{ "S4",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "cell|0|0|X|\033[0;38;2;10;20;30;48;2;200;100;0m|-\n"
	    "rend|\033[0;38;2;10;20;30;48;2;200;100;0m" },
	{ "S5",
	    "row|0|X\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "cell|0|0|X|\033[0;5m|-\n"
	    "rend|\033[0;5m" },
	{ "S6",
	    "row|0|AB\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "cell|0|0|A|\033[0;1m|-" },
	{ "S7",
	    "row|0|AB\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "cell|0|0|A|\033[0;31m|-" },
	{ "S8",
	    "row|0|ABC\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|3|0\n"
	    "cell|0|0|A|\033[0;7;31;44m|-\n"
	    "cell|0|1|B|\033[0;44m|-" },
	{ "S9",
	    "row|0|AB\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "cell|0|0|A|\033[0;33m|-\n"
	    "cell|0|1|B|\033[0;33m|-\n"
	    "rend|\033[0;33m" },
	{ "R1",
	    "row|0|abY\n"
	    "row|1|\n"
	    "row|2|....X\n"
	    "row|3|\n"
	    "cursor|0|3|0\n"
	    "cell|0|0|a|\033[0;1;31m|-\n"
	    "cell|0|1|b|\033[0;1;31m|-\n"
	    "cell|0|2|Y|\033[0;1;31m|-\n"
	    "cell|2|4|X|\033[0;4m|-\n"
	    "rend|\033[0;1;31m" },
	{ "R2",
	    "row|0|Yb\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "cursor|0|1|0\n"
	    "cell|0|1|b|\033[0;1m|-" },
	{ "R3",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|...X\n"
	    "row|3|\n"
	    "cursor|2|4|0\n"
	    "alldefault\n"
	    "modes|FB_M_CURSOR|0|0\n"
	    "region|0|3" },
	{ "R4",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title||T||1\n"
	    "bell|1" },
	{ "G1",
	    "row|0|qqqqq\n"
	    "row|1|\n"
	    "row|2|\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\n"
	    "cursor|2|5|0" },
	{ "G2",
	    "row|0|qqqqq\n"
	    "row|1|\n"
	    "row|2|\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\n"
	    "cursor|2|5|0" },
	{ "Q1",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "cursor|1|2|0\n"
	    "reply|\033[0n\033[2;3R" },
	{ "Q2",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "reply|\033[?62c\033[?62c\033[>1;10;0c" },
	{ "Q3",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|\n"
	    "row|5|\n"
	    "cursor|3|0|0\n"
	    "reply|\033[4;1R" },
	{ "O1",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title|hi|hi||1" },
	{ "O2",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title|wt|ic||1" },
	{ "O3",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title|||aGk=|0" },
	{ "O9",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title|||aGk=|0" },
	{ "O4",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title||||0" },
	{ "O5",
	    "row|0|cd\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|2|0\n"
	    "title|ab|||1" },
	{ "O6",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title|abc|||1" },
	{ "O7",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|0|0\n"
	    "title|x|||1\n"
	    "bell|2" },
	{ "O8",
	    "row|0|L\n"
	    "row|1|\n"
	    "row|2|\n"
	    "cursor|0|1|0\n"
	    "title||||0" },
	{ "Z1",
	    "row|0|012345\n"
	    "row|1|abcdef\n"
	    "cursor|1|5|0\n"
	    "region|0|1" },
	{ "Z2",
	    "row|0|0123456789\n"
	    "row|1|abcdef\n"
	    "row|2|line2\n"
	    "row|3|line3\n"
	    "row|4|\n"
	    "cursor|3|5|0\n"
	    "region|0|4\n"
	    "newbg|44" },
	{ "Z3",
	    "row|0|\n"
	    "row|1|\n"
	    "row|2|\n"
	    "row|3|\n"
	    "row|4|\n"
	    "cursor|0|0|0\n"
	    "region|0|4" },
};

/* More cases in the same form, checked against upstream's emulator. */
#define IN(s) s, sizeof(s) - 1
static const struct vcase extra[] = {
	{ "X1", 10, 2, IN("\033[1;3;4;5;7;8mA\033[22mB\033[23mC\033[24mD"
	    "\033[25mE\033[27mF\033[28mG"), 0, 0,
	    "row|0|ABCDEFG\n"
	    "cell|0|0|A|\033[0;1;3;4;5;7;8m|-\n"
	    "cell|0|1|B|\033[0;3;4;5;7;8m|-\n"
	    "cell|0|2|C|\033[0;4;5;7;8m|-\n"
	    "cell|0|3|D|\033[0;5;7;8m|-\n"
	    "cell|0|4|E|\033[0;7;8m|-\n"
	    "cell|0|5|F|\033[0;8m|-\n"
	    "cell|0|6|G|\033[0m|-", 0 },
	/* DCH moves the wrap flag off the last cell, as upstream does. */
	{ "X2", 4, 3, IN("abcdef\033[1;2H\033[P"), 0, 0,
	    "row|0|acd\n"
	    "wrap|0\n"
	    "cell|0|2|d|-|wrap", 0 },
	/* Erasing the last cell clears the row's wrap flag. */
	{ "X3", 4, 3, IN("abcdef\033[1;4H\033[K"), 0, 0,
	    "row|0|abc\n"
	    "wrap|0", 0 },
	/* 24-bit components overflow as upstream's 25-bit field does. */
	{ "X4", 4, 3, IN("\033[38;2;256;256;999mX"), 0, 0,
	    "cell|0|0|X|\033[0;38;2;1;3;231m|-", 0 },
};

/* terminal.md §6.2: a rendition as one SGR sequence. */
static void
sgr_str(const struct fb_rend *r, char *s, size_t n)
{
	static const struct {
		uint32_t bit;
		const char *code;
	} a[] = { { FB_BOLD, ";1" }, { FB_ITALIC, ";3" },
	    { FB_UNDERLINE, ";4" }, { FB_BLINK, ";5" }, { FB_INVERSE, ";7" },
	    { FB_INVISIBLE, ";8" } };
	size_t i, k;
	uint32_t c[2];
	int base;

	k = (size_t)snprintf(s, n, "\033[0");
	for (i = 0; i < LEN(a); i++) {
		if (r->attr & a[i].bit) {
			k += (size_t)snprintf(s + k, n - k, "%s", a[i].code);
		}
	}
	c[0] = r->fg;
	c[1] = r->bg;
	for (i = 0; i < 2; i++) {
		base = i == 0 ? 30 : 40;
		if (c[i] & FB_RGB) {
			k += (size_t)snprintf(s + k, n - k, ";%d;2;%u;%u;%u",
			    base + 8, c[i] >> 16 & 0xff, c[i] >> 8 & 0xff,
			    c[i] & 0xff);
		} else if (c[i] > (uint32_t)base + 7) {
			k += (size_t)snprintf(s + k, n - k, ";%d;5;%u",
			    base + 8, c[i] - (uint32_t)base);
		} else if (c[i] != 0) {
			k += (size_t)snprintf(s + k, n - k, ";%u", c[i]);
		}
	}
	snprintf(s + k, n - k, "m");
}

/* A cell's print form for the tables: '.' for empty. */
static size_t
cell_text(const struct fb_cell *c, char *s)
{
	size_t n = 0;

	if (c->len == 0) {
		s[0] = '.';
		return 1;
	}
	if (c->flags & FB_FALLBACK) {
		memcpy(s, "\xc2\xa0", 2);
		n = 2;
	}
	memcpy(s + n, c->c, c->len);
	return n + c->len;
}

static void
row_text(const struct fb *fb, int y, char *s)
{
	size_t n = 0, end = 0;
	int x;

	for (x = 0; x < fb->w; x++) {
		n += cell_text(fb_cell(fb, y, x), s + n);
		if (fb_cell(fb, y, x)->len != 0) {
			end = n;
		}
	}
	s[end] = 0;
}

static int
wrap_mask(const struct fb *fb)
{
	int y, m = 0;

	for (y = 0; y < fb->h && y < 31; y++) {
		if (fb_cell(fb, y, fb->w - 1)->flags & FB_WRAP) {
			m |= 1 << y;
		}
	}
	return m;
}

static unsigned
mode_bits(const char *s)
{
	static const struct {
		const char *name;
		unsigned bit;
	} m[] = { { "FB_M_AUTOWRAP", FB_M_AUTOWRAP },
	    { "FB_M_ORIGIN", FB_M_ORIGIN }, { "FB_M_CURSOR", FB_M_CURSOR },
	    { "FB_M_REVERSE", FB_M_REVERSE }, { "FB_M_PASTE", FB_M_PASTE },
	    { "FB_M_FOCUS", FB_M_FOCUS },
	    { "FB_M_APPCURSOR", FB_M_APPCURSOR } };
	unsigned bits = 0;
	size_t i;

	for (i = 0; i < LEN(m); i++) {
		if (strstr(s, m[i].name) != NULL) {
			bits |= m[i].bit;
		}
	}
	return bits;
}

/* Split line into at most 8 fields at '|'; returns their number. */
static int
fields(char *line, char **f)
{
	int n = 0;

	f[n++] = line;
	while ((line = strchr(line, '|')) != NULL && n < 8) {
		*line++ = 0;
		f[n++] = line;
	}
	return n;
}

static int
check_fact(const struct vcase *c, const struct fb *fb, const struct vt *vt,
    char *line)
{
	char *f[8], got[8192], want[64];
	int n = fields(line, f), x, y, ok = 1;
	const struct fb_cell *cell;
	size_t k;

	if (strcmp(f[0], "row") == 0 && n == 3) {
		row_text(fb, atoi(f[1]), got);
		ok = strcmp(got, f[2]) == 0;
	} else if (strcmp(f[0], "cursor") == 0 && n == 4) {
		snprintf(got, sizeof(got), "%d|%d|%d", fb->cy, fb->cx,
		    fb->wrap_pending != 0);
		snprintf(want, sizeof(want), "%s|%s|%s", f[1], f[2], f[3]);
		ok = strcmp(got, want) == 0;
	} else if (strcmp(f[0], "wrap") == 0 && n == 2) {
		snprintf(got, sizeof(got), "%d", wrap_mask(fb));
		ok = atoi(f[1]) == wrap_mask(fb);
	} else if (strcmp(f[0], "cell") == 0 && n == 6) {
		cell = fb_cell(fb, atoi(f[1]), atoi(f[2]));
		k = cell->len == 0 ? 0 : cell_text(cell, got);
		got[k] = 0;
		ok = strcmp(got, f[3]) == 0;
		sgr_str(&cell->r, got, sizeof(got));
		ok = ok && (strcmp(f[4], "-") == 0 || strcmp(got, f[4]) == 0);
		if (strcmp(f[5], "wide") == 0) {
			ok = ok && (cell->flags & FB_WIDE);
		} else if (strcmp(f[5], "fallback") == 0) {
			ok = ok && (cell->flags & FB_FALLBACK);
		} else if (strcmp(f[5], "wrap") == 0) {
			ok = ok && (cell->flags & FB_WRAP);
		} else {
			ok = ok && !(cell->flags & (FB_WIDE | FB_FALLBACK));
		}
	} else if (strcmp(f[0], "alldefault") == 0) {
		for (y = 0; y < fb->h; y++) {
			for (x = 0; x < fb->w; x++) {
				cell = fb_cell(fb, y, x);
				ok = ok && cell->r.fg == 0 && cell->r.bg == 0 &&
				    cell->r.attr == 0;
			}
		}
	} else if (strcmp(f[0], "rend") == 0 && n == 2) {
		sgr_str(&fb->rend, got, sizeof(got));
		ok = strcmp(got, f[1]) == 0;
	} else if (strcmp(f[0], "modes") == 0 && n == 4) {
		ok = (fb->modes & ~FB_M_ALTSCROLL) == mode_bits(f[1]) &&
		    fb->mouse_mode == atoi(f[2]) && fb->mouse_enc == atoi(f[3]);
	} else if (strcmp(f[0], "region") == 0 && n == 3) {
		ok = fb->top == atoi(f[1]) && fb->bottom == atoi(f[2]);
	} else if (strcmp(f[0], "reply") == 0 && n == 2) {
		ok = vt->reply.len == strlen(f[1]) &&
		    memcmp(vt->reply.p, f[1], vt->reply.len) == 0;
	} else if (strcmp(f[0], "title") == 0 && n == 5) {
		ok = fb->title_len == strlen(f[1]) &&
		    memcmp(fb->title, f[1], fb->title_len) == 0 &&
		    fb->icon_len == strlen(f[2]) &&
		    memcmp(fb->icon, f[2], fb->icon_len) == 0 &&
		    (fb->clip ? fb->clip->len : 0) == strlen(f[3]) &&
		    (fb->clip == NULL ||
		    memcmp(fb->clip->s, f[3], fb->clip->len) == 0) &&
		    fb->title_init == atoi(f[4]);
	} else if (strcmp(f[0], "bell") == 0 && n == 2) {
		ok = fb->bell == (uint32_t)atoi(f[1]);
	} else if (strcmp(f[0], "newbg") == 0 && n == 2) {
		for (y = 0; y < fb->h; y++) {
			for (x = y < c->h ? c->w : 0; x < fb->w; x++) {
				ok = ok && fb_cell(fb, y, x)->r.bg ==
				    (uint32_t)atoi(f[1]);
			}
		}
	} else {
		fprintf(stderr, "%s: bad fact %s\n", c->id, f[0]);
		return 0;
	}
	if (!ok) {
		fprintf(stderr, "%s: %s|%s|%s... wrong", c->id, f[0],
		    n > 1 ? f[1] : "", n > 2 ? f[2] : "");
		if (strcmp(f[0], "row") == 0) {
			fprintf(stderr, " (got \"%s\")", got);
		}
		fprintf(stderr, "\n");
	}
	return ok;
}

static int
run_case(const struct vcase *c)
{
	struct fb fb;
	struct vt vt;
	char line[4096], *nl;
	const char *p;
	int ok = 1;
	size_t n;

	if (fb_init(&fb, c->w, c->h) == -1) {
		fprintf(stderr, "%s: fb_init\n", c->id);
		return 0;
	}
	vt_init(&vt, &fb);
	vt.server_ext = c->ext;
	vt_feed(&vt, (const uint8_t *)c->in, c->inlen);
	if (c->w2 != 0 && vt_resize(&vt, c->w2, c->h2) == -1) {
		fprintf(stderr, "%s: resize\n", c->id);
		ok = 0;
	}
	for (p = c->facts; *p != 0; p += n + (p[n] == '\n')) {
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line)) {
			return 0;
		}
		memcpy(line, p, n);
		line[n] = 0;
		ok &= check_fact(c, &fb, &vt, line);
	}
	vt_free(&vt);
	fb_free(&fb);
	return ok;
}

/*
 * One line of cases.py: (id, area, title, W, H, input, [focus]) or, for a
 * resize case, (id, area, title, W, H, input, [focus], W2, H2).
 */
static int
parse_case(const char *line, struct vcase *c, char *id, size_t idcap,
    uint8_t *in, size_t incap)
{
	const char *p = line, *s;
	size_t n;

	memset(c, 0, sizeof(*c));
	if ((p = t_next_str(p, &s, &n)) == NULL || n >= idcap) {
		return -1;
	}
	memcpy(id, s, n);
	id[n] = 0;
	if ((p = t_next_str(p, &s, &n)) == NULL) {	/* area */
		return -1;
	}
	c->ext = n == 3 && memcmp(s, "ext", 3) == 0;
	if ((p = t_next_str(p, &s, &n)) == NULL ||	/* title */
	    sscanf(p, ",%d,%d,", &c->w, &c->h) != 2 ||
	    (p = t_next_str(p, &s, &n)) == NULL || n > incap) {
		return -1;
	}
	c->id = id;
	c->in = (const char *)in;
	c->inlen = t_unescape(s, n, in);
	if ((p = strchr(p, ']')) == NULL) {
		return -1;
	}
	if (sscanf(p, "],%d,%d", &c->w2, &c->h2) != 2) {
		c->w2 = c->h2 = 0;
	}
	return 0;
}

static void
test_cases(void)
{
	FILE *f;
	struct vcase c;
	char line[1024], id[8];
	uint8_t in[1024];
	int used[LEN(expect)] = { 0 };
	size_t i;
	int n = 0, pass = 0, ok;

	if ((f = fopen(CASES_PY, "r")) == NULL) {
		perror(CASES_PY);
		CHECK(0);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, " (\"", 3) != 0) {
			continue;
		}
		n++;
		ok = parse_case(line, &c, id, sizeof(id), in, sizeof(in)) == 0;
		CHECK(ok);
		if (!ok) {
			fprintf(stderr, "%s: cannot read: %s", CASES_PY, line);
			continue;
		}
		for (i = 0; i < LEN(expect); i++) {
			if (strcmp(expect[i].id, id) == 0) {
				break;
			}
		}
		CHECK(i < LEN(expect));
		if (i == LEN(expect)) {
			fprintf(stderr, "case %s: no expected facts\n", id);
			continue;
		}
		used[i]++;
		c.facts = expect[i].facts;
		ok = run_case(&c);
		CHECK(ok);
		if (ok) {
			pass++;
		} else {
			fprintf(stderr, "case %s failed\n", id);
		}
	}
	fclose(f);
	for (i = 0; i < LEN(expect); i++) {
		CHECK(used[i] == 1);
		if (used[i] != 1) {
			fprintf(stderr, "case %s: in %s %d times\n",
			    expect[i].id, CASES_PY, used[i]);
		}
	}
	printf("terminal.md §14.1: %d of %d cases pass\n", pass, n);
	CHECK(n == NCASES && LEN(expect) == NCASES);
	for (i = 0; i < LEN(extra); i++) {
		CHECK(run_case(&extra[i]));
	}
}

/* §2: bytes between 'x' and 'y' give this many U+FFFD. */
static void
test_utf8(void)
{
	static const struct {
		const char *in;
		int nbad;
	} v[] = {
		{ "\x80", 1 }, { "\xc0\x80", 2 }, { "\xc1\xbf", 2 },
		{ "\xc2", 1 }, { "\xe0\x80\x80", 2 }, { "\xe0\x9f\xbf", 2 },
		{ "\xf0\x80\x80\x80", 2 }, { "\xf4\x90\x80\x80", 1 },
		{ "\xf5\x80\x80\x80", 1 }, { "\xf8\x88\x80\x80\x80", 1 },
		{ "\xfc\x84\x80\x80\x80\x80", 1 }, { "\xfe", 1 }, { "\xff", 1 },
		{ "\xe4\xb8", 1 }, { "\xe4", 1 }, { "\xf0\x9f\x98", 1 },
		{ "\xed\xa0\x80", 2 }, { "\xed\xbf\xbf", 2 },
		{ "\xef\xbf\xbe", 0 },	/* U+FFFE: width -1, not shown */
	};
	struct fb fb;
	struct vt vt;
	char want[64], got[8192];
	size_t i;
	int k;

	for (i = 0; i < LEN(v); i++) {
		if (fb_init(&fb, 20, 2) == -1) {
			CHECK(0);
			return;
		}
		vt_init(&vt, &fb);
		vt_feed(&vt, (const uint8_t *)"x", 1);
		vt_feed(&vt, (const uint8_t *)v[i].in, strlen(v[i].in));
		vt_feed(&vt, (const uint8_t *)"y", 1);
		strcpy(want, "x");
		for (k = 0; k < v[i].nbad; k++) {
			strcat(want, "\xef\xbf\xbd");
		}
		strcat(want, "y");
		row_text(&fb, 0, got);
		CHECK(strcmp(got, want) == 0);
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "utf8 vector %zu: got %s\n", i, got);
		}
		vt_free(&vt);
		fb_free(&fb);
	}

	/* U+FEFF joins the previous cell. */
	if (fb_init(&fb, 20, 2) == 0) {
		vt_init(&vt, &fb);
		vt_feed(&vt, (const uint8_t *)"x\xef\xbb\xbfy", 5);
		CHECK(fb_cell(&fb, 0, 0)->len == 4);
		CHECK(memcmp(fb_cell(&fb, 0, 0)->c, "x\xef\xbb\xbf", 4) == 0);
		CHECK(fb.cx == 2);
		/* The same split across calls, byte by byte. */
		vt_feed(&vt, (const uint8_t *)"\r\n\xe6", 3);
		vt_feed(&vt, (const uint8_t *)"\xbc", 1);
		vt_feed(&vt, (const uint8_t *)"\xa2", 1);
		CHECK(fb_cell(&fb, 1, 0)->flags & FB_WIDE);
		CHECK(fb.cx == 2);
		vt_free(&vt);
		fb_free(&fb);
	}
}

/* The width table against glibc's, every code point. */
static void
test_width(void)
{
	FILE *f = fopen("test/cases/wcwidth-glibc-2.36.txt", "r");
	char line[256];
	unsigned lo, hi, cp;
	int w, want, nr = 0, bad = 0;

	CHECK(f != NULL);
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (line[0] == '#' ||
		    sscanf(line, "%x..%x %d", &lo, &hi, &w) != 3) {
			continue;
		}
		nr++;
		for (cp = lo; cp <= hi; cp++) {
			want = cp == 0 ? -1 : w;	/* §4.1: NUL */
			if (vt_width(cp) != want) {
				if (bad++ < 10) {
					fprintf(stderr, "U+%04X: %d, want %d\n",
					    cp, vt_width(cp), want);
				}
			}
		}
		CHECK(vt_width(lo) == (lo == 0 ? -1 : w));
		CHECK(vt_width(hi) == w || hi == 0);
	}
	fclose(f);
	CHECK(nr == 2038);
	CHECK(bad == 0);
	CHECK(vt_width(0x110000) == -1);
	CHECK(vt_width(0xffffffff) == -1);
	CHECK(vt_width('A') == 1 && vt_width(0x6f22) == 2);
	CHECK(vt_width(0x301) == 0 && vt_width(0xad) == 1);
	CHECK(vt_width(0x1f600) == 2 && vt_width(0x378) == -1);
}

static size_t
user(struct vt *vt, const char *in, uint8_t *out)
{
	size_t n = 0;

	while (*in != 0) {
		n += vt_user_byte(vt, (uint8_t)*in++, out + n);
	}
	return n;
}

/* §10. */
static void
test_user(void)
{
	struct fb fb;
	struct vt vt;
	uint8_t out[64];
	size_t n;

	if (fb_init(&fb, 10, 3) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vt, &fb);
	n = user(&vt, "a\033OA\033OD\033OP", out);
	CHECK_MEM(out, n, "a\033[A\033[D\033OP", 10);
	n = user(&vt, "\033\033OB", out);
	CHECK_MEM(out, n, "\033\033OB", 4);
	n = user(&vt, "\033O", out);
	CHECK(n == 1);		/* the O is held back */
	n = user(&vt, "C", out);
	CHECK_MEM(out, n, "[C", 2);
	vt_feed(&vt, (const uint8_t *)"\033[?1h", 5);
	n = user(&vt, "\033OA\033[A", out);
	CHECK_MEM(out, n, "\033OA\033[A", 6);
	/* DECSTR turns DECCKM off. */
	vt_feed(&vt, (const uint8_t *)"\033[!p", 4);
	n = user(&vt, "\033OB", out);
	CHECK_MEM(out, n, "\033[B", 3);
	vt_free(&vt);
	fb_free(&fb);
}

/* The parser alone, as predict.c uses it. */
static void
test_parse(void)
{
	struct vt_parser p;
	struct vt_act a[VT_MAX_ACTS];
	const char *s = "\033[12;3Hx\xe6\xbc\xa2\r\033M\xff" "A";
	int n, i, k = 0, types[32];
	uint32_t chs[32];

	vt_parser_init(&p);
	for (; *s != 0; s++) {
		n = vt_parse(&p, (uint8_t)*s, a);
		CHECK(n >= 0 && n <= VT_MAX_ACTS);
		for (i = 0; i < n && k < 32; i++, k++) {
			types[k] = a[i].type;
			chs[k] = a[i].ch;
			if (a[i].type == VT_ACT_CSI) {
				CHECK(vt_param(&p, 0, 1) == 12);
				CHECK(vt_param(&p, 1, 1) == 3);
				CHECK(vt_param(&p, 2, 7) == 7);
			}
		}
	}
	CHECK(k == 7);
	CHECK(types[0] == VT_ACT_CSI && chs[0] == 'H');
	CHECK(types[1] == VT_ACT_PRINT && chs[1] == 'x');
	CHECK(types[2] == VT_ACT_PRINT && chs[2] == 0x6f22);
	CHECK(types[3] == VT_ACT_EXECUTE && chs[3] == '\r');
	CHECK(types[4] == VT_ACT_ESC && chs[4] == 'M');
	CHECK(types[5] == VT_ACT_PRINT && chs[5] == 0xfffd);
	CHECK(types[6] == VT_ACT_PRINT && chs[6] == 'A');

	/* Parameters: 100 characters kept, >65535 absent, empty absent. */
	vt_parser_init(&p);
	vt_parse(&p, 0x1b, a);
	vt_parse(&p, '[', a);
	for (i = 0; i < 300; i++) {
		vt_parse(&p, i < 5 ? "99999"[i] : ';', a);
	}
	CHECK(p.nparam == VT_MAX_PARAM_CHARS);
	CHECK(vt_param(&p, 0, 4) == 4);
	CHECK(vt_parse(&p, 'm', a) == 1 && a[0].type == VT_ACT_CSI);
}

static int
invariants(const struct fb *fb)
{
	int y, x, ok = 1;
	const struct fb_cell *c;

	ok = ok && fb->cy >= 0 && fb->cy < fb->h && fb->cx >= 0 &&
	    fb->cx < fb->w;
	ok = ok && fb->top >= 0 && fb->top <= fb->bottom && fb->bottom < fb->h;
	for (y = 0; y < fb->h && ok; y++) {
		if (fb->rows[y]->w != fb->w) {
			return 0;	/* every row has the frame's width */
		}
		for (x = 0; x < fb->w; x++) {
			c = fb_cell(fb, y, x);
			if (c->len > FB_CELL_BYTES) {
				return 0;
			}
			if (c->len < FB_CELL_BYTES &&
			    memcmp(c->c + c->len, "\0\0\0\0\0\0\0\0\0\0\0\0\0"
			    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
			    FB_CELL_BYTES - c->len) != 0) {
				return 0;
			}
		}
	}
	return ok;
}

static void
feed_str(struct vt *vt, const char *s)
{
	vt_feed(vt, (const uint8_t *)s, strlen(s));
}

/* Huge counts and parameters, capped strings, extreme sizes. */
static void
test_bounds(void)
{
	static char big[70000];
	struct fb fb;
	struct vt vt;
	size_t i;
	char got[8192];

	if (fb_init(&fb, 80, 24) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vt, &fb);
	feed_str(&vt, "abc\033[999999999@\033[65535@\033[65535P\033[65535L"
	    "\033[65535M\033[65535S\033[65535T\033[65535X\033[65535I"
	    "\033[65535Z\033[65535A\033[65535C\033[65535;65535H");
	CHECK(invariants(&fb));
	CHECK(fb.cy == 23 && fb.cx == 79);
	/* 65535 is kept, 65536 is absent: CUB 1. */
	feed_str(&vt, "\033[65536D");
	CHECK(fb.cx == 78);
	feed_str(&vt, "\033[4294967297D");
	CHECK(fb.cx == 77);

	/* Combining marks stop at 32 bytes. */
	feed_str(&vt, "\033[Hx");
	for (i = 0; i < 40; i++) {
		feed_str(&vt, "\xcc\x81");
	}
	CHECK(fb_cell(&fb, 0, 0)->len == 33);
	CHECK(invariants(&fb));

	/* Title: 256 code points of the OSC string. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "\033]0;", 4);
	big[sizeof(big) - 1] = 7;
	vt_feed(&vt, (const uint8_t *)big, sizeof(big));
	CHECK(fb.title_len == 254 && fb.icon_len == 254);
	memcpy(big, "\033];", 3);
	vt_feed(&vt, (const uint8_t *)big, sizeof(big));
	CHECK(fb.title_len == 255);
	/* Multibyte title: 254 code points, 3 bytes each. */
	feed_str(&vt, "\033]2;");
	for (i = 0; i < 300; i++) {
		feed_str(&vt, "\xe6\xbc\xa2");
	}
	feed_str(&vt, "\033\\");
	CHECK(fb.title_len == 254 * 3);
	/* Clipboard: 16384 code points of the OSC string. */
	memcpy(big, "\033]52;c;", 7);
	vt_feed(&vt, (const uint8_t *)big, sizeof(big));
	CHECK(fb.clip != NULL && fb.clip->len == VT_OSC_MAX - 5);
	feed_str(&vt, "\033]52;c;\007");
	CHECK(fb.clip == NULL || fb.clip->len == 0);
	/* An unterminated OSC is never applied. */
	feed_str(&vt, "\033]2;zzz");
	CHECK(fb.title_len == 254 * 3);
	feed_str(&vt, "\030");

	/* DCS and APC content is discarded. */
	feed_str(&vt, "\033[H\033[2J\033P1;2|abc\033\\\033_junk\033\\ok");
	row_text(&fb, 0, got);
	CHECK(strcmp(got, "ok") == 0);
	CHECK(invariants(&fb));

	/* Resize to the extremes and back. */
	feed_str(&vt, "\033[5;20r\033[?6h\033[10;10H\xe6\xbc\xa2");
	CHECK(vt_resize(&vt, 1, 1) == 0);
	CHECK(invariants(&fb));
	feed_str(&vt, "\xcc\x81xyz\xe6\xbc\xa2\r\n\033[5Lq\033[?6l\033[3;1r");
	CHECK(invariants(&fb));
	CHECK(vt_resize(&vt, FB_MAX_COLS, FB_MAX_ROWS) == 0);
	CHECK(invariants(&fb));
	feed_str(&vt, "\033[999;999H\xe6\xbc\xa2wrap\033[999999999M\033[r\n\n");
	CHECK(invariants(&fb));
	CHECK(vt_resize(&vt, 0, 5) == -1);
	CHECK(vt_resize(&vt, 5, FB_MAX_ROWS + 1) == -1);
	CHECK(vt_resize(&vt, 80, 24) == 0);
	CHECK(invariants(&fb));
	CHECK(fb.w == 80 && fb.h == 24);
	vt_free(&vt);
	fb_free(&fb);
}

/* Random input never breaks the invariants; shared rows stay intact. */
static void
test_random(void)
{
	static const char *tok[] = { "\033[", "\033]", "\033", ";", "?",
	    "1", "2", "9", "0", "m", "H", "J", "K", "L", "M", "@", "P", "r",
	    "h", "l", "\n", "\r", "\t", "\b", "x", "\xe6\xbc\xa2", "\xcc\x81",
	    "\xc2", "\x9b", "\x07", "\030", "7", "8", "c", "#", "S", "T", "X",
	    "Z", "I", "g", "25", "6", "\033\\", "\xc2\x9b", "\033P", "\033_" };
	struct fb fb, copy;
	struct vt vt;
	uint32_t seed = 12345;
	int i, j, ok = 1;

	if (fb_init(&fb, 13, 7) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vt, &fb);
	for (i = 0; i < 300 && ok; i++) {
		/* A copy shares rows; changing fb must not change it. */
		if (fb_copy(&copy, &fb) == -1) {
			break;
		}
		for (j = 0; j < 200; j++) {
			seed = seed * 1103515245u + 12345u;
			feed_str(&vt, tok[(seed >> 16) % LEN(tok)]);
		}
		if (i % 50 == 49) {
			seed = seed * 1103515245u + 12345u;
			vt_resize(&vt, 1 + (int)(seed >> 16) % 30,
			    1 + (int)(seed >> 8) % 20);
		}
		ok = invariants(&fb) && invariants(&copy);
		fb_free(&copy);
		vt.reply.len = 0;
	}
	CHECK(ok);
	vt_free(&vt);
	fb_free(&fb);
}

/* Copy-on-write: writing after fb_copy leaves the copy as it was. */
static void
test_shared(void)
{
	struct fb fb, copy;
	struct vt vt;
	char got[256];

	if (fb_init(&fb, 10, 3) == -1) {
		CHECK(0);
		return;
	}
	vt_init(&vt, &fb);
	feed_str(&vt, "one\r\ntwo\r\nthree");
	CHECK(fb_copy(&copy, &fb) == 0);
	feed_str(&vt, "\r\nfour\033[1;1Hx\033[2;1H\033[2K\033[M");
	row_text(&copy, 0, got);
	CHECK(strcmp(got, "one") == 0);
	row_text(&copy, 1, got);
	CHECK(strcmp(got, "two") == 0);
	row_text(&copy, 2, got);
	CHECK(strcmp(got, "three") == 0);
	row_text(&fb, 0, got);
	CHECK(strcmp(got, "xwo") == 0);
	row_text(&fb, 1, got);
	CHECK(strcmp(got, "four") == 0);
	row_text(&fb, 2, got);
	CHECK(strcmp(got, "") == 0);
	vt_free(&vt);
	fb_free(&copy);
	fb_free(&fb);
}

/* Whole buffers, single bytes and random chunks give the same frame: the
 * fast paths agree with the byte-by-byte machine. */
static void
test_chunks(void)
{
	static const char *tok[] = { "ab", "xyz ", "\r\n", "\xe6\xbc\xa2",
	    "\xcc\x81", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xc2\x85",
	    "\xc2\x9b" "2C", "\xe4\xb8", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	    "\xc0\xaf", "\xff", "\x80", "\033[4h", "\033[4l", "\033[31m",
	    "\033[H", "\033[?7l", "\033[?7h", "\033]2;t\xc3\xa9\007", "\t",
	    "\033[3;5r", "\033[?6h", "\033[?6l", "\xef\xbb\xbf", "\b" };
	static uint8_t in[60000];
	struct fb fb[3];
	struct vt vt[3];
	uint32_t seed = 777;
	size_t n = 0, len, i, off;
	int k, y, same = 1;

	while (n < sizeof(in) - 16) {
		seed = seed * 1103515245u + 12345u;
		len = strlen(tok[(seed >> 16) % LEN(tok)]);
		memcpy(in + n, tok[(seed >> 16) % LEN(tok)], len);
		n += len;
	}
	for (k = 0; k < 3; k++) {
		if (fb_init(&fb[k], 17, 9) == -1) {
			CHECK(0);
			return;
		}
		vt_init(&vt[k], &fb[k]);
	}
	vt_feed(&vt[0], in, n);
	for (i = 0; i < n; i++) {
		vt_feed(&vt[1], in + i, 1);
	}
	for (off = 0; off < n; off += len) {
		seed = seed * 1103515245u + 12345u;
		len = MIN(1 + (seed >> 16) % 7, n - off);
		vt_feed(&vt[2], in + off, len);
	}
	for (k = 1; k < 3; k++) {
		same = same && fb_equal(&fb[0], &fb[k]) &&
		    fb[0].wrap_pending == fb[k].wrap_pending &&
		    fb[0].comb_y == fb[k].comb_y &&
		    fb[0].comb_x == fb[k].comb_x && fb[0].modes == fb[k].modes;
		for (y = 0; y < fb[0].h; y++) {
			same = same && memcmp(fb[0].rows[y]->cells,
			    fb[k].rows[y]->cells,
			    (size_t)fb[0].w * sizeof(struct fb_cell)) == 0;
		}
	}
	CHECK(same);
	CHECK(invariants(&fb[0]));
	for (k = 0; k < 3; k++) {
		vt_free(&vt[k]);
		fb_free(&fb[k]);
	}
}

/* server_ext: DEC graphics and the alternate screen, off by default. */
static void
test_server_ext(void)
{
	struct fb fb;
	struct vt vt;
	char got[8192];
	int k;

	for (k = 0; k < 2; k++) {
		if (fb_init(&fb, 10, 4) == -1) {
			CHECK(0);
			return;
		}
		vt_init(&vt, &fb);
		CHECK(vt.server_ext == 0);
		vt.server_ext = k;
		feed_str(&vt, "\033(0lqk\033(Bx\r\n\033)0\016q\017q");
		row_text(&fb, 0, got);
		CHECK(strcmp(got, k ? "\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90x" :
		    "lqkx") == 0);
		row_text(&fb, 1, got);
		CHECK(strcmp(got, k ? "\xe2\x94\x80q" : "qq") == 0);

		feed_str(&vt, "\033[Hmain\033[1;31m\033[?1049halt\033[0m");
		row_text(&fb, 0, got);
		CHECK(strcmp(got, k ? "....alt" : "mainalt") == 0);
		row_text(&fb, 1, got);
		CHECK(strcmp(got, k ? "" : "qq") == 0);
		feed_str(&vt, "\033[?1049l");
		row_text(&fb, 0, got);
		CHECK(strcmp(got, "mainalt") == 0 || k);
		CHECK(strcmp(got, "main") == 0 || !k);
		CHECK(fb.cy == 0 && fb.cx == (k ? 4 : 7));
		CHECK(fb.rend.fg == (k ? 31u : 0u));

		/* Resized while the alternate screen shows. */
		feed_str(&vt, "\033[?47hxx");
		CHECK(vt_resize(&vt, 3, 2) == 0);
		CHECK(invariants(&fb));
		feed_str(&vt, "yyyyyyy\033[?47l");
		CHECK(invariants(&fb));
		row_text(&fb, 0, got);
		CHECK(strcmp(got, "mai") == 0 || !k);
		CHECK(vt_resize(&vt, 10, 4) == 0);

		/* Resized behind its back, then RIS, then left open. */
		feed_str(&vt, "\033[?1047h");
		CHECK(fb_resize(&fb, 4, 4) == 0);
		feed_str(&vt, "\033[?1047l\033[?1049hz");
		CHECK(invariants(&fb));
		feed_str(&vt, "\033c");
		row_text(&fb, 0, got);
		CHECK(strcmp(got, "") == 0);
		feed_str(&vt, "\033[?1049hq");
		row_text(&fb, 0, got);
		CHECK(strcmp(got, "q") == 0);
		vt_free(&vt);
		fb_free(&fb);
	}
}

/*
 * vt_copy: the copy goes on from the same parser state on its own frame;
 * the replies, the hidden main screen and the OSC string stay with the
 * original, and freeing both frees each thing once.
 */
static void
test_copy(void)
{
	struct fb fa, fb;
	struct vt va, vb;
	char got[256];

	CHECK(fb_init(&fa, 10, 3) == 0);
	vt_init(&va, &fa);
	va.server_ext = 1;
	feed_str(&va, "main\033[?1049halt\033[c\033]52;c;YWJj");
	CHECK(va.main_rows != NULL && va.reply.len > 0 && va.osc_len > 0);
	CHECK(fb_copy(&fb, &fa) == 0);
	vt_copy(&vb, &va, &fb);
	CHECK(vb.fb == &fb && va.fb == &fa);
	CHECK(vb.reply.len == 0 && vb.reply.p == NULL);
	CHECK(vb.main_rows == NULL && va.main_rows != NULL);
	CHECK(vb.osc == NULL && vb.osc_len == 0 && va.osc_len == 9);
	CHECK(vb.server_ext == 1 && vb.p.state == va.p.state);

	/* Both finish the OSC string: only the original had its start. */
	feed_str(&va, "\007x");
	feed_str(&vb, "\007x");
	CHECK(fa.clip != NULL && strcmp(fa.clip->s, "YWJj") == 0);
	CHECK(fb.clip == NULL);
	row_text(&fa, 0, got);
	CHECK(strcmp(got, "....altx") == 0);
	row_text(&fb, 0, got);
	CHECK(strcmp(got, "....altx") == 0);
	feed_str(&va, "\033[?1049l");
	feed_str(&vb, "\033[?1049l");
	row_text(&fa, 0, got);
	CHECK(strcmp(got, "main") == 0);
	row_text(&fb, 0, got);
	CHECK(strcmp(got, "....altx") == 0);
	CHECK(vb.reply.len == 0);
	vt_free(&vb);
	fb_free(&fb);
	vt_free(&va);
	fb_free(&fa);
}

/*
 * Random streams whose final state upstream's emulator computed: the same
 * streams went through mosh-1.4.0's parser and emulator (built from its
 * source, outside this tree) and both sides printed the state as st_dump
 * does; the constants are FNV-1a hashes of upstream's print-out. Run
 * "vt_test --streams DIR" to write the streams for a new comparison.
 */
static const char *const stok[] = {
	"ab", "xyz", " ", "hello world", "\r", "\n", "\r\n", "\t", "\b",
	"\013", "\014", "\007", "\000", "\016", "\017", "\030", "\032", "\177",
	"\0337", "\0338", "\033c", "\033#8", "\033D", "\033E", "\033H", "\033M",
	"\033(0", "\033(B", "\033\\", "\033Z", "\033", "\033[", "\033]",
	"\033P",
	"\033_", "\033[3g", "\033[g", "\033[!p", "\033[?1049h",
	"\346\274\242", "\303\251", "\314\201", "\314\202", "\357\273\277",
	"\302\255", "\302\240", "\360\237\230\200", "\315\270", "\352\260\200",
	"\343\200\202", "\302\205", "\302\233", "\302\220", "\302\235",
	"\302\210", "\302\215", "\342\200\213", "\341\205\240",
	"\342\200\250", "\377", "\200", "\300\257", "\344\270",
	"\355\240\200", "\364\220\200\200", "\370\210\200\200\200", "\302",
	"\033]0;ti\007", "\033]2;t\033\\", "\033]1;ic\030",
	"\033]52;c;YQ==\007",
	"\033]52;p;x\007", "\033]8;;u\007", "\033];z\302\234", "\033[1:2m",
	"\033[38;2;1;2;300m", "\033[38;5;300m", "\033[48;5m", ";", "1", "?",
};

static const char *const csi_final = "@ABCDGHIJKLMPSTXZcdfghlmnrsu`EFb";
static const char *const dec_modes[] = { "1", "3", "5", "6", "7", "25", "9",
	"1000", "1003", "1004", "1006", "1007", "1015", "2004", "47", "4" };
static const char *const sgr_p[] = { "0", "1", "2", "3", "4", "5", "7", "8",
	"9", "22", "23", "24", "25", "27", "28", "30", "37", "39", "40", "47",
	"49", "90", "97", "100", "107", "38", "48", "5", "2", "255", "" };
static const char *const nums[] = { "", "0", "1", "2", "3", "5", "7", "8",
	"12", "65535", "65536", "99999999999", "40", "200" };

static uint32_t
srnd(uint32_t *seed, uint32_t n)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) % n;
}

static void
sput(struct buf *b, const char *s)
{
	/* Tokens may hold a NUL: "\000" is one byte, the others none. */
	if (buf_append(b, s, s[0] == 0 ? 1 : strlen(s)) == -1) {
		abort();
	}
}

static void
gen_stream(uint32_t seed, size_t len, struct buf *b)
{
	uint32_t r, k, i;
	char f[2] = { 0, 0 };

	while (b->len < len) {
		r = srnd(&seed, 100);
		if (r < 55) {
			sput(b, stok[srnd(&seed, LEN(stok))]);
			continue;
		}
		sput(b, "\033[");
		f[0] = csi_final[srnd(&seed, (uint32_t)strlen(csi_final))];
		k = 1 + srnd(&seed, 4);
		if (r < 70) {
			sput(b, "?");
			f[0] = srnd(&seed, 2) ? 'h' : 'l';
			for (i = 0; i < k; i++) {
				sput(b, i ? ";" : "");
				sput(b, dec_modes[srnd(&seed, LEN(dec_modes))]);
			}
		} else if (r < 80) {
			f[0] = 'm';
			for (i = 0; i < k + 2; i++) {
				sput(b, i ? ";" : "");
				sput(b, sgr_p[srnd(&seed, LEN(sgr_p))]);
			}
		} else {
			for (i = 0; i < k - 1; i++) {
				sput(b, i ? ";" : "");
				sput(b, nums[srnd(&seed, LEN(nums))]);
			}
		}
		sput(b, f);
	}
}

/*
 * The fast paths (ASCII runs, whole CSI sequences, output that scrolls
 * away unseen) against the byte-by-byte machine: text-heavy streams, so
 * that long runs of scrolling text occur, with everything that must stop
 * or change a fast path mixed in (wrap, margins, insert mode, autowrap
 * off, wide and combining characters, invalid UTF-8, SGR, DEC graphics).
 */
static const char *const ftok[] = {
	/* What the scroll skip walks over: text, CR, LF, SGR. */
	"a", "word ", "longer words here ", "0123456789", "\r\n", "\r\n",
	"\r\n", "\n", "\r", "\r\r\n", "\xe6\xbc\xa2", "\xe3\x80\x82",
	"\xc3\xa9", "\xf0\x9f\x98\x80", "\033[0m", "\033[1;31m",
	"\033[38;5;200m", "\033[48;2;1;2;3m", "\033[m", "\033[7m",
	"\033[0;1;4;5;7;8;9;22;23;24;25;27;28;30;31;32;33;34;35;36;37;39;40;"
	"41;42;43;44;45;46;47;49;90;91;92;93;94;95;96;97;100;101;102;103;104;"
	"105;106;107;1;2;3m",
	/* What stops it. */
	"\xcc\x81", "\xc0\xaf", "\xff", "\x80", "\xe4\xb8", "\xed\xa0\x80",
	"\033[1:2m", "\033[K", "\033[2K", "\033[J", "\033[b", "\t", "\b",
	"\x0b", "\x0c", "\007", "\033(0", "\033(B", "\x0e", "\x0f",
	"\xc2\x85", "\xc2\x84", "\xc2\x8d", "\xe2\x80\x8b", "\xcd\xb8",
	"x\xcc\x81\xcc\x81\xcc\x81\xcc\x81\xcc\x81",
	"\xc3\xa9\xcc\x81\xcc\x81\xcc\x81\xcc\x81\xcc\x81",
};
#define FWALK 21	/* the first FWALK tokens */

/* Rare tokens: modes, regions, moves. */
static const char *const frare[] = {
	"\033[4h", "\033[4l", "\033[?7l", "\033[?7h", "\033[3;5r", "\033[r",
	"\033[?6h", "\033[?6l", "\033[H", "\033[5;70H", "\033[2J", "\033[3L",
	"\033[2M", "\033[5@", "\033[3P", "\033M", "\033[?1049h",
	"\033[?1049l", "\0337", "\0338", "\033[9999C", "\033[A", "\033#8",
};

/*
 * Text with one rare token in rare draws; calm: other tokens that stop
 * the scroll skip only one in 64 draws, so that long walks happen; nocr:
 * lines end in LF alone, so that columns carry over. The screen starts
 * full of E (DECALN), so that a row the skip should have scrolled away
 * shows.
 */
static void
gen_text(uint32_t *seed, size_t len, int rare, int calm, int nocr,
    struct buf *b)
{
	const char *t;
	uint32_t n;

	sput(b, "\033#8");
	while (b->len < len) {
		if (srnd(seed, (uint32_t)rare) == 0) {
			t = frare[srnd(seed, LEN(frare))];
		} else {
			n = calm && srnd(seed, 64) != 0 ? FWALK : LEN(ftok);
			t = ftok[srnd(seed, n)];
			if (nocr && strchr(t, '\r') != NULL) {
				t = "\n";
			}
		}
		sput(b, t);
	}
}

/* Everything a frame shows and the emulator keeps about it. */
static int
same_frame(const struct fb *a, const struct fb *b)
{
	int y;

	if (!fb_equal(a, b) || a->wrap_pending != b->wrap_pending ||
	    a->comb_y != b->comb_y || a->comb_x != b->comb_x ||
	    a->modes != b->modes || a->top != b->top ||
	    a->bottom != b->bottom ||
	    memcmp(&a->rend, &b->rend, sizeof(a->rend)) != 0) {
		return 0;
	}
	for (y = 0; y < a->h; y++) {
		if (memcmp(a->rows[y]->cells, b->rows[y]->cells,
		    (size_t)a->w * sizeof(struct fb_cell)) != 0) {
			return 0;
		}
	}
	return 1;
}

static void
test_fast_paths(void)
{
	static const int size[][2] = { { 80, 24 }, { 17, 9 }, { 10, 3 },
	    { 1, 1 }, { 2, 2 }, { 3, 40 }, { 200, 5 } };
	struct buf in = { NULL, 0, 0 };
	struct fb fb[4];
	struct vt vt[4];
	uint32_t seed = 4242, cseed;
	size_t i, off, len;
	int z, k, round, same = 1, inv = 1;

	for (round = 0; round < 84; round++) {
		z = round % (int)LEN(size);
		in.len = 0;
		gen_text(&seed, 20000 + srnd(&seed, 20000),
		    round % 3 == 2 ? 40 : 2000, round % 3 != 0, round % 4 == 1,
		    &in);
		for (k = 0; k < 4; k++) {
			if (fb_init(&fb[k], size[z][0], size[z][1]) == -1) {
				CHECK(0);
				return;
			}
			vt_init(&vt[k], &fb[k]);
			vt[k].server_ext = round % 2;
		}
		/* The reference: the state machine alone. */
		vt[3].slow = 1;
		vt_feed(&vt[3], in.p, in.len);
		vt_feed(&vt[0], in.p, in.len);
		for (i = 0; i < in.len; i++) {
			vt_feed(&vt[1], in.p + i, 1);
		}
		cseed = seed;
		for (off = 0; off < in.len; off += len) {
			len = 1 + srnd(&cseed, 600);
			len = MIN(len, in.len - off);
			vt_feed(&vt[2], in.p + off, len);
		}
		for (k = 0; k < 4; k++) {
			inv = inv && invariants(&fb[k]);
		}
		for (k = 0; k < 3; k++) {
			if (!same_frame(&fb[3], &fb[k])) {
				fprintf(stderr, "fast paths: round %d (%dx%d), "
				    "feed %d differs\n", round, size[z][0],
				    size[z][1], k);
				same = 0;
			}
		}
		for (k = 0; k < 4; k++) {
			vt_free(&vt[k]);
			fb_free(&fb[k]);
		}
	}
	CHECK(same);
	CHECK(inv);
	buf_free(&in);
}

/* Append s n times. */
static void
sput_n(struct buf *b, const char *s, int n)
{
	while (n-- > 0) {
		sput(b, s);
	}
}

/*
 * Edge cases of the fast paths, each fed whole and split in two at every
 * point, against the state machine alone.
 */
static void
test_fast_cases(void)
{
	struct buf in = { NULL, 0, 0 };
	struct fb ref, fb;
	struct vt vref, vt;
	size_t k;
	int c, ok, all = 1;

	for (c = 0; c < 14; c++) {
		in.len = 0;
		switch (c) {
		case 0:	/* a long cell overwritten by text_run */
			sput(&in, "x\xcc\x81\xcc\x81\xcc\x81\xcc\x81\xcc\x81"
			    "\r\xe6\xbc\xa2");
			break;
		case 1:
			sput(&in, "\xc3\xa9\xcc\x81\xcc\x81\xcc\x81\xcc\x81"
			    "\xcc\x81\r\xc3\xa9y");
			break;
		case 2:	/* ASCII over a three-byte cell */
			sput(&in, "\xe6\xbc\xa2\xc3\xa9\rab");
			break;
		case 3:	/* a wide character in the last two columns */
			sput(&in, "\033#8\033[1;79H\xe6\xbc\xa2z");
			break;
		case 4:	/* ... and in the last one: it wraps early */
			sput(&in, "\033#8\033[1;80H\xe6\xbc\xa2z");
			break;
		case 5:	/* SGR in the part that scrolls away */
			sput(&in, "\033#8\033[24;1H\033[31m");
			sput_n(&in, "abc\r\n\033[1;44m", 100);
			sput(&in, "\033[0;7mx");
			break;
		case 6:	/* wrapped lines */
			sput(&in, "\033#8");
			sput_n(&in, "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "01234\r\n", 60);
			break;
		case 7:	/* lines that end at the margin */
			sput(&in, "\033#8");
			sput_n(&in, "0123456789012345678901234567890123456789"
			    "0123456789012345678901234567890123456789"
			    "\r\n", 60);
			break;
		case 8:	/* LF without CR: the column carries over */
			sput(&in, "\033#8");
			sput_n(&in, "abc\n", 100);
			break;
		case 9:	/* wide characters that wrap */
			sput(&in, "\033#8");
			sput_n(&in, "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
			    "\xe6\xbc\xa2\xe6\xbc\xa2\xe6\xbc\xa2"
			    "\xe6\xbc\xa2", 60);
			break;
		case 10: /* a combining mark after the walk */
			sput(&in, "\033#8");
			sput_n(&in, "abc\r\n", 100);
			sput(&in, "\xcc\x81");
			break;
		case 11: /* the walk from a pending wrap */
			sput(&in, "\033#8\033[24;80Hz");
			sput_n(&in, "\r\nabc", 50);
			break;
		case 12: /* a region: no skip, same frame */
			sput(&in, "\033#8\033[3;20r\033[20;1H");
			sput_n(&in, "abc\r\n", 100);
			break;
		default: /* origin mode, cursor outside the region */
			sput(&in, "\033#8\033[3;20r\033[?6h\033[r\033[1;1H"
			    "\033[3;20r");
			sput_n(&in, "a\xe6\xbc\xa2\r\n", 30);
			break;
		}
		/* Every split of the short inputs, one in 13 of the long. */
		if (fb_init(&ref, 80, 24) == -1) {
			CHECK(0);
			return;
		}
		vt_init(&vref, &ref);
		vref.slow = 1;
		vt_feed(&vref, in.p, in.len);
		for (k = 0; k <= in.len; k += in.len > 1000 ? 13 : 1) {
			if (fb_init(&fb, 80, 24) == -1) {
				CHECK(0);
				return;
			}
			vt_init(&vt, &fb);
			vt_feed(&vt, in.p, k);
			vt_feed(&vt, in.p + k, in.len - k);
			ok = same_frame(&ref, &fb) && invariants(&fb);
			if (!ok && all) {
				fprintf(stderr, "fast case %d split %zu "
				    "differs\n", c, k);
			}
			all = all && ok;
			vt_free(&vt);
			fb_free(&fb);
		}
		vt_free(&vref);
		fb_free(&ref);
	}
	CHECK(all);
	buf_free(&in);
}

/* A frame's cells and cursor, deep: what a snapshot must keep showing. */
static uint8_t *
deep_copy(const struct fb *fb)
{
	size_t row = (size_t)fb->w * sizeof(struct fb_cell);
	uint8_t *p = malloc(row * (size_t)fb->h);
	int y;

	if (p != NULL) {
		for (y = 0; y < fb->h; y++) {
			memcpy(p + row * (size_t)y, fb->rows[y]->cells, row);
		}
	}
	return p;
}

static int
deep_equal(const struct fb *fb, const uint8_t *p)
{
	size_t row = (size_t)fb->w * sizeof(struct fb_cell);
	int y;

	for (y = 0; y < fb->h; y++) {
		if (memcmp(p + row * (size_t)y, fb->rows[y]->cells, row) != 0) {
			return 0;
		}
	}
	return 1;
}

/*
 * Long scrolls with snapshots alive, as the server keeps them: rows a
 * snapshot releases go to the pool and come back in the live frame; no
 * snapshot may change, the pool stays within its bounds, and the live
 * frame equals one fed byte by byte without snapshots.
 */
#define SNAPS 6
static void
test_row_pool(void)
{
	struct buf in = { NULL, 0, 0 };
	struct fb fb, ref, snap[SNAPS];
	struct vt vt, vref;
	uint8_t *deep[SNAPS];
	uint32_t seed = 99;
	size_t off, len;
	int k, n = 0, kept = 1, bounded = 1, round;

	for (round = 0; round < 4; round++) {
		in.len = 0;
		gen_text(&seed, 200000, 2000, round % 2, 0, &in);
		if (fb_init(&fb, round % 2 ? 80 : 13, round % 2 ? 24 : 5) ==
		    -1 || fb_init(&ref, fb.w, fb.h) == -1) {
			CHECK(0);
			return;
		}
		vt_init(&vt, &fb);
		vt_init(&vref, &ref);
		vref.slow = 1;
		n = 0;
		for (off = 0; off < in.len; off += len) {
			len = 1 + srnd(&seed, 3000);
			len = MIN(len, in.len - off);
			vt_feed(&vt, in.p + off, len);
			vt_feed(&vref, in.p + off, len);
			if (round >= 2 && srnd(&seed, 10) == 0) {
				/* A resize empties the pool of old widths. */
				vt_resize(&vt, 5 + (int)srnd(&seed, 90),
				    fb.h);
				vt_resize(&vref, fb.w, fb.h);
			}
			/* The oldest snapshot goes, a new one comes. */
			k = n % SNAPS;
			if (n >= SNAPS) {
				kept = kept && deep_equal(&snap[k], deep[k]);
				fb_free(&snap[k]);
				free(deep[k]);
			}
			if (fb_copy(&snap[k], &fb) == -1 ||
			    (deep[k] = deep_copy(&fb)) == NULL) {
				CHECK(0);
				return;
			}
			n++;
			bounded = bounded && fb.pool != NULL &&
			    fb.pool->n <= FB_POOL_ROWS &&
			    (size_t)fb.pool->n * (sizeof(struct fb_row) +
			    (size_t)fb.w * sizeof(struct fb_cell)) <=
			    FB_POOL_BYTES;
		}
		CHECK(same_frame(&fb, &ref));
		for (k = 0; k < MIN(n, SNAPS); k++) {
			kept = kept && deep_equal(&snap[k], deep[k]);
			fb_free(&snap[k]);
			free(deep[k]);
		}
		vt_free(&vt);
		fb_free(&fb);
		vt_free(&vref);
		fb_free(&ref);
	}
	CHECK(kept);
	CHECK(bounded);
	buf_free(&in);
}

static void
dprintf_(struct buf *b, const char *fmt, ...)
{
	char s[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (n > 0 && buf_append(b, s, MIN((size_t)n, sizeof(s) - 1)) == -1) {
		abort();
	}
}

static void
dhex(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dprintf_(b, "%02x", (unsigned char)s[i]);
	}
	dprintf_(b, "\n");
}

/* The state as text; the harness on upstream's side prints the same. */
static void
st_dump(const struct fb *fb, const struct vt *vt, struct buf *b)
{
	char s[128];
	const struct fb_cell *c;
	int y, x, i;

	dprintf_(b, "size %d %d\ncursor %d %d %d\ncomb %d %d\n", fb->w, fb->h,
	    fb->cy, fb->cx, fb->wrap_pending, fb->comb_y,
	    fb->comb_y < 0 ? -1 : fb->comb_x);
	dprintf_(b, "modes o%d a%d i%d c%d r%d p%d f%d s%d k%d m%d e%d\n",
	    !!(fb->modes & FB_M_ORIGIN), !!(fb->modes & FB_M_AUTOWRAP),
	    !!(fb->modes & FB_M_INSERT), !!(fb->modes & FB_M_CURSOR),
	    !!(fb->modes & FB_M_REVERSE), !!(fb->modes & FB_M_PASTE),
	    !!(fb->modes & FB_M_FOCUS), !!(fb->modes & FB_M_ALTSCROLL),
	    !!(fb->modes & FB_M_APPCURSOR), fb->mouse_mode, fb->mouse_enc);
	sgr_str(&fb->rend, s, sizeof(s));
	dprintf_(b, "region %d %d\nrend %s\n", fb->top, fb->bottom, s + 1);
	dprintf_(b, "tabs %d ", fb->default_tabs);
	for (x = 0; x < fb->w; x++) {
		dprintf_(b, "%d", fb->tabs[x >> 3] >> (x & 7) & 1);
	}
	sgr_str(&fb->saved.rend, s, sizeof(s));
	dprintf_(b, "\nsaved %d %d %s a%d o%d\n", fb->saved.y, fb->saved.x,
	    s + 1, !!(fb->saved.modes & FB_M_AUTOWRAP),
	    !!(fb->saved.modes & FB_M_ORIGIN));
	dprintf_(b, "title ");
	dhex(b, fb->title, fb->title_len);
	dprintf_(b, "icon ");
	dhex(b, fb->icon, fb->icon_len);
	dprintf_(b, "clip ");
	dhex(b, fb->clip ? fb->clip->s : "", fb->clip ? fb->clip->len : 0);
	dprintf_(b, "init %d bell %u\nreply ", fb->title_init, fb->bell);
	dhex(b, (const char *)vt->reply.p, vt->reply.len);
	for (y = 0; y < fb->h; y++) {
		for (x = 0; x < fb->w; x++) {
			c = fb_cell(fb, y, x);
			sgr_str(&c->r, s, sizeof(s));
			if (c->len == 0 && !(c->flags & 7) &&
			    strcmp(s, "\033[0m") == 0) {
				continue;
			}
			dprintf_(b, "cell %d %d ", y, x);
			for (i = 0; i < c->len; i++) {
				dprintf_(b, "%02x", (unsigned char)c->c[i]);
			}
			dprintf_(b, " w%d f%d r%d %s\n", !!(c->flags & FB_WIDE),
			    !!(c->flags & FB_FALLBACK), !!(c->flags & FB_WRAP),
			    s + 1);
		}
	}
}

static uint64_t
fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0) {
		h = (h ^ *p++) * 0x100000001b3ull;
	}
	return h;
}

static const struct {
	int w, h;
	uint32_t seed;
	size_t len;
	int w2, h2;		/* resize, then the stream again */
	uint64_t hash;
} streams[] = {
	{ 80, 24, 1, 200000, 0, 0, 0x0cb9c32c1e5000a3ull },
	{ 10, 5, 2, 50000, 0, 0, 0xc317cfac66fa7187ull },
	{ 7, 3, 3, 20000, 12, 6, 0xc68b1b0d931490a1ull },
	{ 132, 50, 4, 300000, 40, 10, 0x741a07fdac7d0047ull },
	{ 1, 1, 5, 5000, 3, 2, 0x4a4c3ed688a85976ull },
	{ 30, 8, 6, 100000, 29, 9, 0xc1f8e33a272c6b73ull },
};

static void
test_streams(const char *dir)
{
	struct buf in = { NULL, 0, 0 }, out = { NULL, 0, 0 };
	struct fb fb;
	struct vt vt;
	size_t i;
	char path[512];
	FILE *f;

	for (i = 0; i < LEN(streams); i++) {
		in.len = out.len = 0;
		gen_stream(streams[i].seed, streams[i].len, &in);
		if (dir != NULL) {
			snprintf(path, sizeof(path), "%s/stream%zu", dir, i);
			if ((f = fopen(path, "wb")) != NULL) {
				fwrite(in.p, 1, in.len, f);
				fclose(f);
			}
		}
		if (fb_init(&fb, streams[i].w, streams[i].h) == -1) {
			CHECK(0);
			continue;
		}
		vt_init(&vt, &fb);
		vt_feed(&vt, in.p, in.len);
		if (streams[i].w2 != 0) {
			CHECK(vt_resize(&vt, streams[i].w2,
			    streams[i].h2) == 0);
			vt_feed(&vt, in.p, in.len);
		}
		st_dump(&fb, &vt, &out);
		if (dir != NULL) {
			snprintf(path, sizeof(path), "%s/dump%zu", dir, i);
			if ((f = fopen(path, "wb")) != NULL) {
				fwrite(out.p, 1, out.len, f);
				fclose(f);
			}
		}
		CHECK(fnv(out.p, out.len) == streams[i].hash);
		if (fnv(out.p, out.len) != streams[i].hash) {
			fprintf(stderr, "stream %zu: hash %016llx\n", i,
			    (unsigned long long)fnv(out.p, out.len));
		}
		CHECK(invariants(&fb));
		vt_free(&vt);
		fb_free(&fb);
	}
	buf_free(&in);
	buf_free(&out);
}

int
main(int argc, char **argv)
{
	test_cases();
	test_utf8();
	test_width();
	test_user();
	test_parse();
	test_bounds();
	test_random();
	test_shared();
	test_chunks();
	test_fast_paths();
	test_fast_cases();
	test_row_pool();
	test_server_ext();
	test_copy();
	test_streams(argc == 3 && strcmp(argv[1], "--streams") == 0 ?
	    argv[2] : NULL);
	return TEST_DONE();
}
