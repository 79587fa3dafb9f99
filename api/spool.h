/*
 * spool - a request body written to a file as it arrives (imports), so that
 * a large body is never held in memory.
 *
 * spool_dir_make  create the spool folder and its parents (as mkdir -p); a
 *                 failure is logged as a warning (imports over HTTP will fail)
 * spool_open      a new file in the folder for one body; 0, or -1 (logged)
 * spool_write     append to it; a failure is logged once and remembered in
 *                 FAILED, and the rest of the body is dropped
 * spool_close     close the file, keeping it for the handler
 * spool_drop      close and remove the file (gone already when a handler moved it)
 *
 * A struct spool starts as SPOOL_INIT.
 */
#ifndef POSTINO_API_SPOOL_H
#define POSTINO_API_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

struct spool {
    int fd;          /* -1: no file open */
    char *path;      /* malloc'd; NULL: none */
    size_t len;      /* bytes written */
    bool failed;
};

#define SPOOL_INIT { -1, NULL, 0, false }

void spool_dir_make(char *dir);
int spool_open(struct spool *sp, const char *dir);
void spool_write(struct spool *sp, const char *data, size_t len);
void spool_close(struct spool *sp);
void spool_drop(struct spool *sp);

#endif
