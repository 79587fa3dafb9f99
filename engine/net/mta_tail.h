/*
 * mta_tail - read a growing log file from a saved position, through rotation.
 *
 * mta_tail_read  the next whole lines after a position, and the position after them
 *
 * A position names its file by inode and a hash of its first line. When PATH
 * is now another file (rotated: "mv log log.1" and a new log), what is left
 * of the old one in PATH.1 is read first, then the new file from its start;
 * when PATH is the same inode but shorter than the position or with another
 * first line (truncated, copied over), it is read again from its start. Only
 * whole lines are returned: a line still being written waits.
 */
#ifndef POSTINO_NET_MTA_TAIL_H
#define POSTINO_NET_MTA_TAIL_H

#include <stddef.h>

#include "engine/util/buf.h"

/* A position in a log file: which file (inode, first line) and how far (bytes of whole lines). */
struct mta_pos {
    long long inode;       /* 0: none saved */
    char first_line[65];   /* SHA-256 of the first line, hex; "" while the file has no whole line */
    long long read_to;
};

#define MTA_TAIL_LINE_MAX (64u << 10)   /* a longer line is skipped */

/*
 * mta_tail_read - append to OUT the whole lines of PATH after POS, at most MAX
 * bytes (MAX >= MTA_TAIL_LINE_MAX), and set *NEXT to the position after them;
 * OUT then holds exactly the bytes from NEXT->read_to - (bytes added) to
 * NEXT->read_to of NEXT's file. Returns 1 when *NEXT differs from *POS (lines
 * were read, a long line skipped, or the file changed), 0 when there is nothing
 * new (PATH missing included), or -errno with a one-line reason in ERR.
 */
int mta_tail_read(const char *path, const struct mta_pos *pos, size_t max, struct buf *out, struct mta_pos *next,
                  char *err, size_t errlen);

#endif
