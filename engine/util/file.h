/*
 * file - whole-file reading for command-line inputs.
 *
 * file_read         read PATH ("-" is standard input) into OUT, refusing more than MAX bytes
 * file_read_secret  the first line of PATH (a password file) into OUT, OUTLEN bytes at most
 *
 * Returns 0, or -1 with a one-line reason naming the file in ERR.
 */
#ifndef POSTINO_UTIL_FILE_H
#define POSTINO_UTIL_FILE_H

#include <stddef.h>

#include "engine/util/buf.h"

int file_read(const char *path, size_t max, struct buf *out, char *err, size_t errlen);
int file_read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif
