/*
 * embedded - look up files compiled into the binary.
 *
 * embedded_find - the embedded file named PATH, or NULL.
 */
#include <string.h>

#include "engine/util/embedded.h"

/* embedded_find - return the embedded file at PATH, or NULL when there is none. */
const struct embedded_file *embedded_find(const char *path)
{
    for (const struct embedded_file *f = embedded_files; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}
