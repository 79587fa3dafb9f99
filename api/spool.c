/*
 * spool - request bodies in files under the spool folder ([api] spool_dir),
 * named body-XXXXXX, readable by the owner only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/spool.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

/* spool_dir_make - create DIR and its parents (DIR is changed while working, then restored). */
void spool_dir_make(char *dir)
{
    for (char *p = dir + 1;; p++) {
        if (*p && *p != '/')
            continue;
        char c = *p;
        *p = 0;
        int rc = mkdir(dir, 0700);
        *p = c;
        if (rc < 0 && errno != EEXIST) {
            log_warn("api: cannot create %s: %s (imports over HTTP will fail)", dir, strerror(errno));
            break;
        }
        if (!c)
            break;
    }
}

/* spool_open - a new file in DIR for SP's body; 0 or -1 (logged). */
int spool_open(struct spool *sp, const char *dir)
{
    char *path = xasprintf("%s/body-XXXXXX", dir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        log_error("api: cannot create a file in %s: %s", dir, strerror(errno));
        xfree(path);
        return -1;
    }
    sp->fd = fd;
    sp->path = path;
    return 0;
}

/* spool_write - append DATA to SP's file; a failure sets SP->failed (answered 503 at the end). */
void spool_write(struct spool *sp, const char *data, size_t len)
{
    while (len > 0 && !sp->failed) {
        ssize_t n = write(sp->fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_error("api: cannot write %s: %s", sp->path, n < 0 ? strerror(errno) : "no space");
            sp->failed = true;
            break;
        }
        data += n, len -= (size_t)n, sp->len += (size_t)n;
    }
}

/* spool_close - close SP's file; the file stays. */
void spool_close(struct spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
}

/* spool_drop - close SP's file and remove it (a handler may have moved it already). */
void spool_drop(struct spool *sp)
{
    spool_close(sp);
    if (sp->path) {
        unlink(sp->path);
        xfree(sp->path);
        sp->path = NULL;
    }
}
