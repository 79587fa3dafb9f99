/*
 * cmd_export - postino export --list L [--segment S | --filter EXPR] [--format csv|json] [--output FILE]:
 * a list's subscribers on standard output (or into FILE), streamed (engine/store/export.h).
 *
 * The CSV is what postino import reads back. A failure half way is reported
 * on standard error with exit status 1; FILE is then removed, so no partial
 * export is mistaken for a whole one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/store/export.h"
#include "engine/util/log.h"

static const char export_usage[] =
    "usage: postino export --list L [--segment S | --filter EXPR] [--format csv|json] [--output FILE]\n"
    "\n"
    "The subscribers of list L (confirmed or unconfirmed), those the segment or filter picks when\n"
    "given, by id. CSV (the default): email, name and one column per attribute key, read back by\n"
    "'postino import FILE --list L'; JSON: an array, one subscriber per line, with its status and\n"
    "the subscription's. Memory stays the same whatever the number of subscribers.\n";

/* cmd_export - postino export. */
int cmd_export(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "list", required_argument, NULL, 'l' },   { "segment", required_argument, NULL, 'g' },
        { "filter", required_argument, NULL, 'F' }, { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct export_query q = { 0 };
    const char *format = "csv", *path = NULL;
    struct store_err e;
    struct export_stream *x;
    int opt, rc;
    c->usage = export_usage;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'l')
            q.list = optarg;
        else if (opt == 'g')
            q.segment = optarg;
        else if (opt == 'F')
            q.filter = optarg;
        else if (opt == 'f')
            format = optarg;
        else if (opt == 'o')
            path = optarg;
    }
    cli_no_operands(c, argc, argv);
    if (!q.list)
        cli_usage(c, "--list is required");
    if (store_export_format_parse(format, &q.format, &e) < 0)
        return cli_fail(&e);
    FILE *f = stdout;
    if (path && !(f = fopen(path, "w"))) {
        log_error("cannot write %s: %s", path, strerror(errno));
        return 1;
    }
    if (store_export_open(cli_db(c), &q, &x, &e) < 0) {
        if (path) {
            fclose(f);
            unlink(path);
        }
        return cli_fail(&e);
    }
    struct buf b = BUF_INIT;
    do {
        rc = store_export_next(x, &b, &e);
        if (b.len && fwrite(b.data, 1, b.len, f) != b.len) {
            log_error("cannot write %s: %s", path ? path : "standard output", strerror(errno));
            rc = -1;
            e.code = STORE_ERR_DB;
            snprintf(e.msg, sizeof(e.msg), "the export stopped: the output could not be written");
        }
        buf_reset(&b);
    } while (rc > 0);
    long long rows = store_export_rows(x);
    store_export_close(x);
    buf_free(&b);
    if ((fflush(f) != 0 || (path && fclose(f) != 0)) && rc == 0) {
        log_error("cannot write %s: %s", path ? path : "standard output", strerror(errno));
        rc = -1;
        e.code = STORE_ERR_DB;
        snprintf(e.msg, sizeof(e.msg), "the export stopped: the output could not be written");
    }
    if (rc < 0) {
        if (path)
            unlink(path);
        return cli_fail(&e);
    }
    if (path)
        log_info("exported %lld subscriber%s of list %s to %s", rows, rows == 1 ? "" : "s", q.list, path);
    return 0;
}
