/*
 * vt.c: the terminal emulator. Host output bytes go through a UTF-8
 * decoder (terminal.md §2), the DEC/ECMA-48 state machine (§3) and the
 * control functions (§4-§7), which change a struct fb; user keystrokes are
 * translated for the application (§10). Everything follows upstream Mosh
 * 1.4.0 exactly, quirks included (§13), because both ends of a session run
 * this emulator on the renderer's output.
 *
 * Supported: printing with autowrap, wide and combining characters; C0 BEL
 * BS HT LF VT FF CR CAN SUB; C1 IND NEL HTS RI (8-bit only UTF-8 encoded);
 * ESC 7 8 c #8 D E H M; CSI @ A B C D G ` H f I J K L M P S T X Z c >c d g
 * h l ?h ?l m n r !p; DEC modes 1 3 5 6 7 25 9 1000-1003 1004 1005 1006
 * 1015 1007 2004; ANSI mode 4; OSC 0 1 2 52. Everything else is parsed and
 * ignored. No charsets, no alternate screen, unless a server sets
 * server_ext: then modes 47 1047 1049 switch to an alternate screen and
 * ESC ( 0, ESC ) 0, SO, SI select DEC special graphics, drawn as Unicode.
 *
 * Invariants: the cursor is always on the screen; rows are unshared with
 * fb_row_mut before any cell is written; the wrap flag of a row lives on
 * its last cell, as upstream's does, so resetting or moving that cell
 * resets or moves it; nothing allocates per character; counts are clamped
 * to the screen before loops.
 *
 * Fast paths (vt_feed), each with exactly the effect of the state machine
 * (vt->slow turns them off; vt_test and fuzz_vt compare): runs of text
 * written a row at a time, C0 controls and plain CSI sequences dispatched
 * directly, and output that will scroll off the screen before the end of
 * the read skipped without being drawn (ff_skip).
 *
 * Section numbers (§) refer to doc/terminal.md unless another doc is named.
 */
#include "mosh.h"

enum {
	S_GROUND, S_ESC, S_ESC_INT, S_CSI_ENTRY, S_CSI_PARAM, S_CSI_INT,
	S_CSI_IGN, S_DCS_ENTRY, S_DCS_PARAM, S_DCS_INT, S_DCS_PASS, S_DCS_IGN,
	S_OSC, S_SOS
};

/*
 * Character widths of glibc 2.36 (Unicode 14), the values upstream gets
 * from wcwidth() on Debian 12. Each entry is the first code point of a
 * range and its width + 1 in the low two bits; a range ends where the next
 * one starts. Generated from test/cases/wcwidth-glibc-2.36.txt by merging
 * neighbouring ranges of equal width and printing "W(0xfirst,width)" for each
 * line this prints:
 *   awk '!/^#/ { split($1, r, "\\.\\.");
 *       if (!n++ || $2 != w) print r[1], $2; w = $2 }'
 */
#define W(lo, w) ((uint32_t)(lo) << 2 | (uint32_t)((w) + 1))
static const uint32_t wtab[] = {
	W(0x00000,0), W(0x00001,-1), W(0x00020,1), W(0x0007F,-1), W(0x000A0,1),
	W(0x00300,0), W(0x00370,1), W(0x00378,-1), W(0x0037A,1), W(0x00380,-1),
	W(0x00384,1), W(0x0038B,-1), W(0x0038C,1), W(0x0038D,-1), W(0x0038E,1),
	W(0x003A2,-1), W(0x003A3,1), W(0x00483,0), W(0x0048A,1), W(0x00530,-1),
	W(0x00531,1), W(0x00557,-1), W(0x00559,1), W(0x0058B,-1), W(0x0058D,1),
	W(0x00590,-1), W(0x00591,0), W(0x005BE,1), W(0x005BF,0), W(0x005C0,1),
	W(0x005C1,0), W(0x005C3,1), W(0x005C4,0), W(0x005C6,1), W(0x005C7,0),
	W(0x005C8,-1), W(0x005D0,1), W(0x005EB,-1), W(0x005EF,1),
	W(0x005F5,-1), W(0x00600,1), W(0x00610,0), W(0x0061B,1), W(0x0061C,0),
	W(0x0061D,1), W(0x0064B,0), W(0x00660,1), W(0x00670,0), W(0x00671,1),
	W(0x006D6,0), W(0x006DD,1), W(0x006DF,0), W(0x006E5,1), W(0x006E7,0),
	W(0x006E9,1), W(0x006EA,0), W(0x006EE,1), W(0x0070E,-1), W(0x0070F,1),
	W(0x00711,0), W(0x00712,1), W(0x00730,0), W(0x0074B,-1), W(0x0074D,1),
	W(0x007A6,0), W(0x007B1,1), W(0x007B2,-1), W(0x007C0,1), W(0x007EB,0),
	W(0x007F4,1), W(0x007FB,-1), W(0x007FD,0), W(0x007FE,1), W(0x00816,0),
	W(0x0081A,1), W(0x0081B,0), W(0x00824,1), W(0x00825,0), W(0x00828,1),
	W(0x00829,0), W(0x0082E,-1), W(0x00830,1), W(0x0083F,-1), W(0x00840,1),
	W(0x00859,0), W(0x0085C,-1), W(0x0085E,1), W(0x0085F,-1), W(0x00860,1),
	W(0x0086B,-1), W(0x00870,1), W(0x0088F,-1), W(0x00890,1),
	W(0x00892,-1), W(0x00898,0), W(0x008A0,1), W(0x008CA,0), W(0x008E2,1),
	W(0x008E3,0), W(0x00903,1), W(0x0093A,0), W(0x0093B,1), W(0x0093C,0),
	W(0x0093D,1), W(0x00941,0), W(0x00949,1), W(0x0094D,0), W(0x0094E,1),
	W(0x00951,0), W(0x00958,1), W(0x00962,0), W(0x00964,1), W(0x00981,0),
	W(0x00982,1), W(0x00984,-1), W(0x00985,1), W(0x0098D,-1), W(0x0098F,1),
	W(0x00991,-1), W(0x00993,1), W(0x009A9,-1), W(0x009AA,1),
	W(0x009B1,-1), W(0x009B2,1), W(0x009B3,-1), W(0x009B6,1),
	W(0x009BA,-1), W(0x009BC,0), W(0x009BD,1), W(0x009C1,0), W(0x009C5,-1),
	W(0x009C7,1), W(0x009C9,-1), W(0x009CB,1), W(0x009CD,0), W(0x009CE,1),
	W(0x009CF,-1), W(0x009D7,1), W(0x009D8,-1), W(0x009DC,1),
	W(0x009DE,-1), W(0x009DF,1), W(0x009E2,0), W(0x009E4,-1), W(0x009E6,1),
	W(0x009FE,0), W(0x009FF,-1), W(0x00A01,0), W(0x00A03,1), W(0x00A04,-1),
	W(0x00A05,1), W(0x00A0B,-1), W(0x00A0F,1), W(0x00A11,-1), W(0x00A13,1),
	W(0x00A29,-1), W(0x00A2A,1), W(0x00A31,-1), W(0x00A32,1),
	W(0x00A34,-1), W(0x00A35,1), W(0x00A37,-1), W(0x00A38,1),
	W(0x00A3A,-1), W(0x00A3C,0), W(0x00A3D,-1), W(0x00A3E,1), W(0x00A41,0),
	W(0x00A43,-1), W(0x00A47,0), W(0x00A49,-1), W(0x00A4B,0),
	W(0x00A4E,-1), W(0x00A51,0), W(0x00A52,-1), W(0x00A59,1),
	W(0x00A5D,-1), W(0x00A5E,1), W(0x00A5F,-1), W(0x00A66,1), W(0x00A70,0),
	W(0x00A72,1), W(0x00A75,0), W(0x00A76,1), W(0x00A77,-1), W(0x00A81,0),
	W(0x00A83,1), W(0x00A84,-1), W(0x00A85,1), W(0x00A8E,-1), W(0x00A8F,1),
	W(0x00A92,-1), W(0x00A93,1), W(0x00AA9,-1), W(0x00AAA,1),
	W(0x00AB1,-1), W(0x00AB2,1), W(0x00AB4,-1), W(0x00AB5,1),
	W(0x00ABA,-1), W(0x00ABC,0), W(0x00ABD,1), W(0x00AC1,0), W(0x00AC6,-1),
	W(0x00AC7,0), W(0x00AC9,1), W(0x00ACA,-1), W(0x00ACB,1), W(0x00ACD,0),
	W(0x00ACE,-1), W(0x00AD0,1), W(0x00AD1,-1), W(0x00AE0,1), W(0x00AE2,0),
	W(0x00AE4,-1), W(0x00AE6,1), W(0x00AF2,-1), W(0x00AF9,1), W(0x00AFA,0),
	W(0x00B00,-1), W(0x00B01,0), W(0x00B02,1), W(0x00B04,-1), W(0x00B05,1),
	W(0x00B0D,-1), W(0x00B0F,1), W(0x00B11,-1), W(0x00B13,1),
	W(0x00B29,-1), W(0x00B2A,1), W(0x00B31,-1), W(0x00B32,1),
	W(0x00B34,-1), W(0x00B35,1), W(0x00B3A,-1), W(0x00B3C,0), W(0x00B3D,1),
	W(0x00B3F,0), W(0x00B40,1), W(0x00B41,0), W(0x00B45,-1), W(0x00B47,1),
	W(0x00B49,-1), W(0x00B4B,1), W(0x00B4D,0), W(0x00B4E,-1), W(0x00B55,0),
	W(0x00B57,1), W(0x00B58,-1), W(0x00B5C,1), W(0x00B5E,-1), W(0x00B5F,1),
	W(0x00B62,0), W(0x00B64,-1), W(0x00B66,1), W(0x00B78,-1), W(0x00B82,0),
	W(0x00B83,1), W(0x00B84,-1), W(0x00B85,1), W(0x00B8B,-1), W(0x00B8E,1),
	W(0x00B91,-1), W(0x00B92,1), W(0x00B96,-1), W(0x00B99,1),
	W(0x00B9B,-1), W(0x00B9C,1), W(0x00B9D,-1), W(0x00B9E,1),
	W(0x00BA0,-1), W(0x00BA3,1), W(0x00BA5,-1), W(0x00BA8,1),
	W(0x00BAB,-1), W(0x00BAE,1), W(0x00BBA,-1), W(0x00BBE,1), W(0x00BC0,0),
	W(0x00BC1,1), W(0x00BC3,-1), W(0x00BC6,1), W(0x00BC9,-1), W(0x00BCA,1),
	W(0x00BCD,0), W(0x00BCE,-1), W(0x00BD0,1), W(0x00BD1,-1), W(0x00BD7,1),
	W(0x00BD8,-1), W(0x00BE6,1), W(0x00BFB,-1), W(0x00C00,0), W(0x00C01,1),
	W(0x00C04,0), W(0x00C05,1), W(0x00C0D,-1), W(0x00C0E,1), W(0x00C11,-1),
	W(0x00C12,1), W(0x00C29,-1), W(0x00C2A,1), W(0x00C3A,-1), W(0x00C3C,0),
	W(0x00C3D,1), W(0x00C3E,0), W(0x00C41,1), W(0x00C45,-1), W(0x00C46,0),
	W(0x00C49,-1), W(0x00C4A,0), W(0x00C4E,-1), W(0x00C55,0),
	W(0x00C57,-1), W(0x00C58,1), W(0x00C5B,-1), W(0x00C5D,1),
	W(0x00C5E,-1), W(0x00C60,1), W(0x00C62,0), W(0x00C64,-1), W(0x00C66,1),
	W(0x00C70,-1), W(0x00C77,1), W(0x00C81,0), W(0x00C82,1), W(0x00C8D,-1),
	W(0x00C8E,1), W(0x00C91,-1), W(0x00C92,1), W(0x00CA9,-1), W(0x00CAA,1),
	W(0x00CB4,-1), W(0x00CB5,1), W(0x00CBA,-1), W(0x00CBC,0), W(0x00CBD,1),
	W(0x00CBF,0), W(0x00CC0,1), W(0x00CC5,-1), W(0x00CC6,0), W(0x00CC7,1),
	W(0x00CC9,-1), W(0x00CCA,1), W(0x00CCC,0), W(0x00CCE,-1), W(0x00CD5,1),
	W(0x00CD7,-1), W(0x00CDD,1), W(0x00CDF,-1), W(0x00CE0,1), W(0x00CE2,0),
	W(0x00CE4,-1), W(0x00CE6,1), W(0x00CF0,-1), W(0x00CF1,1),
	W(0x00CF3,-1), W(0x00D00,0), W(0x00D02,1), W(0x00D0D,-1), W(0x00D0E,1),
	W(0x00D11,-1), W(0x00D12,1), W(0x00D3B,0), W(0x00D3D,1), W(0x00D41,0),
	W(0x00D45,-1), W(0x00D46,1), W(0x00D49,-1), W(0x00D4A,1), W(0x00D4D,0),
	W(0x00D4E,1), W(0x00D50,-1), W(0x00D54,1), W(0x00D62,0), W(0x00D64,-1),
	W(0x00D66,1), W(0x00D80,-1), W(0x00D81,0), W(0x00D82,1), W(0x00D84,-1),
	W(0x00D85,1), W(0x00D97,-1), W(0x00D9A,1), W(0x00DB2,-1), W(0x00DB3,1),
	W(0x00DBC,-1), W(0x00DBD,1), W(0x00DBE,-1), W(0x00DC0,1),
	W(0x00DC7,-1), W(0x00DCA,0), W(0x00DCB,-1), W(0x00DCF,1), W(0x00DD2,0),
	W(0x00DD5,-1), W(0x00DD6,0), W(0x00DD7,-1), W(0x00DD8,1),
	W(0x00DE0,-1), W(0x00DE6,1), W(0x00DF0,-1), W(0x00DF2,1),
	W(0x00DF5,-1), W(0x00E01,1), W(0x00E31,0), W(0x00E32,1), W(0x00E34,0),
	W(0x00E3B,-1), W(0x00E3F,1), W(0x00E47,0), W(0x00E4F,1), W(0x00E5C,-1),
	W(0x00E81,1), W(0x00E83,-1), W(0x00E84,1), W(0x00E85,-1), W(0x00E86,1),
	W(0x00E8B,-1), W(0x00E8C,1), W(0x00EA4,-1), W(0x00EA5,1),
	W(0x00EA6,-1), W(0x00EA7,1), W(0x00EB1,0), W(0x00EB2,1), W(0x00EB4,0),
	W(0x00EBD,1), W(0x00EBE,-1), W(0x00EC0,1), W(0x00EC5,-1), W(0x00EC6,1),
	W(0x00EC7,-1), W(0x00EC8,0), W(0x00ECE,-1), W(0x00ED0,1),
	W(0x00EDA,-1), W(0x00EDC,1), W(0x00EE0,-1), W(0x00F00,1), W(0x00F18,0),
	W(0x00F1A,1), W(0x00F35,0), W(0x00F36,1), W(0x00F37,0), W(0x00F38,1),
	W(0x00F39,0), W(0x00F3A,1), W(0x00F48,-1), W(0x00F49,1), W(0x00F6D,-1),
	W(0x00F71,0), W(0x00F7F,1), W(0x00F80,0), W(0x00F85,1), W(0x00F86,0),
	W(0x00F88,1), W(0x00F8D,0), W(0x00F98,-1), W(0x00F99,0), W(0x00FBD,-1),
	W(0x00FBE,1), W(0x00FC6,0), W(0x00FC7,1), W(0x00FCD,-1), W(0x00FCE,1),
	W(0x00FDB,-1), W(0x01000,1), W(0x0102D,0), W(0x01031,1), W(0x01032,0),
	W(0x01038,1), W(0x01039,0), W(0x0103B,1), W(0x0103D,0), W(0x0103F,1),
	W(0x01058,0), W(0x0105A,1), W(0x0105E,0), W(0x01061,1), W(0x01071,0),
	W(0x01075,1), W(0x01082,0), W(0x01083,1), W(0x01085,0), W(0x01087,1),
	W(0x0108D,0), W(0x0108E,1), W(0x0109D,0), W(0x0109E,1), W(0x010C6,-1),
	W(0x010C7,1), W(0x010C8,-1), W(0x010CD,1), W(0x010CE,-1), W(0x010D0,1),
	W(0x01100,2), W(0x01160,0), W(0x01200,1), W(0x01249,-1), W(0x0124A,1),
	W(0x0124E,-1), W(0x01250,1), W(0x01257,-1), W(0x01258,1),
	W(0x01259,-1), W(0x0125A,1), W(0x0125E,-1), W(0x01260,1),
	W(0x01289,-1), W(0x0128A,1), W(0x0128E,-1), W(0x01290,1),
	W(0x012B1,-1), W(0x012B2,1), W(0x012B6,-1), W(0x012B8,1),
	W(0x012BF,-1), W(0x012C0,1), W(0x012C1,-1), W(0x012C2,1),
	W(0x012C6,-1), W(0x012C8,1), W(0x012D7,-1), W(0x012D8,1),
	W(0x01311,-1), W(0x01312,1), W(0x01316,-1), W(0x01318,1),
	W(0x0135B,-1), W(0x0135D,0), W(0x01360,1), W(0x0137D,-1), W(0x01380,1),
	W(0x0139A,-1), W(0x013A0,1), W(0x013F6,-1), W(0x013F8,1),
	W(0x013FE,-1), W(0x01400,1), W(0x0169D,-1), W(0x016A0,1),
	W(0x016F9,-1), W(0x01700,1), W(0x01712,0), W(0x01715,1), W(0x01716,-1),
	W(0x0171F,1), W(0x01732,0), W(0x01734,1), W(0x01737,-1), W(0x01740,1),
	W(0x01752,0), W(0x01754,-1), W(0x01760,1), W(0x0176D,-1), W(0x0176E,1),
	W(0x01771,-1), W(0x01772,0), W(0x01774,-1), W(0x01780,1), W(0x017B4,0),
	W(0x017B6,1), W(0x017B7,0), W(0x017BE,1), W(0x017C6,0), W(0x017C7,1),
	W(0x017C9,0), W(0x017D4,1), W(0x017DD,0), W(0x017DE,-1), W(0x017E0,1),
	W(0x017EA,-1), W(0x017F0,1), W(0x017FA,-1), W(0x01800,1), W(0x0180B,0),
	W(0x01810,1), W(0x0181A,-1), W(0x01820,1), W(0x01879,-1), W(0x01880,1),
	W(0x01885,0), W(0x01887,1), W(0x018A9,0), W(0x018AA,1), W(0x018AB,-1),
	W(0x018B0,1), W(0x018F6,-1), W(0x01900,1), W(0x0191F,-1), W(0x01920,0),
	W(0x01923,1), W(0x01927,0), W(0x01929,1), W(0x0192C,-1), W(0x01930,1),
	W(0x01932,0), W(0x01933,1), W(0x01939,0), W(0x0193C,-1), W(0x01940,1),
	W(0x01941,-1), W(0x01944,1), W(0x0196E,-1), W(0x01970,1),
	W(0x01975,-1), W(0x01980,1), W(0x019AC,-1), W(0x019B0,1),
	W(0x019CA,-1), W(0x019D0,1), W(0x019DB,-1), W(0x019DE,1), W(0x01A17,0),
	W(0x01A19,1), W(0x01A1B,0), W(0x01A1C,-1), W(0x01A1E,1), W(0x01A56,0),
	W(0x01A57,1), W(0x01A58,0), W(0x01A5F,-1), W(0x01A60,0), W(0x01A61,1),
	W(0x01A62,0), W(0x01A63,1), W(0x01A65,0), W(0x01A6D,1), W(0x01A73,0),
	W(0x01A7D,-1), W(0x01A7F,0), W(0x01A80,1), W(0x01A8A,-1), W(0x01A90,1),
	W(0x01A9A,-1), W(0x01AA0,1), W(0x01AAE,-1), W(0x01AB0,0),
	W(0x01ACF,-1), W(0x01B00,0), W(0x01B04,1), W(0x01B34,0), W(0x01B35,1),
	W(0x01B36,0), W(0x01B3B,1), W(0x01B3C,0), W(0x01B3D,1), W(0x01B42,0),
	W(0x01B43,1), W(0x01B4D,-1), W(0x01B50,1), W(0x01B6B,0), W(0x01B74,1),
	W(0x01B7F,-1), W(0x01B80,0), W(0x01B82,1), W(0x01BA2,0), W(0x01BA6,1),
	W(0x01BA8,0), W(0x01BAA,1), W(0x01BAB,0), W(0x01BAE,1), W(0x01BE6,0),
	W(0x01BE7,1), W(0x01BE8,0), W(0x01BEA,1), W(0x01BED,0), W(0x01BEE,1),
	W(0x01BEF,0), W(0x01BF2,1), W(0x01BF4,-1), W(0x01BFC,1), W(0x01C2C,0),
	W(0x01C34,1), W(0x01C36,0), W(0x01C38,-1), W(0x01C3B,1), W(0x01C4A,-1),
	W(0x01C4D,1), W(0x01C89,-1), W(0x01C90,1), W(0x01CBB,-1), W(0x01CBD,1),
	W(0x01CC8,-1), W(0x01CD0,0), W(0x01CD3,1), W(0x01CD4,0), W(0x01CE1,1),
	W(0x01CE2,0), W(0x01CE9,1), W(0x01CED,0), W(0x01CEE,1), W(0x01CF4,0),
	W(0x01CF5,1), W(0x01CF8,0), W(0x01CFA,1), W(0x01CFB,-1), W(0x01D00,1),
	W(0x01DC0,0), W(0x01E00,1), W(0x01F16,-1), W(0x01F18,1), W(0x01F1E,-1),
	W(0x01F20,1), W(0x01F46,-1), W(0x01F48,1), W(0x01F4E,-1), W(0x01F50,1),
	W(0x01F58,-1), W(0x01F59,1), W(0x01F5A,-1), W(0x01F5B,1),
	W(0x01F5C,-1), W(0x01F5D,1), W(0x01F5E,-1), W(0x01F5F,1),
	W(0x01F7E,-1), W(0x01F80,1), W(0x01FB5,-1), W(0x01FB6,1),
	W(0x01FC5,-1), W(0x01FC6,1), W(0x01FD4,-1), W(0x01FD6,1),
	W(0x01FDC,-1), W(0x01FDD,1), W(0x01FF0,-1), W(0x01FF2,1),
	W(0x01FF5,-1), W(0x01FF6,1), W(0x01FFF,-1), W(0x02000,1), W(0x0200B,0),
	W(0x02010,1), W(0x02028,-1), W(0x0202A,0), W(0x0202F,1), W(0x02060,0),
	W(0x02065,-1), W(0x02066,0), W(0x02070,1), W(0x02072,-1), W(0x02074,1),
	W(0x0208F,-1), W(0x02090,1), W(0x0209D,-1), W(0x020A0,1),
	W(0x020C1,-1), W(0x020D0,0), W(0x020F1,-1), W(0x02100,1),
	W(0x0218C,-1), W(0x02190,1), W(0x0231A,2), W(0x0231C,1), W(0x02329,2),
	W(0x0232B,1), W(0x023E9,2), W(0x023ED,1), W(0x023F0,2), W(0x023F1,1),
	W(0x023F3,2), W(0x023F4,1), W(0x02427,-1), W(0x02440,1), W(0x0244B,-1),
	W(0x02460,1), W(0x025FD,2), W(0x025FF,1), W(0x02614,2), W(0x02616,1),
	W(0x02648,2), W(0x02654,1), W(0x0267F,2), W(0x02680,1), W(0x02693,2),
	W(0x02694,1), W(0x026A1,2), W(0x026A2,1), W(0x026AA,2), W(0x026AC,1),
	W(0x026BD,2), W(0x026BF,1), W(0x026C4,2), W(0x026C6,1), W(0x026CE,2),
	W(0x026CF,1), W(0x026D4,2), W(0x026D5,1), W(0x026EA,2), W(0x026EB,1),
	W(0x026F2,2), W(0x026F4,1), W(0x026F5,2), W(0x026F6,1), W(0x026FA,2),
	W(0x026FB,1), W(0x026FD,2), W(0x026FE,1), W(0x02705,2), W(0x02706,1),
	W(0x0270A,2), W(0x0270C,1), W(0x02728,2), W(0x02729,1), W(0x0274C,2),
	W(0x0274D,1), W(0x0274E,2), W(0x0274F,1), W(0x02753,2), W(0x02756,1),
	W(0x02757,2), W(0x02758,1), W(0x02795,2), W(0x02798,1), W(0x027B0,2),
	W(0x027B1,1), W(0x027BF,2), W(0x027C0,1), W(0x02B1B,2), W(0x02B1D,1),
	W(0x02B50,2), W(0x02B51,1), W(0x02B55,2), W(0x02B56,1), W(0x02B74,-1),
	W(0x02B76,1), W(0x02B96,-1), W(0x02B97,1), W(0x02CEF,0), W(0x02CF2,1),
	W(0x02CF4,-1), W(0x02CF9,1), W(0x02D26,-1), W(0x02D27,1),
	W(0x02D28,-1), W(0x02D2D,1), W(0x02D2E,-1), W(0x02D30,1),
	W(0x02D68,-1), W(0x02D6F,1), W(0x02D71,-1), W(0x02D7F,0), W(0x02D80,1),
	W(0x02D97,-1), W(0x02DA0,1), W(0x02DA7,-1), W(0x02DA8,1),
	W(0x02DAF,-1), W(0x02DB0,1), W(0x02DB7,-1), W(0x02DB8,1),
	W(0x02DBF,-1), W(0x02DC0,1), W(0x02DC7,-1), W(0x02DC8,1),
	W(0x02DCF,-1), W(0x02DD0,1), W(0x02DD7,-1), W(0x02DD8,1),
	W(0x02DDF,-1), W(0x02DE0,0), W(0x02E00,1), W(0x02E5E,-1), W(0x02E80,2),
	W(0x02E9A,-1), W(0x02E9B,2), W(0x02EF4,-1), W(0x02F00,2),
	W(0x02FD6,-1), W(0x02FF0,2), W(0x02FFC,-1), W(0x03000,2), W(0x0302A,0),
	W(0x0302E,2), W(0x0303F,1), W(0x03040,-1), W(0x03041,2), W(0x03097,-1),
	W(0x03099,0), W(0x0309B,2), W(0x03100,-1), W(0x03105,2), W(0x03130,-1),
	W(0x03131,2), W(0x0318F,-1), W(0x03190,2), W(0x031E4,-1), W(0x031F0,2),
	W(0x0321F,-1), W(0x03220,2), W(0x0A48D,-1), W(0x0A490,2),
	W(0x0A4C7,-1), W(0x0A4D0,1), W(0x0A62C,-1), W(0x0A640,1), W(0x0A66F,0),
	W(0x0A673,1), W(0x0A674,0), W(0x0A67E,1), W(0x0A69E,0), W(0x0A6A0,1),
	W(0x0A6F0,0), W(0x0A6F2,1), W(0x0A6F8,-1), W(0x0A700,1), W(0x0A7CB,-1),
	W(0x0A7D0,1), W(0x0A7D2,-1), W(0x0A7D3,1), W(0x0A7D4,-1), W(0x0A7D5,1),
	W(0x0A7DA,-1), W(0x0A7F2,1), W(0x0A802,0), W(0x0A803,1), W(0x0A806,0),
	W(0x0A807,1), W(0x0A80B,0), W(0x0A80C,1), W(0x0A825,0), W(0x0A827,1),
	W(0x0A82C,0), W(0x0A82D,-1), W(0x0A830,1), W(0x0A83A,-1), W(0x0A840,1),
	W(0x0A878,-1), W(0x0A880,1), W(0x0A8C4,0), W(0x0A8C6,-1), W(0x0A8CE,1),
	W(0x0A8DA,-1), W(0x0A8E0,0), W(0x0A8F2,1), W(0x0A8FF,0), W(0x0A900,1),
	W(0x0A926,0), W(0x0A92E,1), W(0x0A947,0), W(0x0A952,1), W(0x0A954,-1),
	W(0x0A95F,1), W(0x0A960,2), W(0x0A97D,-1), W(0x0A980,0), W(0x0A983,1),
	W(0x0A9B3,0), W(0x0A9B4,1), W(0x0A9B6,0), W(0x0A9BA,1), W(0x0A9BC,0),
	W(0x0A9BE,1), W(0x0A9CE,-1), W(0x0A9CF,1), W(0x0A9DA,-1), W(0x0A9DE,1),
	W(0x0A9E5,0), W(0x0A9E6,1), W(0x0A9FF,-1), W(0x0AA00,1), W(0x0AA29,0),
	W(0x0AA2F,1), W(0x0AA31,0), W(0x0AA33,1), W(0x0AA35,0), W(0x0AA37,-1),
	W(0x0AA40,1), W(0x0AA43,0), W(0x0AA44,1), W(0x0AA4C,0), W(0x0AA4D,1),
	W(0x0AA4E,-1), W(0x0AA50,1), W(0x0AA5A,-1), W(0x0AA5C,1), W(0x0AA7C,0),
	W(0x0AA7D,1), W(0x0AAB0,0), W(0x0AAB1,1), W(0x0AAB2,0), W(0x0AAB5,1),
	W(0x0AAB7,0), W(0x0AAB9,1), W(0x0AABE,0), W(0x0AAC0,1), W(0x0AAC1,0),
	W(0x0AAC2,1), W(0x0AAC3,-1), W(0x0AADB,1), W(0x0AAEC,0), W(0x0AAEE,1),
	W(0x0AAF6,0), W(0x0AAF7,-1), W(0x0AB01,1), W(0x0AB07,-1), W(0x0AB09,1),
	W(0x0AB0F,-1), W(0x0AB11,1), W(0x0AB17,-1), W(0x0AB20,1),
	W(0x0AB27,-1), W(0x0AB28,1), W(0x0AB2F,-1), W(0x0AB30,1),
	W(0x0AB6C,-1), W(0x0AB70,1), W(0x0ABE5,0), W(0x0ABE6,1), W(0x0ABE8,0),
	W(0x0ABE9,1), W(0x0ABED,0), W(0x0ABEE,-1), W(0x0ABF0,1), W(0x0ABFA,-1),
	W(0x0AC00,2), W(0x0D7A4,-1), W(0x0D7B0,0), W(0x0D7C7,-1), W(0x0D7CB,0),
	W(0x0D7FC,-1), W(0x0E000,1), W(0x0F900,2), W(0x0FA6E,-1), W(0x0FA70,2),
	W(0x0FADA,-1), W(0x0FB00,1), W(0x0FB07,-1), W(0x0FB13,1),
	W(0x0FB18,-1), W(0x0FB1D,1), W(0x0FB1E,0), W(0x0FB1F,1), W(0x0FB37,-1),
	W(0x0FB38,1), W(0x0FB3D,-1), W(0x0FB3E,1), W(0x0FB3F,-1), W(0x0FB40,1),
	W(0x0FB42,-1), W(0x0FB43,1), W(0x0FB45,-1), W(0x0FB46,1),
	W(0x0FBC3,-1), W(0x0FBD3,1), W(0x0FD90,-1), W(0x0FD92,1),
	W(0x0FDC8,-1), W(0x0FDCF,1), W(0x0FDD0,-1), W(0x0FDF0,1), W(0x0FE00,0),
	W(0x0FE10,2), W(0x0FE1A,-1), W(0x0FE20,0), W(0x0FE30,2), W(0x0FE53,-1),
	W(0x0FE54,2), W(0x0FE67,-1), W(0x0FE68,2), W(0x0FE6C,-1), W(0x0FE70,1),
	W(0x0FE75,-1), W(0x0FE76,1), W(0x0FEFD,-1), W(0x0FEFF,0),
	W(0x0FF00,-1), W(0x0FF01,2), W(0x0FF61,1), W(0x0FFBF,-1), W(0x0FFC2,1),
	W(0x0FFC8,-1), W(0x0FFCA,1), W(0x0FFD0,-1), W(0x0FFD2,1),
	W(0x0FFD8,-1), W(0x0FFDA,1), W(0x0FFDD,-1), W(0x0FFE0,2),
	W(0x0FFE7,-1), W(0x0FFE8,1), W(0x0FFEF,-1), W(0x0FFF9,0), W(0x0FFFC,1),
	W(0x0FFFE,-1), W(0x10000,1), W(0x1000C,-1), W(0x1000D,1),
	W(0x10027,-1), W(0x10028,1), W(0x1003B,-1), W(0x1003C,1),
	W(0x1003E,-1), W(0x1003F,1), W(0x1004E,-1), W(0x10050,1),
	W(0x1005E,-1), W(0x10080,1), W(0x100FB,-1), W(0x10100,1),
	W(0x10103,-1), W(0x10107,1), W(0x10134,-1), W(0x10137,1),
	W(0x1018F,-1), W(0x10190,1), W(0x1019D,-1), W(0x101A0,1),
	W(0x101A1,-1), W(0x101D0,1), W(0x101FD,0), W(0x101FE,-1), W(0x10280,1),
	W(0x1029D,-1), W(0x102A0,1), W(0x102D1,-1), W(0x102E0,0), W(0x102E1,1),
	W(0x102FC,-1), W(0x10300,1), W(0x10324,-1), W(0x1032D,1),
	W(0x1034B,-1), W(0x10350,1), W(0x10376,0), W(0x1037B,-1), W(0x10380,1),
	W(0x1039E,-1), W(0x1039F,1), W(0x103C4,-1), W(0x103C8,1),
	W(0x103D6,-1), W(0x10400,1), W(0x1049E,-1), W(0x104A0,1),
	W(0x104AA,-1), W(0x104B0,1), W(0x104D4,-1), W(0x104D8,1),
	W(0x104FC,-1), W(0x10500,1), W(0x10528,-1), W(0x10530,1),
	W(0x10564,-1), W(0x1056F,1), W(0x1057B,-1), W(0x1057C,1),
	W(0x1058B,-1), W(0x1058C,1), W(0x10593,-1), W(0x10594,1),
	W(0x10596,-1), W(0x10597,1), W(0x105A2,-1), W(0x105A3,1),
	W(0x105B2,-1), W(0x105B3,1), W(0x105BA,-1), W(0x105BB,1),
	W(0x105BD,-1), W(0x10600,1), W(0x10737,-1), W(0x10740,1),
	W(0x10756,-1), W(0x10760,1), W(0x10768,-1), W(0x10780,1),
	W(0x10786,-1), W(0x10787,1), W(0x107B1,-1), W(0x107B2,1),
	W(0x107BB,-1), W(0x10800,1), W(0x10806,-1), W(0x10808,1),
	W(0x10809,-1), W(0x1080A,1), W(0x10836,-1), W(0x10837,1),
	W(0x10839,-1), W(0x1083C,1), W(0x1083D,-1), W(0x1083F,1),
	W(0x10856,-1), W(0x10857,1), W(0x1089F,-1), W(0x108A7,1),
	W(0x108B0,-1), W(0x108E0,1), W(0x108F3,-1), W(0x108F4,1),
	W(0x108F6,-1), W(0x108FB,1), W(0x1091C,-1), W(0x1091F,1),
	W(0x1093A,-1), W(0x1093F,1), W(0x10940,-1), W(0x10980,1),
	W(0x109B8,-1), W(0x109BC,1), W(0x109D0,-1), W(0x109D2,1), W(0x10A01,0),
	W(0x10A04,-1), W(0x10A05,0), W(0x10A07,-1), W(0x10A0C,0), W(0x10A10,1),
	W(0x10A14,-1), W(0x10A15,1), W(0x10A18,-1), W(0x10A19,1),
	W(0x10A36,-1), W(0x10A38,0), W(0x10A3B,-1), W(0x10A3F,0), W(0x10A40,1),
	W(0x10A49,-1), W(0x10A50,1), W(0x10A59,-1), W(0x10A60,1),
	W(0x10AA0,-1), W(0x10AC0,1), W(0x10AE5,0), W(0x10AE7,-1), W(0x10AEB,1),
	W(0x10AF7,-1), W(0x10B00,1), W(0x10B36,-1), W(0x10B39,1),
	W(0x10B56,-1), W(0x10B58,1), W(0x10B73,-1), W(0x10B78,1),
	W(0x10B92,-1), W(0x10B99,1), W(0x10B9D,-1), W(0x10BA9,1),
	W(0x10BB0,-1), W(0x10C00,1), W(0x10C49,-1), W(0x10C80,1),
	W(0x10CB3,-1), W(0x10CC0,1), W(0x10CF3,-1), W(0x10CFA,1), W(0x10D24,0),
	W(0x10D28,-1), W(0x10D30,1), W(0x10D3A,-1), W(0x10E60,1),
	W(0x10E7F,-1), W(0x10E80,1), W(0x10EAA,-1), W(0x10EAB,0), W(0x10EAD,1),
	W(0x10EAE,-1), W(0x10EB0,1), W(0x10EB2,-1), W(0x10F00,1),
	W(0x10F28,-1), W(0x10F30,1), W(0x10F46,0), W(0x10F51,1), W(0x10F5A,-1),
	W(0x10F70,1), W(0x10F82,0), W(0x10F86,1), W(0x10F8A,-1), W(0x10FB0,1),
	W(0x10FCC,-1), W(0x10FE0,1), W(0x10FF7,-1), W(0x11000,1), W(0x11001,0),
	W(0x11002,1), W(0x11038,0), W(0x11047,1), W(0x1104E,-1), W(0x11052,1),
	W(0x11070,0), W(0x11071,1), W(0x11073,0), W(0x11075,1), W(0x11076,-1),
	W(0x1107F,0), W(0x11082,1), W(0x110B3,0), W(0x110B7,1), W(0x110B9,0),
	W(0x110BB,1), W(0x110C2,0), W(0x110C3,-1), W(0x110CD,1), W(0x110CE,-1),
	W(0x110D0,1), W(0x110E9,-1), W(0x110F0,1), W(0x110FA,-1), W(0x11100,0),
	W(0x11103,1), W(0x11127,0), W(0x1112C,1), W(0x1112D,0), W(0x11135,-1),
	W(0x11136,1), W(0x11148,-1), W(0x11150,1), W(0x11173,0), W(0x11174,1),
	W(0x11177,-1), W(0x11180,0), W(0x11182,1), W(0x111B6,0), W(0x111BF,1),
	W(0x111C9,0), W(0x111CD,1), W(0x111CF,0), W(0x111D0,1), W(0x111E0,-1),
	W(0x111E1,1), W(0x111F5,-1), W(0x11200,1), W(0x11212,-1), W(0x11213,1),
	W(0x1122F,0), W(0x11232,1), W(0x11234,0), W(0x11235,1), W(0x11236,0),
	W(0x11238,1), W(0x1123E,0), W(0x1123F,-1), W(0x11280,1), W(0x11287,-1),
	W(0x11288,1), W(0x11289,-1), W(0x1128A,1), W(0x1128E,-1), W(0x1128F,1),
	W(0x1129E,-1), W(0x1129F,1), W(0x112AA,-1), W(0x112B0,1), W(0x112DF,0),
	W(0x112E0,1), W(0x112E3,0), W(0x112EB,-1), W(0x112F0,1), W(0x112FA,-1),
	W(0x11300,0), W(0x11302,1), W(0x11304,-1), W(0x11305,1), W(0x1130D,-1),
	W(0x1130F,1), W(0x11311,-1), W(0x11313,1), W(0x11329,-1), W(0x1132A,1),
	W(0x11331,-1), W(0x11332,1), W(0x11334,-1), W(0x11335,1),
	W(0x1133A,-1), W(0x1133B,0), W(0x1133D,1), W(0x11340,0), W(0x11341,1),
	W(0x11345,-1), W(0x11347,1), W(0x11349,-1), W(0x1134B,1),
	W(0x1134E,-1), W(0x11350,1), W(0x11351,-1), W(0x11357,1),
	W(0x11358,-1), W(0x1135D,1), W(0x11364,-1), W(0x11366,0),
	W(0x1136D,-1), W(0x11370,0), W(0x11375,-1), W(0x11400,1), W(0x11438,0),
	W(0x11440,1), W(0x11442,0), W(0x11445,1), W(0x11446,0), W(0x11447,1),
	W(0x1145C,-1), W(0x1145D,1), W(0x1145E,0), W(0x1145F,1), W(0x11462,-1),
	W(0x11480,1), W(0x114B3,0), W(0x114B9,1), W(0x114BA,0), W(0x114BB,1),
	W(0x114BF,0), W(0x114C1,1), W(0x114C2,0), W(0x114C4,1), W(0x114C8,-1),
	W(0x114D0,1), W(0x114DA,-1), W(0x11580,1), W(0x115B2,0), W(0x115B6,-1),
	W(0x115B8,1), W(0x115BC,0), W(0x115BE,1), W(0x115BF,0), W(0x115C1,1),
	W(0x115DC,0), W(0x115DE,-1), W(0x11600,1), W(0x11633,0), W(0x1163B,1),
	W(0x1163D,0), W(0x1163E,1), W(0x1163F,0), W(0x11641,1), W(0x11645,-1),
	W(0x11650,1), W(0x1165A,-1), W(0x11660,1), W(0x1166D,-1), W(0x11680,1),
	W(0x116AB,0), W(0x116AC,1), W(0x116AD,0), W(0x116AE,1), W(0x116B0,0),
	W(0x116B6,1), W(0x116B7,0), W(0x116B8,1), W(0x116BA,-1), W(0x116C0,1),
	W(0x116CA,-1), W(0x11700,1), W(0x1171B,-1), W(0x1171D,0), W(0x11720,1),
	W(0x11722,0), W(0x11726,1), W(0x11727,0), W(0x1172C,-1), W(0x11730,1),
	W(0x11747,-1), W(0x11800,1), W(0x1182F,0), W(0x11838,1), W(0x11839,0),
	W(0x1183B,1), W(0x1183C,-1), W(0x118A0,1), W(0x118F3,-1), W(0x118FF,1),
	W(0x11907,-1), W(0x11909,1), W(0x1190A,-1), W(0x1190C,1),
	W(0x11914,-1), W(0x11915,1), W(0x11917,-1), W(0x11918,1),
	W(0x11936,-1), W(0x11937,1), W(0x11939,-1), W(0x1193B,0), W(0x1193D,1),
	W(0x1193E,0), W(0x1193F,1), W(0x11943,0), W(0x11944,1), W(0x11947,-1),
	W(0x11950,1), W(0x1195A,-1), W(0x119A0,1), W(0x119A8,-1), W(0x119AA,1),
	W(0x119D4,0), W(0x119D8,-1), W(0x119DA,0), W(0x119DC,1), W(0x119E0,0),
	W(0x119E1,1), W(0x119E5,-1), W(0x11A00,1), W(0x11A01,0), W(0x11A0B,1),
	W(0x11A33,0), W(0x11A39,1), W(0x11A3B,0), W(0x11A3F,1), W(0x11A47,0),
	W(0x11A48,-1), W(0x11A50,1), W(0x11A51,0), W(0x11A57,1), W(0x11A59,0),
	W(0x11A5C,1), W(0x11A8A,0), W(0x11A97,1), W(0x11A98,0), W(0x11A9A,1),
	W(0x11AA3,-1), W(0x11AB0,1), W(0x11AF9,-1), W(0x11C00,1),
	W(0x11C09,-1), W(0x11C0A,1), W(0x11C30,0), W(0x11C37,-1), W(0x11C38,0),
	W(0x11C3E,1), W(0x11C3F,0), W(0x11C40,1), W(0x11C46,-1), W(0x11C50,1),
	W(0x11C6D,-1), W(0x11C70,1), W(0x11C90,-1), W(0x11C92,0),
	W(0x11CA8,-1), W(0x11CA9,1), W(0x11CAA,0), W(0x11CB1,1), W(0x11CB2,0),
	W(0x11CB4,1), W(0x11CB5,0), W(0x11CB7,-1), W(0x11D00,1), W(0x11D07,-1),
	W(0x11D08,1), W(0x11D0A,-1), W(0x11D0B,1), W(0x11D31,0), W(0x11D37,-1),
	W(0x11D3A,0), W(0x11D3B,-1), W(0x11D3C,0), W(0x11D3E,-1), W(0x11D3F,0),
	W(0x11D46,1), W(0x11D47,0), W(0x11D48,-1), W(0x11D50,1), W(0x11D5A,-1),
	W(0x11D60,1), W(0x11D66,-1), W(0x11D67,1), W(0x11D69,-1), W(0x11D6A,1),
	W(0x11D8F,-1), W(0x11D90,0), W(0x11D92,-1), W(0x11D93,1), W(0x11D95,0),
	W(0x11D96,1), W(0x11D97,0), W(0x11D98,1), W(0x11D99,-1), W(0x11DA0,1),
	W(0x11DAA,-1), W(0x11EE0,1), W(0x11EF3,0), W(0x11EF5,1), W(0x11EF9,-1),
	W(0x11FB0,1), W(0x11FB1,-1), W(0x11FC0,1), W(0x11FF2,-1), W(0x11FFF,1),
	W(0x1239A,-1), W(0x12400,1), W(0x1246F,-1), W(0x12470,1),
	W(0x12475,-1), W(0x12480,1), W(0x12544,-1), W(0x12F90,1),
	W(0x12FF3,-1), W(0x13000,1), W(0x1342F,-1), W(0x13430,0),
	W(0x13439,-1), W(0x14400,1), W(0x14647,-1), W(0x16800,1),
	W(0x16A39,-1), W(0x16A40,1), W(0x16A5F,-1), W(0x16A60,1),
	W(0x16A6A,-1), W(0x16A6E,1), W(0x16ABF,-1), W(0x16AC0,1),
	W(0x16ACA,-1), W(0x16AD0,1), W(0x16AEE,-1), W(0x16AF0,0), W(0x16AF5,1),
	W(0x16AF6,-1), W(0x16B00,1), W(0x16B30,0), W(0x16B37,1), W(0x16B46,-1),
	W(0x16B50,1), W(0x16B5A,-1), W(0x16B5B,1), W(0x16B62,-1), W(0x16B63,1),
	W(0x16B78,-1), W(0x16B7D,1), W(0x16B90,-1), W(0x16E40,1),
	W(0x16E9B,-1), W(0x16F00,1), W(0x16F4B,-1), W(0x16F4F,0), W(0x16F50,1),
	W(0x16F88,-1), W(0x16F8F,0), W(0x16F93,1), W(0x16FA0,-1), W(0x16FE0,2),
	W(0x16FE4,0), W(0x16FE5,-1), W(0x16FF0,2), W(0x16FF2,-1), W(0x17000,2),
	W(0x187F8,-1), W(0x18800,2), W(0x18CD6,-1), W(0x18D00,2),
	W(0x18D09,-1), W(0x1AFF0,2), W(0x1AFF4,-1), W(0x1AFF5,2),
	W(0x1AFFC,-1), W(0x1AFFD,2), W(0x1AFFF,-1), W(0x1B000,2),
	W(0x1B123,-1), W(0x1B150,2), W(0x1B153,-1), W(0x1B164,2),
	W(0x1B168,-1), W(0x1B170,2), W(0x1B2FC,-1), W(0x1BC00,1),
	W(0x1BC6B,-1), W(0x1BC70,1), W(0x1BC7D,-1), W(0x1BC80,1),
	W(0x1BC89,-1), W(0x1BC90,1), W(0x1BC9A,-1), W(0x1BC9C,1), W(0x1BC9D,0),
	W(0x1BC9F,1), W(0x1BCA0,0), W(0x1BCA4,-1), W(0x1CF00,0), W(0x1CF2E,-1),
	W(0x1CF30,0), W(0x1CF47,-1), W(0x1CF50,1), W(0x1CFC4,-1), W(0x1D000,1),
	W(0x1D0F6,-1), W(0x1D100,1), W(0x1D127,-1), W(0x1D129,1), W(0x1D167,0),
	W(0x1D16A,1), W(0x1D173,0), W(0x1D183,1), W(0x1D185,0), W(0x1D18C,1),
	W(0x1D1AA,0), W(0x1D1AE,1), W(0x1D1EB,-1), W(0x1D200,1), W(0x1D242,0),
	W(0x1D245,1), W(0x1D246,-1), W(0x1D2E0,1), W(0x1D2F4,-1), W(0x1D300,1),
	W(0x1D357,-1), W(0x1D360,1), W(0x1D379,-1), W(0x1D400,1),
	W(0x1D455,-1), W(0x1D456,1), W(0x1D49D,-1), W(0x1D49E,1),
	W(0x1D4A0,-1), W(0x1D4A2,1), W(0x1D4A3,-1), W(0x1D4A5,1),
	W(0x1D4A7,-1), W(0x1D4A9,1), W(0x1D4AD,-1), W(0x1D4AE,1),
	W(0x1D4BA,-1), W(0x1D4BB,1), W(0x1D4BC,-1), W(0x1D4BD,1),
	W(0x1D4C4,-1), W(0x1D4C5,1), W(0x1D506,-1), W(0x1D507,1),
	W(0x1D50B,-1), W(0x1D50D,1), W(0x1D515,-1), W(0x1D516,1),
	W(0x1D51D,-1), W(0x1D51E,1), W(0x1D53A,-1), W(0x1D53B,1),
	W(0x1D53F,-1), W(0x1D540,1), W(0x1D545,-1), W(0x1D546,1),
	W(0x1D547,-1), W(0x1D54A,1), W(0x1D551,-1), W(0x1D552,1),
	W(0x1D6A6,-1), W(0x1D6A8,1), W(0x1D7CC,-1), W(0x1D7CE,1), W(0x1DA00,0),
	W(0x1DA37,1), W(0x1DA3B,0), W(0x1DA6D,1), W(0x1DA75,0), W(0x1DA76,1),
	W(0x1DA84,0), W(0x1DA85,1), W(0x1DA8C,-1), W(0x1DA9B,0), W(0x1DAA0,-1),
	W(0x1DAA1,0), W(0x1DAB0,-1), W(0x1DF00,1), W(0x1DF1F,-1), W(0x1E000,0),
	W(0x1E007,-1), W(0x1E008,0), W(0x1E019,-1), W(0x1E01B,0),
	W(0x1E022,-1), W(0x1E023,0), W(0x1E025,-1), W(0x1E026,0),
	W(0x1E02B,-1), W(0x1E100,1), W(0x1E12D,-1), W(0x1E130,0), W(0x1E137,1),
	W(0x1E13E,-1), W(0x1E140,1), W(0x1E14A,-1), W(0x1E14E,1),
	W(0x1E150,-1), W(0x1E290,1), W(0x1E2AE,0), W(0x1E2AF,-1), W(0x1E2C0,1),
	W(0x1E2EC,0), W(0x1E2F0,1), W(0x1E2FA,-1), W(0x1E2FF,1), W(0x1E300,-1),
	W(0x1E7E0,1), W(0x1E7E7,-1), W(0x1E7E8,1), W(0x1E7EC,-1), W(0x1E7ED,1),
	W(0x1E7EF,-1), W(0x1E7F0,1), W(0x1E7FF,-1), W(0x1E800,1),
	W(0x1E8C5,-1), W(0x1E8C7,1), W(0x1E8D0,0), W(0x1E8D7,-1), W(0x1E900,1),
	W(0x1E944,0), W(0x1E94B,1), W(0x1E94C,-1), W(0x1E950,1), W(0x1E95A,-1),
	W(0x1E95E,1), W(0x1E960,-1), W(0x1EC71,1), W(0x1ECB5,-1), W(0x1ED01,1),
	W(0x1ED3E,-1), W(0x1EE00,1), W(0x1EE04,-1), W(0x1EE05,1),
	W(0x1EE20,-1), W(0x1EE21,1), W(0x1EE23,-1), W(0x1EE24,1),
	W(0x1EE25,-1), W(0x1EE27,1), W(0x1EE28,-1), W(0x1EE29,1),
	W(0x1EE33,-1), W(0x1EE34,1), W(0x1EE38,-1), W(0x1EE39,1),
	W(0x1EE3A,-1), W(0x1EE3B,1), W(0x1EE3C,-1), W(0x1EE42,1),
	W(0x1EE43,-1), W(0x1EE47,1), W(0x1EE48,-1), W(0x1EE49,1),
	W(0x1EE4A,-1), W(0x1EE4B,1), W(0x1EE4C,-1), W(0x1EE4D,1),
	W(0x1EE50,-1), W(0x1EE51,1), W(0x1EE53,-1), W(0x1EE54,1),
	W(0x1EE55,-1), W(0x1EE57,1), W(0x1EE58,-1), W(0x1EE59,1),
	W(0x1EE5A,-1), W(0x1EE5B,1), W(0x1EE5C,-1), W(0x1EE5D,1),
	W(0x1EE5E,-1), W(0x1EE5F,1), W(0x1EE60,-1), W(0x1EE61,1),
	W(0x1EE63,-1), W(0x1EE64,1), W(0x1EE65,-1), W(0x1EE67,1),
	W(0x1EE6B,-1), W(0x1EE6C,1), W(0x1EE73,-1), W(0x1EE74,1),
	W(0x1EE78,-1), W(0x1EE79,1), W(0x1EE7D,-1), W(0x1EE7E,1),
	W(0x1EE7F,-1), W(0x1EE80,1), W(0x1EE8A,-1), W(0x1EE8B,1),
	W(0x1EE9C,-1), W(0x1EEA1,1), W(0x1EEA4,-1), W(0x1EEA5,1),
	W(0x1EEAA,-1), W(0x1EEAB,1), W(0x1EEBC,-1), W(0x1EEF0,1),
	W(0x1EEF2,-1), W(0x1F000,1), W(0x1F004,2), W(0x1F005,1), W(0x1F02C,-1),
	W(0x1F030,1), W(0x1F094,-1), W(0x1F0A0,1), W(0x1F0AF,-1), W(0x1F0B1,1),
	W(0x1F0C0,-1), W(0x1F0C1,1), W(0x1F0CF,2), W(0x1F0D0,-1), W(0x1F0D1,1),
	W(0x1F0F6,-1), W(0x1F100,1), W(0x1F18E,2), W(0x1F18F,1), W(0x1F191,2),
	W(0x1F19B,1), W(0x1F1AE,-1), W(0x1F1E6,1), W(0x1F200,2), W(0x1F203,-1),
	W(0x1F210,2), W(0x1F23C,-1), W(0x1F240,2), W(0x1F249,-1), W(0x1F250,2),
	W(0x1F252,-1), W(0x1F260,2), W(0x1F266,-1), W(0x1F300,2), W(0x1F321,1),
	W(0x1F32D,2), W(0x1F336,1), W(0x1F337,2), W(0x1F37D,1), W(0x1F37E,2),
	W(0x1F394,1), W(0x1F3A0,2), W(0x1F3CB,1), W(0x1F3CF,2), W(0x1F3D4,1),
	W(0x1F3E0,2), W(0x1F3F1,1), W(0x1F3F4,2), W(0x1F3F5,1), W(0x1F3F8,2),
	W(0x1F43F,1), W(0x1F440,2), W(0x1F441,1), W(0x1F442,2), W(0x1F4FD,1),
	W(0x1F4FF,2), W(0x1F53E,1), W(0x1F54B,2), W(0x1F54F,1), W(0x1F550,2),
	W(0x1F568,1), W(0x1F57A,2), W(0x1F57B,1), W(0x1F595,2), W(0x1F597,1),
	W(0x1F5A4,2), W(0x1F5A5,1), W(0x1F5FB,2), W(0x1F650,1), W(0x1F680,2),
	W(0x1F6C6,1), W(0x1F6CC,2), W(0x1F6CD,1), W(0x1F6D0,2), W(0x1F6D3,1),
	W(0x1F6D5,2), W(0x1F6D8,-1), W(0x1F6DD,2), W(0x1F6E0,1), W(0x1F6EB,2),
	W(0x1F6ED,-1), W(0x1F6F0,1), W(0x1F6F4,2), W(0x1F6FD,-1), W(0x1F700,1),
	W(0x1F774,-1), W(0x1F780,1), W(0x1F7D9,-1), W(0x1F7E0,2),
	W(0x1F7EC,-1), W(0x1F7F0,2), W(0x1F7F1,-1), W(0x1F800,1),
	W(0x1F80C,-1), W(0x1F810,1), W(0x1F848,-1), W(0x1F850,1),
	W(0x1F85A,-1), W(0x1F860,1), W(0x1F888,-1), W(0x1F890,1),
	W(0x1F8AE,-1), W(0x1F8B0,1), W(0x1F8B2,-1), W(0x1F900,1), W(0x1F90C,2),
	W(0x1F93B,1), W(0x1F93C,2), W(0x1F946,1), W(0x1F947,2), W(0x1FA00,1),
	W(0x1FA54,-1), W(0x1FA60,1), W(0x1FA6E,-1), W(0x1FA70,2),
	W(0x1FA75,-1), W(0x1FA78,2), W(0x1FA7D,-1), W(0x1FA80,2),
	W(0x1FA87,-1), W(0x1FA90,2), W(0x1FAAD,-1), W(0x1FAB0,2),
	W(0x1FABB,-1), W(0x1FAC0,2), W(0x1FAC6,-1), W(0x1FAD0,2),
	W(0x1FADA,-1), W(0x1FAE0,2), W(0x1FAE8,-1), W(0x1FAF0,2),
	W(0x1FAF7,-1), W(0x1FB00,1), W(0x1FB93,-1), W(0x1FB94,1),
	W(0x1FBCB,-1), W(0x1FBF0,1), W(0x1FBFA,-1), W(0x20000,2),
	W(0x2A6E0,-1), W(0x2A700,2), W(0x2B739,-1), W(0x2B740,2),
	W(0x2B81E,-1), W(0x2B820,2), W(0x2CEA2,-1), W(0x2CEB0,2),
	W(0x2EBE1,-1), W(0x2F800,2), W(0x2FA1E,-1), W(0x30000,2),
	W(0x3134B,-1), W(0xE0001,0), W(0xE0002,-1), W(0xE0020,0),
	W(0xE0080,-1), W(0xE0100,0), W(0xE01F0,-1), W(0xF0000,1),
	W(0xFFFFE,-1), W(0x100000,1), W(0x10FFFE,-1)
};
#undef W

/* The table's width of cp, and the range [*lo, *hi] that shares it. */
static int
width_range(uint32_t cp, uint32_t *lo, uint32_t *hi)
{
	size_t a = 0, b = LEN(wtab), mid;

	/* The last entry whose first code point is <= cp. */
	while (b - a > 1) {
		mid = a + (b - a) / 2;
		if ((wtab[mid] >> 2) <= cp) {
			a = mid;
		} else {
			b = mid;
		}
	}
	*lo = wtab[a] >> 2;
	*hi = a + 1 < LEN(wtab) ? (wtab[a + 1] >> 2) - 1 : 0x10ffff;
	return (int)(wtab[a] & 3) - 1;
}

int
vt_width(uint32_t cp)
{
	uint32_t lo, hi;

	if (cp == 0) {
		return -1;
	}
	if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) {
		return 1;
	}
	if (cp > 0x10ffff) {
		return -1;
	}
	return width_range(cp, &lo, &hi);
}

/* ---- UTF-8 decoding (§2): glibc's mbrtowc, byte by byte ---- */

enum { U_COMPLETE, U_NEED_MORE, U_BAD };

static int
utf8_classify(const uint8_t *s, int n, uint32_t *cp)
{
	static const uint32_t min[7] = { 0, 0, 0x80, 0x800, 0x10000,
	    0x200000, 0x4000000 };
	int len, i;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return U_COMPLETE;
	}
	if (s[0] < 0xc2 || s[0] >= 0xfe) {
		return U_BAD;
	}
	if (s[0] < 0xe0) {
		len = 2;
		v = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		len = 3;
		v = s[0] & 0x0f;
	} else if (s[0] < 0xf8) {
		len = 4;
		v = s[0] & 0x07;
	} else if (s[0] < 0xfc) {
		len = 5;
		v = s[0] & 0x03;
	} else {
		len = 6;
		v = s[0] & 0x01;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return U_BAD;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	if (n < len) {
		return U_NEED_MORE;
	}
	if (v < min[len] || (v >= 0xd800 && v <= 0xdfff)) {
		return U_BAD;
	}
	*cp = v > 0x10ffff ? 0xfffd : v;
	return U_COMPLETE;
}

/*
 * A whole, valid, printable (>= U+00A0) sequence at s: its length, with the
 * code point in *cp; 0 for anything else, which then goes byte by byte.
 */
static size_t
utf8_fast(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t v;

	if (s[0] < 0xe0) {
		if (n < 2 || (s[1] & 0xc0) != 0x80) {
			return 0;
		}
		v = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		*cp = v;
		return v >= 0xa0 ? 2 : 0;
	}
	if (s[0] < 0xf0) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) {
			return 0;
		}
		v = (uint32_t)(s[0] & 0x0f) << 12 |
		    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		*cp = v;
		return v >= 0x800 && (v < 0xd800 || v > 0xdfff) ? 3 : 0;
	}
	if (s[0] < 0xf5) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80) {
			return 0;
		}
		v = (uint32_t)(s[0] & 0x07) << 18 |
		    (uint32_t)(s[1] & 0x3f) << 12 |
		    (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
		*cp = v;
		return v >= 0x10000 && v <= 0x10ffff ? 4 : 0;
	}
	return 0;
}

/* One byte in, zero to two code points out. */
static int
utf8_byte(struct vt_parser *p, uint8_t b, uint32_t out[2])
{
	int n = 0;
	uint32_t cp;

	if (p->npend == 0 && b < 0x80) {
		out[0] = b;
		return 1;
	}
	p->pend[p->npend++] = b;
	for (;;) {
		switch (utf8_classify(p->pend, p->npend, &cp)) {
		case U_NEED_MORE:
			return n;
		case U_BAD:
			out[n++] = 0xfffd;
			if (p->npend > 1) {
				/* Look at the byte that broke it on its own. */
				p->pend[0] = p->pend[p->npend - 1];
				p->npend = 1;
				continue;
			}
			p->npend = 0;
			return n;
		default:
			out[n++] = cp;
			p->npend = 0;
			return n;
		}
	}
}

static int
utf8_encode(uint32_t cp, char *s)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (char)(0xf0 | cp >> 18);
	s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	s[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* ---- The state machine (§3) ---- */

void
vt_parser_init(struct vt_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = S_GROUND;
}

static void
p_clear(struct vt_parser *p)
{
	p->nparam = 0;
	p->ninter = 0;
	p->inter[0] = 0;
}

static void
p_collect(struct vt_parser *p, uint32_t cp)
{
	if (p->ninter < VT_MAX_INTER && cp <= 0xff) {
		p->inter[p->ninter++] = (uint8_t)cp;
		p->inter[p->ninter] = 0;
	}
}

static void
p_param(struct vt_parser *p, uint32_t cp)
{
	if (p->nparam < VT_MAX_PARAM_CHARS) {
		p->param[p->nparam++] = (char)cp;
	}
}

/*
 * The machine as tables, after Paul Williams' DEC parser: each state is a
 * list of transitions {first, last, action, next}, tried in order until the
 * code point's class falls in [first, last]. The class is the code point
 * itself up to the C1 controls; anything above them is classed as 'A' (it
 * prints in the ground state and ends a sequence elsewhere), while the
 * actions see the code point itself. A transition whose next state is
 * S_SAME stays without exit or entry action; any other, even back to the
 * same state, runs the old state's exit action, the transition's action and
 * the new state's entry action, in that order. Every list ends with a
 * catch-all that ignores, so the search always stops. The ranges of a list
 * do not overlap; the common ones come first only for speed.
 */
enum {
	A_NONE, A_EXEC, A_PRINT, A_COLLECT, A_PARAM, A_ESC, A_CSI, A_PUT,
	A_CLEAR, A_OSC_START, A_OSC_END
};

#define S_SAME 0xff

struct transition {
	uint8_t first, last;	/* classes 0x00..0x9f */
	uint8_t action;		/* A_* */
	uint8_t next;		/* S_*, or S_SAME */
};

/* What a state does with the C0 controls but CAN, SUB and ESC. */
#define C0_EXECUTE \
	{ 0x00, 0x17, A_EXEC, S_SAME }, \
	{ 0x19, 0x19, A_EXEC, S_SAME }, \
	{ 0x1c, 0x1f, A_EXEC, S_SAME }

/* Transitions from every state (CAN, SUB, ESC and the C1 controls), then
 * the catch-all: the end of every list. */
#define ANYWHERE \
	{ VT_CAN, VT_CAN, A_EXEC, S_GROUND }, \
	{ VT_SUB, VT_SUB, A_EXEC, S_GROUND }, \
	{ VT_ESC, VT_ESC, A_NONE, S_ESC }, \
	{ 0x80, VT_C1_DCS - 1, A_EXEC, S_GROUND }, \
	{ VT_C1_DCS, VT_C1_DCS, A_NONE, S_DCS_ENTRY }, \
	{ VT_C1_DCS + 1, VT_C1_SOS - 1, A_EXEC, S_GROUND }, \
	{ VT_C1_SOS, VT_C1_SOS, A_NONE, S_SOS }, \
	{ VT_C1_SOS + 1, VT_C1_CSI - 1, A_EXEC, S_GROUND }, \
	{ VT_C1_CSI, VT_C1_CSI, A_NONE, S_CSI_ENTRY }, \
	{ VT_C1_ST, VT_C1_ST, A_NONE, S_GROUND }, \
	{ VT_C1_OSC, VT_C1_OSC, A_NONE, S_OSC }, \
	{ VT_C1_PM, VT_C1_APC, A_NONE, S_SOS }, \
	{ 0x00, 0xff, A_NONE, S_SAME }

static const struct transition t_ground[] = {
	{ 0x20, 0x7f, A_PRINT, S_SAME },
	C0_EXECUTE,
	ANYWHERE
};

static const struct transition t_esc[] = {
	C0_EXECUTE,
	{ 0x20, 0x2f, A_COLLECT, S_ESC_INT },
	{ 0x30, 0x4f, A_ESC, S_GROUND },
	{ 'P', 'P', A_NONE, S_DCS_ENTRY },
	{ 0x51, 0x57, A_ESC, S_GROUND },
	{ 'X', 'X', A_NONE, S_SOS },
	{ 0x59, 0x5a, A_ESC, S_GROUND },
	{ '[', '[', A_NONE, S_CSI_ENTRY },
	{ '\\', '\\', A_ESC, S_GROUND },
	{ ']', ']', A_NONE, S_OSC },
	{ '^', '_', A_NONE, S_SOS },
	{ 0x60, 0x7e, A_ESC, S_GROUND },
	ANYWHERE
};

static const struct transition t_esc_int[] = {
	C0_EXECUTE,
	{ 0x20, 0x2f, A_COLLECT, S_SAME },
	{ 0x30, 0x7e, A_ESC, S_GROUND },
	ANYWHERE
};

/*
 * CSI and DCS share a syntax: an optional private marker, parameters (':'
 * makes the sequence one to ignore), intermediates, a final character.
 * The states of each are named by the macros' arguments.
 */
#define SEQ_ENTRY(param, inter, ign) \
	{ '0', '9', A_PARAM, param }, \
	{ ';', ';', A_PARAM, param }, \
	{ 0x20, 0x2f, A_COLLECT, inter }, \
	{ ':', ':', A_NONE, ign }, \
	{ 0x3c, 0x3f, A_COLLECT, param }	/* private marker */
#define SEQ_PARAM(inter, ign) \
	{ '0', '9', A_PARAM, S_SAME }, \
	{ ';', ';', A_PARAM, S_SAME }, \
	{ 0x20, 0x2f, A_COLLECT, inter }, \
	{ ':', ':', A_NONE, ign }, \
	{ 0x3c, 0x3f, A_NONE, ign }
#define SEQ_INT(ign) \
	{ 0x20, 0x2f, A_COLLECT, S_SAME }, \
	{ 0x30, 0x3f, A_NONE, ign }

/* CSI: C0 controls are executed; the final character dispatches. */
#define CSI_FINAL { 0x40, 0x7e, A_CSI, S_GROUND }
static const struct transition t_csi_entry[] = {
	SEQ_ENTRY(S_CSI_PARAM, S_CSI_INT, S_CSI_IGN), CSI_FINAL,
	C0_EXECUTE, ANYWHERE
};
static const struct transition t_csi_param[] = {
	SEQ_PARAM(S_CSI_INT, S_CSI_IGN), CSI_FINAL, C0_EXECUTE, ANYWHERE
};
static const struct transition t_csi_int[] = {
	SEQ_INT(S_CSI_IGN), CSI_FINAL, C0_EXECUTE, ANYWHERE
};
static const struct transition t_csi_ign[] = {
	{ 0x40, 0x7e, A_NONE, S_GROUND }, C0_EXECUTE, ANYWHERE
};

/* DCS: never dispatched; C0 controls are ignored, the final character
 * starts the string that is discarded. */
#define DCS_FINAL { 0x40, 0x7e, A_NONE, S_DCS_PASS }
static const struct transition t_dcs_entry[] = {
	SEQ_ENTRY(S_DCS_PARAM, S_DCS_INT, S_DCS_IGN), DCS_FINAL, ANYWHERE
};
static const struct transition t_dcs_param[] = {
	SEQ_PARAM(S_DCS_INT, S_DCS_IGN), DCS_FINAL, ANYWHERE
};
static const struct transition t_dcs_int[] = {
	SEQ_INT(S_DCS_IGN), DCS_FINAL, ANYWHERE
};

static const struct transition t_osc[] = {
	{ 0x20, 0x7f, A_PUT, S_SAME },
	{ VT_BEL, VT_BEL, A_NONE, S_GROUND },
	ANYWHERE
};

/* DCS passthrough and ignore, SOS, PM, APC: everything is discarded. */
static const struct transition t_discard[] = {
	ANYWHERE
};

static const struct {
	const struct transition *t;
	uint8_t entry, exit;	/* A_* */
} states[] = {
	[S_GROUND] = { t_ground, A_NONE, A_NONE },
	[S_ESC] = { t_esc, A_CLEAR, A_NONE },
	[S_ESC_INT] = { t_esc_int, A_NONE, A_NONE },
	[S_CSI_ENTRY] = { t_csi_entry, A_CLEAR, A_NONE },
	[S_CSI_PARAM] = { t_csi_param, A_NONE, A_NONE },
	[S_CSI_INT] = { t_csi_int, A_NONE, A_NONE },
	[S_CSI_IGN] = { t_csi_ign, A_NONE, A_NONE },
	[S_DCS_ENTRY] = { t_dcs_entry, A_CLEAR, A_NONE },
	[S_DCS_PARAM] = { t_dcs_param, A_NONE, A_NONE },
	[S_DCS_INT] = { t_dcs_int, A_NONE, A_NONE },
	[S_DCS_PASS] = { t_discard, A_NONE, A_NONE },
	[S_DCS_IGN] = { t_discard, A_NONE, A_NONE },
	[S_OSC] = { t_osc, A_OSC_START, A_OSC_END },
	[S_SOS] = { t_discard, A_NONE, A_NONE }
};

/* Run action a on code point cp; returns the number of actions in out. */
static int
act(struct vt_parser *p, int a, uint32_t cp, struct vt_act *out)
{
	static const uint8_t report[] = {
		[A_EXEC] = VT_ACT_EXECUTE, [A_PRINT] = VT_ACT_PRINT,
		[A_ESC] = VT_ACT_ESC, [A_CSI] = VT_ACT_CSI,
		[A_PUT] = VT_ACT_OSC_PUT, [A_OSC_START] = VT_ACT_OSC_START,
		[A_OSC_END] = VT_ACT_OSC_END
	};

	switch (a) {
	case A_NONE:
		return 0;
	case A_COLLECT:
		p_collect(p, cp);
		return 0;
	case A_PARAM:
		p_param(p, cp);
		return 0;
	case A_CLEAR:
		p_clear(p);
		return 0;
	case A_OSC_START:
	case A_OSC_END:
		cp = 0;
		break;
	default:
		break;
	}
	out->type = report[a];
	out->ch = cp;
	return 1;
}

/* One code point through the machine; returns the actions for the caller. */
static int
parse_cp(struct vt_parser *p, uint32_t cp, struct vt_act *out)
{
	const struct transition *t;
	uint32_t c = cp >= 0xa0 ? 'A' : cp;
	int n = 0;

	for (t = states[p->state].t; c < t->first || c > t->last; t++) {
		continue;
	}
	if (t->next == S_SAME) {
		return act(p, t->action, cp, out);
	}
	n += act(p, states[p->state].exit, cp, out + n);
	n += act(p, t->action, cp, out + n);
	p->state = t->next;
	n += act(p, states[p->state].entry, cp, out + n);
	return n;
}

int
vt_parse(struct vt_parser *p, uint8_t byte, struct vt_act *out)
{
	uint32_t cps[2];
	int ncp, i, n = 0;

	ncp = utf8_byte(p, byte, cps);
	for (i = 0; i < ncp; i++) {
		n += parse_cp(p, cps[i], out + n);
	}
	return n;
}

/*
 * Split the parameter string at ';' into v (at most VT_MAX_PARAM_CHARS + 1
 * fields); an empty field or one above 65535 is -1. Returns the count.
 */
static int
parse_params(const struct vt_parser *p, int *v)
{
	int i, n = 0;
	long x = -1;

	for (i = 0; i < p->nparam; i++) {
		if (p->param[i] == ';') {
			v[n++] = (int)x;
			x = -1;
		} else if (x != -2) {
			x = (x < 0 ? 0 : x) * 10 + (p->param[i] - '0');
			if (x > 65535) {
				x = -2;
			}
		}
	}
	v[n++] = x == -2 ? -1 : (int)x;
	return n;
}

static int
arg(const int *v, int n, int i, int def)
{
	return i < n && v[i] >= 1 ? v[i] : def;
}

int
vt_param(const struct vt_parser *p, int i, int def)
{
	int v[VT_MAX_PARAM_CHARS + 1], n;

	n = parse_params(p, v);
	return arg(v, n, i, def);
}

/* ---- Rows and cells ---- */

/*
 * Copy a whole cell. Spelled as fixed-size pieces because a compiler
 * optimising for size turns a struct assignment or a memset of one cell
 * into a string instruction, whose start-up costs more than the copy.
 */
static void
cell_put(struct fb_cell *dst, const struct fb_cell *src)
{
	memcpy(dst, src, 32);
	memcpy((char *)dst + 32, (const char *)src + 32, sizeof(*dst) - 32);
}

/* Reset a cell (§4.2): blank in the current background. Like upstream's,
 * this also clears the row's wrap flag when it is the row's last cell. */
static void
cell_reset(struct fb_cell *c, uint32_t bg)
{
	static const struct fb_cell zero;

	cell_put(c, &zero);
	c->r.bg = bg;
}

/* Count n units of work (mosh.h, VT_WORK_SCREENS). */
static inline void
spend(struct vt *vt, long n)
{
	vt->work += (uint64_t)n;
}

/* Row y to write to; unsharing it copies the row (w units). */
static struct fb_cell *
row_mut(struct vt *vt, int y)
{
	struct fb_cell *r;

	if (vt->fb->rows[y]->refs > 1) {
		spend(vt, vt->fb->w);
	}
	r = fb_row_mut(vt->fb, y);

	if (r == NULL) {
		vt->dropped++;
	}
	return r;
}

/* Make row y wholly blank in background bg, with a new generation. */
static void
row_reset(struct vt *vt, int y, uint32_t bg)
{
	spend(vt, vt->fb->w + 1);
	if (fb_row_blank(vt->fb, y, bg) == NULL) {
		vt->dropped++;
	}
}

static void
set_wrap(struct vt *vt, int y, int on)
{
	struct fb_cell *r = row_mut(vt, y);

	if (r == NULL) {
		return;
	}
	if (on) {
		r[vt->fb->w - 1].flags |= FB_WRAP;
	} else {
		r[vt->fb->w - 1].flags &= (uint8_t)~FB_WRAP;
	}
}

/* Reset cells x0..x1 (inclusive, in range) of row y. */
static void
clear_cells(struct vt *vt, int y, int x0, int x1)
{
	struct fb_cell *r;
	uint32_t bg = vt->fb->rend.bg;
	int x;

	if (x0 > x1) {
		return;
	}
	spend(vt, x1 - x0 + 1);
	if ((r = row_mut(vt, y)) == NULL) {
		return;
	}
	memset(&r[x0], 0, (size_t)(x1 - x0 + 1) * sizeof(*r));
	if (bg != 0) {
		for (x = x0; x <= x1; x++) {
			r[x].r.bg = bg;
		}
	}
}

/*
 * ICH (n > 0) and DCH (n < 0) at the cursor; cells past the edge are lost.
 * Cells move with their flags, the wrap flag too, as upstream's do.
 */
static void
shift_cells(struct vt *vt, int n)
{
	struct fb *fb = vt->fb;
	struct fb_cell *r;
	int x = fb->cx, w = fb->w, k, i;

	spend(vt, w - x);
	if ((r = row_mut(vt, fb->cy)) == NULL) {
		return;
	}
	k = MIN(n < 0 ? -n : n, w - x);
	if (n > 0) {
		memmove(&r[x + k], &r[x], (size_t)(w - x - k) * sizeof(r[0]));
		for (i = x; i < x + k; i++) {
			cell_reset(&r[i], fb->rend.bg);
		}
	} else {
		memmove(&r[x], &r[x + k], (size_t)(w - x - k) * sizeof(r[0]));
		for (i = w - k; i < w; i++) {
			cell_reset(&r[i], fb->rend.bg);
		}
	}
}

static void
rows_reverse(struct fb_row **r, int a, int b)
{
	struct fb_row *t;

	for (b--; a < b; a++, b--) {
		t = r[a];
		r[a] = r[b];
		r[b] = t;
	}
}

/* Rotate rows a..b-1 so that row a+k comes first (0 < k < b-a). */
static void
rows_rotate(struct fb_row **r, int a, int b, int k)
{
	struct fb_row *t;

	if (k == 1) {
		/* A line feed at the bottom: the common case. */
		t = r[a];
		memmove(&r[a], &r[a + 1], (size_t)(b - a - 1) * sizeof(*r));
		r[b - 1] = t;
		return;
	}
	rows_reverse(r, a, a + k);
	rows_reverse(r, a + k, b);
	rows_reverse(r, a, b);
}

/* Upstream's insert_line: blank rows at y, rows pushed past the region
 * bottom are lost; only inside the region (or just below it). */
static void
insert_lines(struct vt *vt, int y, int n)
{
	struct fb *fb = vt->fb;
	int k, i;

	if (y < fb->top || y > fb->bottom + 1) {
		return;
	}
	k = MIN(n, fb->bottom + 1 - y);
	if (k <= 0) {
		return;
	}
	if (k < fb->bottom + 1 - y) {
		spend(vt, fb->bottom + 1 - y);
		rows_rotate(fb->rows, y, fb->bottom + 1,
		    fb->bottom + 1 - y - k);
	}
	for (i = y; i < y + k; i++) {
		row_reset(vt, i, fb->rend.bg);
	}
}

/* Upstream's delete_line: rows at y go, blank rows enter at the bottom. */
static void
delete_lines(struct vt *vt, int y, int n)
{
	struct fb *fb = vt->fb;
	int k, i;

	if (y < fb->top || y > fb->bottom) {
		return;
	}
	k = MIN(n, fb->bottom + 1 - y);
	if (k <= 0) {
		return;
	}
	if (k < fb->bottom + 1 - y) {
		spend(vt, fb->bottom + 1 - y);
		rows_rotate(fb->rows, y, fb->bottom + 1, k);
	}
	for (i = fb->bottom + 1 - k; i <= fb->bottom; i++) {
		row_reset(vt, i, fb->rend.bg);
	}
}

/* Scroll the region up (n > 0) or down (n < 0). */
static void
scroll_region(struct vt *vt, int n)
{
	if (n >= 0) {
		delete_lines(vt, vt->fb->top, n);
	} else {
		insert_lines(vt, vt->fb->top, -n);
	}
}

/* ---- Cursor (§5.1) ---- */

static int
limit_top(const struct fb *fb)
{
	return (fb->modes & FB_M_ORIGIN) ? fb->top : 0;
}

static int
limit_bottom(const struct fb *fb)
{
	return (fb->modes & FB_M_ORIGIN) ? fb->bottom : fb->h - 1;
}

static void
snap(struct fb *fb)
{
	fb->cy = MAX(fb->cy, limit_top(fb));
	fb->cy = MIN(fb->cy, limit_bottom(fb));
	fb->cx = MAX(fb->cx, 0);
	fb->cx = MIN(fb->cx, fb->w - 1);
}

static void
move_row(struct fb *fb, int n, int rel)
{
	fb->cy = rel ? fb->cy + n : n + limit_top(fb);
	snap(fb);
	fb->comb_y = fb->cy;
	fb->comb_x = fb->cx;
	fb->wrap_pending = 0;
}

static void
move_col(struct fb *fb, int n, int rel)
{
	fb->cx = rel ? fb->cx + n : n;
	snap(fb);
	fb->comb_y = fb->cy;
	fb->comb_x = fb->cx;
	fb->wrap_pending = 0;
}

/*
 * The steps of the cursor that both drawing and ff_walk take, so that the
 * walk moves exactly as drawing does.
 *
 * cursor_col: where the cursor rests once printing has taken it to column
 * x of a row w wide: on the last column with a wrap pending when x is past
 * it (upstream's implicit move).
 */
static int
cursor_col(int x, int w, int *pending)
{
	*pending = x >= w;
	return MIN(x, w - 1);
}

/*
 * wraps_first: whether a character of width cw printed at column x goes
 * to the start of the next row first: a pending wrap, or a wide character
 * that does not fit (autowrap only).
 */
static int
wraps_first(const struct fb *fb, int x, int pending, int cw)
{
	return (fb->modes & FB_M_AUTOWRAP) &&
	    (pending || (cw == 2 && x == fb->w - 1));
}

/*
 * linefeed_row: the row LF (n = 1) or RI (n = -1) takes the cursor to from
 * row y, and in *k how far the region scrolls first (up > 0, down < 0): it
 * scrolls only when the cursor is inside it.
 */
static int
linefeed_row(const struct fb *fb, int y, int n, int *k)
{
	*k = 0;
	if (y < fb->top || y > fb->bottom) {
		return MIN(MAX(y + n, limit_top(fb)), limit_bottom(fb));
	}
	if (y + n > fb->bottom) {
		*k = y + n - fb->bottom;
	} else if (y + n < fb->top) {
		*k = y + n - fb->top;
	}
	return y + n - *k;
}

/* The cursor advance after printing n columns. */
static void
advance(struct fb *fb, int n)
{
	fb->comb_y = fb->cy;
	fb->comb_x = fb->cx;
	fb->cx = cursor_col(fb->cx + n, fb->w, &fb->wrap_pending);
	snap(fb);
}

/* LF (n = 1) and RI (n = -1). */
static void
linefeed(struct vt *vt, int n)
{
	struct fb *fb = vt->fb;
	int k, y = linefeed_row(fb, fb->cy, n, &k);

	if (k != 0) {
		scroll_region(vt, k);
	}
	move_row(fb, y - fb->cy, 1);
}

static int
tab_at(const struct fb *fb, int x)
{
	return fb->tabs[x >> 3] >> (x & 7) & 1;
}

/*
 * HT, CHT (n > 0), CBT (n < 0): an explicit move that keeps pending wrap.
 * Each column looked at is a unit of work.
 */
static void
tab(struct vt *vt, int n)
{
	struct fb *fb = vt->fb;
	int x, col = -1, pending = fb->wrap_pending;

	if (n >= 0) {
		for (x = fb->cx + 1; x < fb->w; x++) {
			if (tab_at(fb, x) && --n == 0) {
				col = x;
				break;
			}
		}
		if (col < 0) {
			col = fb->w - 1;
		}
	} else {
		col = 0;
		for (x = fb->cx - 1; x > 0; x--) {
			if (tab_at(fb, x) && ++n == 0) {
				col = x;
				break;
			}
		}
	}
	spend(vt, col > fb->cx ? col - fb->cx : fb->cx - col);
	move_col(fb, col, 0);
	fb->wrap_pending = pending;
}

/* ---- Printing (§4.3, §4.4) ---- */

static void
print_cp(struct vt *vt, uint32_t cp, int w)
{
	struct fb *fb = vt->fb;
	struct fb_cell *r, t;

	if (wraps_first(fb, fb->cx, fb->wrap_pending, w)) {
		if (fb->wrap_pending) {
			set_wrap(vt, fb->cy, 1);
		} else if ((r = row_mut(vt, fb->cy)) != NULL) {
			/* A wide character that does not fit wraps early,
			 * and the row is not marked as wrapped. */
			cell_reset(&r[fb->cx], fb->rend.bg);
			r[fb->w - 1].flags &= (uint8_t)~FB_WRAP;
		}
		move_col(fb, 0, 0);
		linefeed(vt, 1);
	}
	if (fb->modes & FB_M_INSERT) {
		shift_cells(vt, w);
	}
	spend(vt, w);
	if ((r = row_mut(vt, fb->cy)) != NULL) {
		cell_reset(&t, 0);
		t.r = fb->rend;
		t.len = (uint8_t)utf8_encode(cp, t.c);
		t.flags = w == 2 ? FB_WIDE : 0;
		cell_put(&r[fb->cx], &t);
		if (w == 2 && fb->cx + 1 < fb->w) {
			cell_reset(&r[fb->cx + 1], fb->rend.bg);
		}
	}
	advance(fb, w);
}

static void
combine(struct vt *vt, uint32_t cp)
{
	struct fb *fb = vt->fb;
	struct fb_cell *r, *c;

	if (fb->comb_y < 0 || fb->comb_x < 0 || fb->comb_y >= fb->h ||
	    fb->comb_x >= fb->w) {
		return;		/* the target went away in a resize */
	}
	spend(vt, 1);
	if ((r = row_mut(vt, fb->comb_y)) == NULL) {
		return;
	}
	c = &r[fb->comb_x];
	if (c->len == 0) {
		c->flags |= FB_FALLBACK;
		advance(fb, 1);
	}
	if (c->len < 32) {
		c->len = (uint8_t)(c->len + utf8_encode(cp, c->c + c->len));
	}
}

/* DEC special graphics, 0x5f..0x7e, as Unicode (server_ext only). */
static const uint16_t dec_graphics[32] = {
	0x00a0, 0x25c6, 0x2592, 0x2409, 0x240c, 0x240d, 0x240a, 0x00b0,
	0x00b1, 0x2424, 0x240b, 0x2518, 0x2510, 0x250c, 0x2514, 0x253c,
	0x23ba, 0x23bb, 0x2500, 0x23bc, 0x23bd, 0x251c, 0x2524, 0x2534,
	0x252c, 0x2502, 0x2264, 0x2265, 0x03c0, 0x2260, 0x00a3, 0x00b7
};

/*
 * vt_width through a cache: text mostly stays in one or two ranges of the
 * table (letters and punctuation), so the last two are remembered.
 */
static inline int
width_of(struct vt *vt, uint32_t cp)
{
	int w;

	if (cp >= vt->wlo[0] && cp <= vt->whi[0]) {
		return vt->ww[0];
	} else if (cp >= vt->wlo[1] && cp <= vt->whi[1]) {
		w = vt->ww[1];
	} else if (cp <= 0xff || cp > 0x10ffff) {
		w = vt_width(cp);
	} else {
		vt->wlo[1] = vt->wlo[0];
		vt->whi[1] = vt->whi[0];
		vt->ww[1] = vt->ww[0];
		w = vt->ww[0] = width_range(cp, &vt->wlo[0], &vt->whi[0]);
	}
	return w;
}

static void
print(struct vt *vt, uint32_t cp)
{
	int w;

	if (vt->g[vt->gl] && cp >= 0x5f && cp <= 0x7e) {
		cp = dec_graphics[cp - 0x5f];
	}
	w = width_of(vt, cp);
	if (w == 0) {
		combine(vt, cp);
	} else if (w > 0) {
		print_cp(vt, cp, w);
	}
}

/*
 * The length of the run of printable ASCII (0x20..0x7e) at s, at most n:
 * eight bytes at a time while they all are. In a word y of 7-bit bytes,
 * y + 0x60 sets a byte's top bit iff it is >= 0x20, and y + 0x01 iff it
 * is 0x7f; no carry crosses bytes. Same result on any byte order.
 */
static size_t
ascii_span(const uint8_t *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, top = 0x8080808080808080u;
	uint64_t x, y;
	size_t i = 0;

	while (n - i >= 8) {
		memcpy(&x, s + i, 8);
		y = x & ~top;
		if (((x | ~(y + 0x60 * ones) | (y + ones)) & top) != 0) {
			break;
		}
		i += 8;
	}
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f) {
		i++;
	}
	return i;
}

/*
 * The fast path: a run of printable ASCII in the ground state, outside
 * insert mode and DEC graphics. Same effect as print_cp for each byte, but
 * a row is unshared once and its cells are written in one go up to the
 * margin. A cell whose old contents are at most two bytes long (the common
 * case: blank or ASCII) has zeros past its sixteenth byte already, so only
 * its head is stored. Returns the number of bytes used (at least one).
 */
#define CELL_HEAD 16		/* 2 bytes of text: ASCII, or blank */
#define TEXT_HEAD 24		/* 10 bytes: a character of up to 4 */
/* Fails to compile unless cell_put's split and both heads fit a cell. */
extern char vt_cell_heads[sizeof(struct fb_cell) >= 32 &&
    offsetof(struct fb_cell, c) < CELL_HEAD &&
    offsetof(struct fb_cell, c) + 4 <= TEXT_HEAD ? 1 : -1];
static size_t
print_run(struct vt *vt, const uint8_t *s, size_t n)
{
	struct fb *fb = vt->fb;
	struct fb_cell *r, *c, tmpl;
	size_t i = 0, j, m;
	int lt = limit_top(fb), lb = limit_bottom(fb), w = fb->w, cx;

	cell_reset(&tmpl, 0);
	tmpl.r = fb->rend;
	tmpl.len = 1;
	while (i < n && s[i] >= 0x20 && s[i] < 0x7f) {
		if (wraps_first(fb, fb->cx, fb->wrap_pending, 1)) {
			set_wrap(vt, fb->cy, 1);
			move_col(fb, 0, 0);
			linefeed(vt, 1);
		}
		if ((r = row_mut(vt, fb->cy)) == NULL) {
			break;
		}
		cx = fb->cx;
		/* Up to the margin; one cell if the cursor must snap first. */
		m = (size_t)(w - cx);
		if (fb->cy < lt || fb->cy > lb) {
			m = 1;
		}
		m = MIN(m, n - i);
		for (j = 0; j < m && s[i + j] >= 0x20 && s[i + j] < 0x7f;
		    j++) {
			c = &r[cx + (int)j];
			if (c->len <= CELL_HEAD - offsetof(struct fb_cell, c)) {
				memcpy(c, &tmpl, CELL_HEAD);
			} else {
				cell_put(c, &tmpl);
			}
			c->c[0] = (char)s[i + j];
		}
		i += j;
		spend(vt, (long)j);
		/* As print_cp leaves it after the last of them. */
		fb->cx = cx + (int)j - 1;
		advance(fb, 1);
	}
	if (i == 0) {
		/* No memory for the row: the character is lost, the cursor
		 * moves on as if it had been printed. */
		advance(fb, 1);
		spend(vt, 1);
		i = 1;
	}
	return i;
}

/*
 * The code point and length of the character at s: printable ASCII, or a
 * whole, valid UTF-8 sequence for U+00A0 and up; 0 for anything else.
 * Three-byte sequences (most of the non-Latin text) are decoded inline.
 */
static inline size_t
text_char(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint32_t v;

	if (s[0] >= 0x20 && s[0] < 0x7f) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xf0) == 0xe0 && n >= 3 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80) {
		v = (uint32_t)(s[0] & 0x0f) << 12 |
		    (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		*cp = v;
		return v >= 0x800 && (v < 0xd800 || v > 0xdfff) ? 3 : 0;
	}
	if (s[0] < 0xc2 || (n = utf8_fast(s, n, &v)) == 0) {
		return 0;
	}
	*cp = v;
	return n;
}

/*
 * The characters of width 1 or 2 at s that fit on the row from column
 * *cx: moves *cx past them (possibly to w) and returns their bytes.
 */
static size_t
text_fit(struct vt *vt, const uint8_t *s, size_t n, int *cx)
{
	size_t i = 0, len;
	uint32_t cp;
	int x = *cx, w = vt->fb->w, cw;

	while (i < n && (len = text_char(s + i, n - i, &cp)) != 0) {
		cw = cp < 0x7f ? 1 : width_of(vt, cp);
		if ((cw != 1 && cw != 2) || x + cw > w) {
			break;
		}
		x += cw;
		i += len;
	}
	*cx = x;
	return i;
}

/*
 * The fast path for other text: characters of width 1 or 2 that fit on
 * the cursor's row, in the ground state, outside insert mode and DEC
 * graphics, with the cursor inside its limits and no wrap pending. Same
 * effect as print_cp for each; stops before anything else (a wrap, a
 * combining mark), which then goes the slow way. Returns the bytes used,
 * possibly 0.
 */
static size_t
text_run(struct vt *vt, const uint8_t *s, size_t n)
{
	struct fb *fb = vt->fb;
	struct fb_cell *r, t, blank;
	size_t i = 0, len;
	uint32_t cp;
	int cx = fb->cx, w = fb->w, cw;

	if (fb->wrap_pending || fb->cy < limit_top(fb) ||
	    fb->cy > limit_bottom(fb) || (r = row_mut(vt, fb->cy)) == NULL) {
		return 0;
	}
	cell_reset(&t, 0);
	t.r = fb->rend;
	cell_reset(&blank, fb->rend.bg);
	while (i < n && (len = text_char(s + i, n - i, &cp)) != 0) {
		cw = cp < 0x7f ? 1 : width_of(vt, cp);
		if ((cw != 1 && cw != 2) || cx + cw > w) {
			break;
		}
		/* Only the head if the old contents end inside it. */
		memset(t.c, 0, 4);
		memcpy(t.c, s + i, len);
		t.len = (uint8_t)len;
		t.flags = cw == 2 ? FB_WIDE : 0;
		if (r[cx].len <= TEXT_HEAD - offsetof(struct fb_cell, c)) {
			memcpy(&r[cx], &t, TEXT_HEAD);
		} else {
			cell_put(&r[cx], &t);
		}
		if (cw == 2 && cx + 1 < w) {
			cell_put(&r[cx + 1], &blank);
		}
		fb->comb_y = fb->cy;
		fb->comb_x = cx;
		cx += cw;
		i += len;
	}
	spend(vt, cx - fb->cx);
	fb->cx = cursor_col(cx, w, &fb->wrap_pending);
	return i;
}

/* ---- Control functions (§7) ---- */

static void
reply(struct vt *vt, const char *s)
{
	if (vt->no_reply) {
		return;
	}
	if (buf_append(&vt->reply, s, strlen(s)) == -1) {
		vt->dropped++;
	}
}

/* Append prefix and then n (0..9999) in decimal to s at i; new length. */
static int
put_dec(char *s, int i, const char *prefix, int n)
{
	char d[8];
	int k = 0;

	while (*prefix) {
		s[i++] = *prefix++;
	}
	do {
		d[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && k < 8);
	while (k > 0) {
		s[i++] = d[--k];
	}
	return i;
}

static void
saved_reset(struct fb *fb)
{
	memset(&fb->saved, 0, sizeof(fb->saved));
	fb->saved.modes = FB_M_AUTOWRAP;
}

static void
tabs_default(struct fb *fb)
{
	int x;

	memset(fb->tabs, 0, sizeof(fb->tabs));
	for (x = 0; x < fb->w; x += 8) {
		fb->tabs[x >> 3] |= 1;
	}
	fb->default_tabs = 1;
}

static void
main_drop(struct vt *vt)
{
	fb_rows_release(vt->main_rows, vt->main_h);
	vt->main_rows = NULL;
}

/*
 * The alternate screen (server_ext only): the main screen's rows are kept
 * aside and a blank screen shows until the application switches back.
 */
static void
alt_enter(struct vt *vt, int save_cursor)
{
	struct fb *fb = vt->fb;
	struct fb_row **rows;
	int y;

	if (vt->main_rows != NULL) {
		return;
	}
	spend(vt, fb->h);
	if ((rows = fb_rows_hold(fb)) == NULL) {
		vt->dropped++;
		return;
	}
	if (save_cursor) {
		vt->alt_cursor.y = fb->cy;
		vt->alt_cursor.x = fb->cx;
		vt->alt_cursor.rend = fb->rend;
		vt->alt_cursor.modes = fb->modes &
		    (FB_M_AUTOWRAP | FB_M_ORIGIN);
	}
	for (y = 0; y < fb->h; y++) {
		row_reset(vt, y, fb->rend.bg);
	}
	vt->main_rows = rows;
	vt->main_w = fb->w;
	vt->main_h = fb->h;
	fb->wrap_pending = 0;
}

static void
alt_leave(struct vt *vt, int restore_cursor)
{
	struct fb *fb = vt->fb;

	if (vt->main_rows == NULL) {
		return;
	}
	if (vt->main_w != fb->w || vt->main_h != fb->h) {
		main_drop(vt);	/* resized behind our back: stay as is */
		return;
	}
	spend(vt, fb->h);
	fb_rows_restore(fb, vt->main_rows);
	vt->main_rows = NULL;
	fb->wrap_pending = 0;
	if (restore_cursor) {
		fb->cy = vt->alt_cursor.y;
		fb->cx = vt->alt_cursor.x;
		fb->rend = vt->alt_cursor.rend;
		fb->modes = (fb->modes & ~(FB_M_AUTOWRAP | FB_M_ORIGIN)) |
		    vt->alt_cursor.modes;
		snap(fb);
		fb->comb_y = fb->cy;
		fb->comb_x = fb->cx;
	}
}

/* RIS (§7.11): everything but the icon name, the title flag and the bell. */
static void
ris(struct vt *vt)
{
	struct fb *fb = vt->fb;
	int y;

	alt_leave(vt, 0);
	vt->g[0] = vt->g[1] = vt->gl = 0;
	vt->saved_g[0] = vt->saved_g[1] = vt->saved_gl = 0;
	fb->cy = fb->cx = 0;
	fb->wrap_pending = 0;
	fb->comb_y = fb->comb_x = 0;
	fb->top = 0;
	fb->bottom = fb->h - 1;
	fb->modes = FB_M_AUTOWRAP | FB_M_CURSOR;
	fb->mouse_mode = 0;
	fb->mouse_enc = 0;
	memset(&fb->rend, 0, sizeof(fb->rend));
	saved_reset(fb);
	tabs_default(fb);
	for (y = 0; y < fb->h; y++) {
		row_reset(vt, y, 0);
	}
	fb->title_len = 0;
	fb_clip_set(fb, NULL, 0);
}

static void
control(struct vt *vt, uint32_t c)
{
	struct fb *fb = vt->fb;

	if (c != 0x09) {
		fb->wrap_pending = 0;	/* §3.5 */
	}
	switch (c) {
	case 0x07:	/* BEL */
		fb->bell++;
		break;
	case 0x08:	/* BS */
		move_col(fb, -1, 1);
		break;
	case 0x09:	/* HT */
		tab(vt, 1);
		break;
	case 0x0a:	/* LF */
	case 0x0b:	/* VT */
	case 0x0c:	/* FF */
	case VT_C1_IND:
		linefeed(vt, 1);
		break;
	case 0x0d:	/* CR */
		move_col(fb, 0, 0);
		break;
	case VT_C1_NEL:
		move_col(fb, 0, 0);
		linefeed(vt, 1);
		break;
	case VT_C1_HTS:	/* set a tab stop */
		fb->tabs[fb->cx >> 3] |= (uint8_t)(1u << (fb->cx & 7));
		break;
	case VT_C1_RI:
		linefeed(vt, -1);
		break;
	case 0x0e:	/* SO: only with server_ext */
	case 0x0f:	/* SI */
		if (vt->server_ext) {
			vt->gl = c == 0x0e;
		}
		break;
	default:
		break;
	}
}

static void
esc_dispatch(struct vt *vt, uint32_t f)
{
	struct fb *fb = vt->fb;
	struct vt_parser *p = &vt->p;
	int x, y;
	struct fb_cell *r;

	if (p->ninter == 0 && f >= 0x40 && f <= 0x5f) {
		control(vt, f + 0x40);	/* 7-bit form of a C1 control */
		return;
	}
	fb->wrap_pending = 0;
	if (p->ninter == 0 && f == '7') {	/* DECSC */
		vt->saved_g[0] = vt->g[0];
		vt->saved_g[1] = vt->g[1];
		vt->saved_gl = vt->gl;
		fb->saved.y = fb->cy;
		fb->saved.x = fb->cx;
		fb->saved.rend = fb->rend;
		fb->saved.modes = fb->modes & (FB_M_AUTOWRAP | FB_M_ORIGIN);
	} else if (p->ninter == 0 && f == '8') {	/* DECRC */
		vt->g[0] = vt->saved_g[0];
		vt->g[1] = vt->saved_g[1];
		vt->gl = vt->saved_gl;
		fb->cy = fb->saved.y;
		fb->cx = fb->saved.x;
		fb->rend = fb->saved.rend;
		fb->modes = (fb->modes & ~(FB_M_AUTOWRAP | FB_M_ORIGIN)) |
		    fb->saved.modes;
		snap(fb);
		fb->comb_y = fb->cy;
		fb->comb_x = fb->cx;
	} else if (p->ninter == 0 && f == 'c') {	/* RIS */
		ris(vt);
	} else if (p->ninter == 1 && (p->inter[0] == '(' ||
	    p->inter[0] == ')') && vt->server_ext) {
		/* SCS: G0 or G1 is DEC graphics or not (server_ext only) */
		vt->g[p->inter[0] == ')'] = f == '0';
	} else if (p->ninter == 1 && p->inter[0] == '#' && f == '8') {
		/* DECALN: fill the screen with E */
		spend(vt, (long)fb->w * fb->h);
		for (y = 0; y < fb->h; y++) {
			if ((r = row_mut(vt, y)) == NULL) {
				continue;
			}
			for (x = 0; x < fb->w; x++) {
				cell_reset(&r[x], fb->rend.bg);
				r[x].c[0] = 'E';
				r[x].len = 1;
			}
		}
	}
}

static void
sgr_one(struct fb_rend *r, int p)
{
	static const uint32_t bit[10] = { 0, FB_BOLD, 0, FB_ITALIC,
	    FB_UNDERLINE, FB_BLINK, 0, FB_INVERSE, FB_INVISIBLE, 0 };

	if (p == 0) {
		memset(r, 0, sizeof(*r));
	} else if (p < 10 && bit[p] != 0) {
		r->attr |= bit[p];
	} else if (p == 22) {
		r->attr &= ~FB_BOLD;	/* faint is never set */
	} else if (p >= 23 && p < 30 && bit[p - 20] != 0) {
		r->attr &= ~bit[p - 20];
	} else if (p >= 30 && p <= 37) {
		r->fg = (uint32_t)p;
	} else if (p >= 40 && p <= 47) {
		r->bg = (uint32_t)p;
	} else if (p == 39) {
		r->fg = 0;
	} else if (p == 49) {
		r->bg = 0;
	} else if (p >= 90 && p <= 97) {
		r->fg = (uint32_t)(30 + p - 90 + 8);
	} else if (p >= 100 && p <= 107) {
		r->bg = (uint32_t)(40 + p - 100 + 8);
	}
}

/* SGR (§6.1), quirks included. */
static void
sgr(struct fb *fb, const int *v, int n)
{
	int i, p, x;
	uint32_t r, g, b, col;

	for (i = 0; i < n; i++) {
		p = arg(v, n, i, 0);
		if ((p == 38 || p == 48) && n - i >= 3 &&
		    arg(v, n, i + 1, -1) == 5) {
			x = arg(v, n, i + 2, 0);
			if (x <= 255) {
				if (p == 38) {
					fb->rend.fg = (uint32_t)(30 + x);
				} else {
					fb->rend.bg = (uint32_t)(40 + x);
				}
			}
			i += 2;
			continue;
		}
		if ((p == 38 || p == 48) && n - i >= 5 &&
		    arg(v, n, i + 1, -1) == 2) {
			r = (uint32_t)arg(v, n, i + 2, 0);
			g = (uint32_t)arg(v, n, i + 3, 0);
			b = (uint32_t)arg(v, n, i + 4, 0);
			col = (FB_RGB | r << 16 | g << 8 | b) & 0x1ffffffu;
			if (p == 38) {
				fb->rend.fg = col;
			} else {
				fb->rend.bg = col;
			}
			i += 4;
			continue;
		}
		sgr_one(&fb->rend, p);
	}
}

/* DECSET / DECRST (§7.4). */
static void
mode_set(struct fb *fb, unsigned bit, int on)
{
	if (on) {
		fb->modes |= bit;
	} else {
		fb->modes &= ~bit;
	}
}

static void
dec_mode(struct vt *vt, int m, int on)
{
	struct fb *fb = vt->fb;
	unsigned bit = 0;
	int y;

	if (m == 9 || (m >= 1000 && m <= 1003)) {
		fb->mouse_mode = on ? m : 0;
		return;
	}
	if (m == 1005 || m == 1006 || m == 1015) {
		fb->mouse_enc = on ? m : 0;
		return;
	}
	switch (m) {
	case 1:
		bit = FB_M_APPCURSOR;
		break;
	case 3:		/* DECCOLM: clear and home, width unchanged */
		move_row(fb, 0, 0);
		move_col(fb, 0, 0);
		for (y = 0; y < fb->h; y++) {
			row_reset(vt, y, fb->rend.bg);
		}
		return;
	case 5:
		bit = FB_M_REVERSE;
		break;
	case 6:		/* DECOM: homes with the old limits */
		move_row(fb, 0, 0);
		move_col(fb, 0, 0);
		bit = FB_M_ORIGIN;
		break;
	case 7:
		bit = FB_M_AUTOWRAP;
		break;
	case 25:
		bit = FB_M_CURSOR;
		break;
	case 1004:
		bit = FB_M_FOCUS;
		break;
	case 1007:
		bit = FB_M_ALTSCROLL;
		break;
	case 2004:
		bit = FB_M_PASTE;
		break;
	case 47:
	case 1047:
	case 1049:
		if (vt->server_ext) {
			if (on) {
				alt_enter(vt, m == 1049);
			} else {
				alt_leave(vt, m == 1049);
			}
		}
		return;
	default:
		return;
	}
	mode_set(fb, bit, on);
}

/* ED (§7.8): erase below (0), above (1) or all (2) of the screen. */
static void
erase_display(struct vt *vt, int mode)
{
	struct fb *fb = vt->fb;
	int y;

	switch (mode) {
	case 0:
		clear_cells(vt, fb->cy, fb->cx, fb->w - 1);
		for (y = fb->cy + 1; y < fb->h; y++) {
			row_reset(vt, y, fb->rend.bg);
		}
		break;
	case 1:
		for (y = 0; y < fb->cy; y++) {
			row_reset(vt, y, fb->rend.bg);
		}
		clear_cells(vt, fb->cy, 0, fb->cx);
		break;
	case 2:
		for (y = 0; y < fb->h; y++) {
			row_reset(vt, y, fb->rend.bg);
		}
		break;
	default:
		break;
	}
}

/* EL (§7.8): erase right of (0), left of (1) or all (2) of the row. */
static void
erase_line(struct vt *vt, int mode)
{
	struct fb *fb = vt->fb;

	switch (mode) {
	case 0:
		clear_cells(vt, fb->cy, fb->cx, fb->w - 1);
		break;
	case 1:
		clear_cells(vt, fb->cy, 0, fb->cx);
		break;
	case 2:
		row_reset(vt, fb->cy, fb->rend.bg);
		break;
	default:
		break;
	}
}

/* TBC: clear the tab stop at the cursor (0) or all of them (3). */
static void
tab_clear(struct fb *fb, int mode)
{
	if (mode == 0) {
		fb->tabs[fb->cx >> 3] &= (uint8_t)~(1u << (fb->cx & 7));
	} else if (mode == 3) {
		memset(fb->tabs, 0, sizeof(fb->tabs));
		fb->default_tabs = 0;
	}
}

/* SM and RM: of the ANSI modes (§7.5) only IRM (4) is kept. */
static void
ansi_modes(struct fb *fb, const int *v, int n, int on)
{
	int i;

	for (i = 0; i < n; i++) {
		if (arg(v, n, i, 0) == 4) {
			mode_set(fb, FB_M_INSERT, on);
		}
	}
}

/* DSR: status (5) and cursor position (6) reports. */
static void
status_report(struct vt *vt, int what)
{
	char s[32];
	int i;

	if (what == 5) {
		reply(vt, "\033[0n");
	} else if (what == 6) {
		i = put_dec(s, 0, "\033[", vt->fb->cy + 1);
		i = put_dec(s, i, ";", vt->fb->cx + 1);
		memcpy(s + i, "R", 2);
		reply(vt, s);
	}
}

/* DECSTBM: the scrolling region, then the cursor home. */
static void
set_region(struct fb *fb, int top, int bottom)
{
	if (bottom <= top || top > fb->h) {
		return;
	}
	fb->top = top - 1;
	fb->bottom = MIN(bottom, fb->h) - 1;
	move_row(fb, 0, 0);
	move_col(fb, 0, 0);
}

/* DECSTR: soft reset. */
static void
soft_reset(struct vt *vt)
{
	struct fb *fb = vt->fb;

	fb->modes &= ~(FB_M_INSERT | FB_M_ORIGIN | FB_M_APPCURSOR);
	fb->modes |= FB_M_CURSOR;
	fb->top = 0;
	fb->bottom = fb->h - 1;
	memset(&fb->rend, 0, sizeof(fb->rend));
	saved_reset(fb);
	vt->g[0] = vt->g[1] = vt->gl = 0;
	vt->saved_g[0] = vt->saved_g[1] = vt->saved_gl = 0;
}

/*
 * The sequences with a private marker or an intermediate, k: CSI ? h and
 * CSI ? l (DEC modes), CSI > c (DA2), CSI ! p (DECSTR).
 */
static void
csi_marked(struct vt *vt, int k, uint32_t f, const int *v, int n)
{
	int i;

	if (k == '?' && (f == 'h' || f == 'l')) {
		for (i = 0; i < n; i++) {
			dec_mode(vt, arg(v, n, i, 0), f == 'h');
		}
	} else if (k == '>' && f == 'c') {
		reply(vt, "\033[>1;10;0c");
	} else if (k == '!' && f == 'p') {
		soft_reset(vt);
	}
}

/*
 * §3.5: all but CHT, CBT, TBC, DECSET, DECRST and SGR end a pending wrap,
 * known or not; k is the private marker or intermediate (0 none).
 */
static int
keeps_wrap(int k, uint32_t f)
{
	return (k == 0 && (f == 'I' || f == 'Z' || f == 'g' || f == 'm')) ||
	    (k == '?' && (f == 'h' || f == 'l'));
}

static void
csi_dispatch(struct vt *vt, uint32_t f)
{
	struct fb *fb = vt->fb;
	struct vt_parser *p = &vt->p;
	int v[VT_MAX_PARAM_CHARS + 1], n, a;
	int k = p->ninter == 0 ? 0 : p->ninter == 1 ? p->inter[0] : -1;

	if (!keeps_wrap(k, f)) {
		fb->wrap_pending = 0;
	}
	if (f > 0x7e) {
		return;
	}
	n = parse_params(p, v);
	if (k != 0) {
		csi_marked(vt, k, f, v, n);
		return;
	}
	a = arg(v, n, 0, 1);
	switch (f) {
	case '@':	/* ICH */
		shift_cells(vt, MIN(a, fb->w));
		break;
	case 'A':	/* CUU */
		move_row(fb, -a, 1);
		break;
	case 'B':	/* CUD */
		move_row(fb, a, 1);
		break;
	case 'C':	/* CUF */
		move_col(fb, a, 1);
		break;
	case 'D':	/* CUB */
		move_col(fb, -a, 1);
		break;
	case 'G':	/* CHA */
	case '`':	/* HPA */
		move_col(fb, a - 1, 0);
		break;
	case 'H':	/* CUP */
	case 'f':	/* HVP */
		move_row(fb, a - 1, 0);
		move_col(fb, arg(v, n, 1, 1) - 1, 0);
		break;
	case 'I':	/* CHT */
		tab(vt, a);
		break;
	case 'J':	/* ED */
		erase_display(vt, arg(v, n, 0, 0));
		break;
	case 'K':	/* EL */
		erase_line(vt, arg(v, n, 0, 0));
		break;
	case 'L':	/* IL */
		insert_lines(vt, fb->cy, MIN(a, fb->h));
		move_col(fb, 0, 0);
		break;
	case 'M':	/* DL */
		delete_lines(vt, fb->cy, MIN(a, fb->h));
		move_col(fb, 0, 0);
		break;
	case 'P':	/* DCH */
		shift_cells(vt, -MIN(a, fb->w));
		break;
	case 'S':	/* SU */
		scroll_region(vt, MIN(a, fb->h));
		break;
	case 'T':	/* SD */
		scroll_region(vt, -MIN(a, fb->h));
		break;
	case 'X':	/* ECH */
		clear_cells(vt, fb->cy, fb->cx, MIN(fb->cx + a - 1, fb->w - 1));
		break;
	case 'Z':	/* CBT */
		tab(vt, -a);
		break;
	case 'c':	/* DA */
		reply(vt, "\033[?62c");
		break;
	case 'd':	/* VPA */
		move_row(fb, a - 1, 0);
		break;
	case 'g':	/* TBC */
		tab_clear(fb, arg(v, n, 0, 0));
		break;
	case 'h':	/* SM */
	case 'l':	/* RM */
		ansi_modes(fb, v, n, f == 'h');
		break;
	case 'm':	/* SGR */
		sgr(fb, v, n);
		break;
	case 'n':	/* DSR */
		status_report(vt, arg(v, n, 0, 0));
		break;
	case 'r':	/* DECSTBM */
		set_region(fb, a, arg(v, n, 1, fb->h));
		break;
	default:
		break;
	}
}

/* ---- OSC (§7.14) ---- */

/* The code points osc[from..to) as UTF-8 into s (room for 4 per point). */
static size_t
osc_utf8(const struct vt *vt, size_t from, size_t to, char *s)
{
	size_t i, n = 0;

	for (i = from; i < to; i++) {
		n += (size_t)utf8_encode(vt->osc[i], s + n);
	}
	return n;
}

static void
osc_end(struct vt *vt)
{
	struct fb *fb = vt->fb;
	const uint32_t *o = vt->osc;
	size_t len = vt->osc_len, off, end;
	char *s;
	long cmd = -1;

	if (len >= 5 && o[0] == '5' && o[1] == '2' && o[2] == ';' &&
	    o[3] == 'c' && o[4] == ';') {
		/* The clipboard := the base64 text after "52;c;" (none:
		 * empty); anything else, a query ('?') first, is ignored. */
		if (len == 5) {
			fb_clip_set(fb, NULL, 0);
			return;
		}
		if ((s = malloc((len - 5) * 4)) == NULL) {
			vt->dropped++;
			return;
		}
		off = osc_utf8(vt, 5, len, s);
		if (fb_clip_valid(s, off) && fb_clip_set(fb, s, off) == -1) {
			vt->dropped++;
		}
		free(s);
		return;
	}
	if (len == 0) {
		return;
	}
	if (o[0] == ';') {
		cmd = 0;
		off = 1;
	} else if (len >= 2 && o[1] == ';') {
		cmd = (long)o[0] - '0';
		off = 2;
	} else {
		return;
	}
	if (cmd < 0 || cmd > 2) {
		return;
	}
	fb->title_init = 1;
	end = MIN(len, (size_t)VT_TITLE_MAX);
	if (cmd != 2) {
		fb->icon_len = osc_utf8(vt, off, end, fb->icon);
	}
	if (cmd != 1) {
		fb->title_len = osc_utf8(vt, off, end, fb->title);
	}
}

/* ---- Entry points ---- */

static void
apply(struct vt *vt, const struct vt_act *a)
{
	switch (a->type) {
	case VT_ACT_PRINT:
		print(vt, a->ch);
		break;
	case VT_ACT_EXECUTE:
		control(vt, a->ch);
		break;
	case VT_ACT_ESC:
		esc_dispatch(vt, a->ch);
		break;
	case VT_ACT_CSI:
		csi_dispatch(vt, a->ch);
		break;
	case VT_ACT_OSC_START:
		vt->osc_len = 0;
		break;
	case VT_ACT_OSC_PUT:
		if (vt->osc_len >= VT_OSC_MAX) {
			break;
		}
		/* Allocated at the first OSC, so a vt is cheap to copy. */
		if (vt->osc == NULL &&
		    (vt->osc = malloc(VT_OSC_MAX * sizeof *vt->osc)) == NULL) {
			vt->dropped++;
			break;
		}
		vt->osc[vt->osc_len++] = a->ch;
		break;
	case VT_ACT_OSC_END:
		osc_end(vt);
		break;
	default:
		break;
	}
}

/*
 * A whole CSI sequence at s (s[0] is ESC) of the common shape: '[', an
 * optional private marker, digits and ';', intermediates, a final byte.
 * Loads the parser as the machine would and dispatches it; returns its
 * length, or 0 for anything else (cut short, controls inside, ':'), which
 * then goes byte by byte. Only in the ground state.
 */
static size_t
csi_fast(struct vt *vt, const uint8_t *s, size_t n)
{
	struct vt_parser *p = &vt->p;
	size_t i = 2;

	if (n < 3 || s[1] != '[') {
		return 0;
	}
	p_clear(p);
	if (s[i] >= 0x3c && s[i] <= 0x3f) {
		p_collect(p, s[i++]);
	}
	while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == ';')) {
		p_param(p, s[i++]);
	}
	while (i < n && s[i] >= 0x20 && s[i] <= 0x2f) {
		p_collect(p, s[i++]);
	}
	if (i >= n || s[i] < 0x40 || s[i] > 0x7e) {
		return 0;
	}
	csi_dispatch(vt, s[i]);
	return i + 1;
}

/*
 * Output that scrolls away unseen (terminal.md leaves the frame, not the
 * path to it, to be observed). Text, CR, LF and SGR under a full-screen
 * scrolling region only move the cursor down and to the right, and every
 * scroll discards the top row. So once the rest of a read will scroll h
 * more times, everything on the screen now is lost: ff_walk finds the
 * byte that makes the h-th scroll from the end, vt_feed puts the cursor
 * and the rendition where they would be just before it and goes on from
 * there. The walk moves the cursor with the steps drawing uses
 * (wraps_first, linefeed_row, cursor_col) and applies SGR through
 * csi_fast; a frame fed whole equals one fed through the state machine
 * (vt_test). A scroll_walk is where a walk has got to.
 */
struct scroll_walk {
	size_t pos;		/* bytes walked */
	long t;			/* scrolls so far */
	int cx, cy, pending;
	struct fb_rend rend;
};

/*
 * The walk's line feed (and a print's wrap to the next row): 1 when the
 * screen scrolls, 0 when not, -1 (nothing done) when this would be the
 * scroll numbered stop.
 */
static int
walk_linefeed(const struct fb *fb, struct scroll_walk *st, long stop)
{
	int k, y = linefeed_row(fb, st->cy, 1, &k);

	if (k > 0 && st->t + 1 == stop) {
		return -1;
	}
	st->t += k;
	st->cy = y;
	st->pending = 0;
	return k > 0;
}

/*
 * Walk s (n bytes) from *st without writing a cell: printable characters
 * of width 1 or 2 (not DEC graphics), CR, LF, SGR (applied to fb->rend).
 * Stops at any other byte, or before the byte that makes scroll number
 * stop (stop > 0). When mark is not NULL, mark[1] is the state after the
 * last scroll whose number is a multiple of every, and mark[0] the one
 * before; they start as *st.
 */
static void
ff_walk(struct vt *vt, const uint8_t *s, size_t n, struct scroll_walk *st,
    long stop, struct scroll_walk *mark, long every)
{
	struct fb *fb = vt->fb;
	size_t i = st->pos, len, j;
	uint32_t cp;
	int cw, w = fb->w, x, scrolled;

	while (i < n) {
		scrolled = 0;
		if (s[i] >= 0x20 && s[i] < 0x7f && !st->pending) {
			/* Narrow text up to the margin, in one go. */
			len = MIN((size_t)(w - st->cx), n - i);
			j = 1 + ascii_span(s + i + 1, len - 1);
			st->cx = cursor_col(st->cx + (int)j, w, &st->pending);
			i += j;
			continue;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			len = 1;
			cw = 1;
		} else if (s[i] == '\r') {
			/* control: CR */
			st->cx = 0;
			st->pending = 0;
			i++;
			continue;
		} else if (s[i] == '\n') {
			/* control: LF */
			if ((scrolled = walk_linefeed(fb, st, stop)) == -1) {
				break;
			}
			len = 1;
			cw = 0;
		} else if (s[i] == 0x1b) {
			/* SGR only: it keeps a pending wrap (§3.5). */
			if (n - i < 3 || s[i + 1] != '[') {
				break;
			}
			j = i + 2;
			while (j < n && ((s[j] >= '0' && s[j] <= '9') ||
			    s[j] == ';')) {
				j++;
			}
			if (j >= n || s[j] != 'm' ||
			    csi_fast(vt, s + i, n - i) != j + 1 - i) {
				break;
			}
			i = j + 1;
			continue;
		} else if ((len = text_char(s + i, n - i, &cp)) != 0) {
			cw = width_of(vt, cp);
			if (cw != 1 && cw != 2) {
				break;
			}
			if (!wraps_first(fb, st->cx, st->pending, cw) &&
			    st->cx + cw <= w) {
				/* Text that fits on the row, in one go. */
				x = st->cx;
				i += text_fit(vt, s + i, n - i, &x);
				st->cx = cursor_col(x, w, &st->pending);
				continue;
			}
		} else {
			break;
		}
		if (cw > 0) {
			/* print_cp */
			if (wraps_first(fb, st->cx, st->pending, cw)) {
				if ((scrolled = walk_linefeed(fb, st, stop)) ==
				    -1) {
					break;
				}
				st->cx = 0;
			}
			st->cx = cursor_col(st->cx + cw, w, &st->pending);
		}
		i += len;
		if (scrolled && mark != NULL && st->t % every == 0) {
			st->pos = i;
			st->rend = fb->rend;
			mark[0] = mark[1];
			mark[1] = *st;
		}
	}
	st->pos = i;
}

/*
 * Skip what the text at s will scroll away; returns the bytes skipped (0:
 * none). *end is where the walked text ends: the caller looks no more
 * before it, so that each byte is walked at most twice. The second walk,
 * to the byte that makes the h-th scroll from the end, starts from a mark
 * at most 2h scrolls before it.
 */
static size_t
ff_skip(struct vt *vt, const uint8_t *s, size_t n, size_t *end)
{
	struct fb *fb = vt->fb;
	struct scroll_walk st, mark[2];
	struct fb_rend rend = fb->rend;
	long stop;

	*end = 0;
	/* Output that scrolls has the cursor on the bottom row; elsewhere
	 * (a full-screen program) the walk would mostly be wasted. */
	if (fb->cy != fb->h - 1 || fb->top != 0 || fb->bottom != fb->h - 1 ||
	    !(fb->modes & FB_M_AUTOWRAP) || vt->g[vt->gl] ||
	    n <= (size_t)fb->h) {
		return 0;
	}
	memset(&st, 0, sizeof(st));
	st.cx = fb->cx;
	st.cy = fb->cy;
	st.pending = fb->wrap_pending;
	st.rend = fb->rend;
	mark[0] = mark[1] = st;
	ff_walk(vt, s, n, &st, 0, mark, fb->h);
	*end = st.pos;
	if (st.t < fb->h) {
		fb->rend = rend;	/* as it was */
		return 0;
	}
	stop = st.t - fb->h + 1;
	st = mark[1].t < stop ? mark[1] : mark[0];
	fb->rend = st.rend;
	ff_walk(vt, s, *end, &st, stop, NULL, 0);
	fb->cx = st.cx;
	fb->cy = st.cy;
	fb->wrap_pending = st.pending;
	return st.pos;
}

void
vt_init(struct vt *vt, struct fb *fb)
{
	memset(vt, 0, sizeof *vt);
	vt->fb = fb;
	vt->wlo[0] = vt->wlo[1] = 1;	/* empty ranges */
	vt_parser_init(&vt->p);
}

void
vt_free(struct vt *vt)
{
	buf_free(&vt->reply);
	free(vt->osc);
	vt->osc = NULL;
	vt->osc_len = 0;
	if (vt->main_rows != NULL) {
		main_drop(vt);
	}
}

/*
 * A copy is what a frame copy needs to be fed on or compared: the parser
 * state (even in the middle of a sequence), modes, charsets, saved cursor
 * and counters are kept. What the original owns stays with it: the reply
 * bytes not yet sent, the main screen hidden behind the alternate one and
 * the OSC string being collected (the copy's starts empty and gets its own
 * buffer when it needs one).
 */
void
vt_copy(struct vt *dst, const struct vt *src, struct fb *fb)
{
	*dst = *src;
	dst->fb = fb;
	memset(&dst->reply, 0, sizeof(dst->reply));
	dst->main_rows = NULL;
	dst->osc = NULL;
	dst->osc_len = 0;
}

void
vt_feed(struct vt *vt, const uint8_t *s, size_t n)
{
	struct vt_act acts[4];
	uint32_t cps[2];
	size_t i = 0, len, walked = 0;
	int ncp, na, j, k;

	while (i < n) {
		if (vt->work_max != 0 && vt->work > vt->work_max) {
			break;	/* past the caller's bound: the rest is lost */
		}
		/* Fast paths in the ground state: text the machine would only
		 * PRINT, whole CSI sequences, output that scrolls away. */
		if (vt->p.state == S_GROUND && vt->p.npend == 0 && !vt->slow) {
			if (i >= walked) {
				walked = i;
				i += ff_skip(vt, s + i, n - i, &len);
				walked += MAX(len, 1);
				if (i >= n) {
					break;	/* cannot happen: the walk
						 * stops before a byte */
				}
			}
			if (s[i] == 0x1b &&
			    (len = csi_fast(vt, s + i, n - i)) != 0) {
				i += len;
				continue;
			}
			if (s[i] < 0x20 && s[i] != 0x1b) {
				/* C0: the machine would only EXECUTE it. */
				control(vt, s[i++]);
				continue;
			}
			if (s[i] >= 0x20 && s[i] < 0x7f &&
			    !(vt->fb->modes & FB_M_INSERT) && !vt->g[vt->gl]) {
				i += print_run(vt, s + i, n - i);
				continue;
			}
			if (s[i] >= 0xc2 && !(vt->fb->modes & FB_M_INSERT) &&
			    !vt->g[vt->gl] &&
			    (len = text_run(vt, s + i, n - i)) != 0) {
				i += len;
				continue;
			}
			if (s[i] >= 0xc2 &&
			    (len = utf8_fast(s + i, n - i, &cps[0])) != 0) {
				print(vt, cps[0]);
				i += len;
				continue;
			}
		}
		ncp = utf8_byte(&vt->p, s[i++], cps);
		for (j = 0; j < ncp; j++) {
			/* Each code point's actions run before the next code
			 * point can clear the parameters they read. */
			na = parse_cp(&vt->p, cps[j], acts);
			for (k = 0; k < na; k++) {
				apply(vt, &acts[k]);
			}
		}
	}
}

int
vt_resize(struct vt *vt, int w, int h)
{
	struct fb *fb = vt->fb;
	int ow = fb->w, oh = fb->h;

	spend(vt, (long)ow * oh + (long)w * h);
	if (fb_resize(fb, w, h) == -1) {
		return -1;
	}
	if (vt->main_rows != NULL) {
		/* The hidden main screen follows; it is lost if it no longer
		 * matches or cannot be resized. */
		if (vt->main_w != ow || vt->main_h != oh ||
		    fb_rows_resize(fb, &vt->main_rows, ow, oh) == -1) {
			main_drop(vt);
			return 0;
		}
		vt->main_w = fb->w;
		vt->main_h = fb->h;
	}
	return 0;
}

size_t
vt_user_byte(struct vt *vt, uint8_t b, uint8_t out[2])
{
	switch (vt->user_state) {
	case 1:		/* after ESC */
		if (b == 'O') {
			vt->user_state = 2;
			return 0;
		}
		vt->user_state = 0;	/* even for a second ESC */
		break;
	case 2:		/* after ESC O */
		vt->user_state = 0;
		if (!(vt->fb->modes & FB_M_APPCURSOR) && b >= 'A' &&
		    b <= 'D') {
			out[0] = '[';
		} else {
			out[0] = 'O';
		}
		out[1] = b;
		return 2;
	default:
		vt->user_state = b == 0x1b;
		break;
	}
	out[0] = b;
	return 1;
}

size_t
vt_bytes(const struct vt *vt, const struct vt *base)
{
	size_t n = vt->reply.cap;

	if (vt->osc != NULL) {
		n += VT_OSC_MAX * sizeof(*vt->osc);
	}
	if (vt->main_rows != NULL) {
		n += fb_rows_bytes(vt->main_rows, vt->main_h,
		    base != NULL ? base->main_rows : NULL,
		    base != NULL ? base->main_h : 0);
	}
	return n;
}

uint64_t
vt_work_bound(int w, int h)
{
	return VT_WORK_SCREENS * ((uint64_t)w * (uint64_t)h +
	    (uint64_t)h * (uint64_t)h) + VT_WORK_FLAT;
}
