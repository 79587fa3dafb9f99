/*
 * file - whole-file reading for command-line inputs.
 *
 * file_read  read PATH ("-" is standard input) into OUT, refusing more than MAX bytes
 *
 * Returns 0, or -1 with a one-line reason naming the file in ERR.
 */
#ifndef POSTINO_UTIL_FILE_H
#define POSTINO_UTIL_FILE_H

#include <stddef.h>

#include "engine/util/buf.h"

int file_read(const char *path, size_t max, struct buf *out, char *err, size_t errlen);

#endif
