/*
 * cmd_import - postino import FILE --list NAME: subscribers from CSV or XML.
 *
 * Parses the options, runs the import (importers/import.h) and prints what
 * happened to every row: as text, or as one JSON object with --json. With
 * --preview it writes nothing: it shows what the import would read (the
 * format, delimiter and encoding found, what each column becomes, the first
 * rows checked), as POST /api/v1/imports/preview answers it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/store/lists.h"
#include "engine/util/log.h"
#include "engine/util/str.h"
#include "importers/import.h"

static const char import_usage[] =
    "usage: postino import FILE --list NAME [--format csv|xml] [--mode subscribe|unsubscribe|blocklist]\n"
    "                      [--overwrite] [--status confirmed|unconfirmed] [--delimiter C]\n"
    "                      [--encoding utf-8|latin1] [--map COLUMN=FIELD]... [--rejects FILE]\n"
    "                      [--dry-run] [--json]\n"
    "       postino import FILE --preview [--rows N] [--format F] [--delimiter C] [--encoding E] [--map C=F]...\n"
    "\n"
    "FILE '-' reads standard input; the format is guessed from the content when not given.\n"
    "CSV: a header row names the columns; 'email' (or 'e-mail', 'email address') and 'name'\n"
    "are the subscriber's, every other column an attribute. --map COLUMN=FIELD renames a\n"
    "column (FIELD email, name or an attribute key) or skips it (FIELD '-').\n"
    "--overwrite replaces the name of existing subscribers and merges their attributes.\n"
    "--rejects FILE writes every rejected row as CSV: line,reason,row.\n"
    "--dry-run counts everything and writes nothing. --list is optional with --mode blocklist;\n"
    "--list again adds a list every row is subscribed to as well (--mode subscribe).\n"
    "--preview shows what would be read: the delimiter and encoding found, what each column\n"
    "becomes, and the first N rows (--rows, 20) checked as the import checks them.\n";

static void print_text(const struct import_opts *o, const struct import_counts *c)
{
    enum import_mode m = o->load.mode;
    printf("%s %s%s%s (%s, %s)%s\n", o->load.dry_run ? "would import" : "imported",
           strcmp(o->path, "-") == 0 ? "standard input" : o->path, o->load.list ? " into list " : "",
           o->load.list ? o->load.list : "", o->format == IMPORT_FORMAT_XML ? "xml" : "csv",
           import_mode_name(m), o->load.dry_run ? " - dry run, nothing written" : "");
    printf("  rows read            %lld\n", c->read);
    printf("  new subscribers      %lld%s\n", c->added, m == IMPORT_BLOCKLIST ? " (blocklisted)" : "");
    printf("  existing updated     %lld%s\n", c->updated,
           m == IMPORT_UNSUBSCRIBE ? " (unsubscribed now)" : m == IMPORT_BLOCKLIST ? " (blocklisted now)" : "");
    if (m == IMPORT_SUBSCRIBE) {
        printf("  already subscribed   %lld\n", c->unchanged);
        printf("  skipped              %lld (blocklisted, or unsubscribed from the list)\n", c->skipped);
    } else if (m == IMPORT_UNSUBSCRIBE) {
        printf("  unchanged            %lld (not on the list or already unsubscribed)\n", c->unchanged);
        printf("  not found            %lld\n", c->not_found);
    } else {
        printf("  already blocklisted  %lld\n", c->unchanged);
    }
    printf("  duplicates in file   %lld\n", c->duplicates);
    printf("  rejected             %lld\n", c->rejected);
    printf("  time                 %.2f s\n", c->seconds);
}

/* --preview: what the import would read, as text or JSON; 0 or 1 */
static int preview(struct cli *c, struct import_opts *o, long rows)
{
    struct import_lists lists = { 0 };
    char err[1024];
    json_t *j;
    if (!o->format_given && strcmp(o->path, "-") != 0 && str_has_suffix(o->path, ".xml"))
        o->format_given = true, o->format = IMPORT_FORMAT_XML;
    if (o->format_given && o->format == IMPORT_FORMAT_XML) {
        /* <list> names are checked against the lists there are */
        struct store_err e;
        json_t *all, *x;
        size_t i;
        if (store_list_names(cli_db(c), &all, &e) < 0)
            return cli_fail(&e);
        json_array_foreach(all, i, x)
            import_lists_add(&lists, json_string_value(json_object_get(x, "name")),
                             (long long)json_integer_value(json_object_get(x, "id")));
        json_decref(all);
    }
    j = import_preview(o, &lists, (size_t)rows, false, err, sizeof(err));
    import_lists_free(&lists);
    if (!j) {
        log_error("cannot preview %s: %s", o->path, err);
        return 1;
    }
    if (c->json) {
        cli_print_json(j);
        json_decref(j);
        return 0;
    }
    json_t *x, *cols = json_object_get(j, "columns"), *rws = json_object_get(j, "rows");
    size_t i;
    const char *delim = json_string_value(json_object_get(j, "delimiter"));
    printf("%s, %s%s%sencoding %s (the start looks like %s%s)\n", json_string_value(json_object_get(j, "format")),
           delim ? "delimiter \"" : "", delim ? delim : "", delim ? "\", " : "",
           json_string_value(json_object_get(j, "encoding")),
           json_string_value(json_object_get(j, "encoding_detected")),
           json_is_true(json_object_get(j, "bom")) ? ", with a byte order mark" : "");
    json_array_foreach(cols, i, x) {
        const char *field = json_string_value(json_object_get(x, "field"));
        bool attr = strcmp(field, "attribute") == 0;
        printf("  column %-20s %s%s\n", json_string_value(json_object_get(x, "header")),
               attr ? "attribute " : strcmp(field, "skip") == 0 ? "skipped" : field,
               attr ? json_string_value(json_object_get(x, "key")) : "");
    }
    json_array_foreach(rws, i, x) {
        long long line = json_integer_value(json_object_get(x, "line"));
        if (json_object_get(x, "rejected")) {
            printf("  line %lld: rejected: %s\n", line, json_string_value(json_object_get(x, "rejected")));
            continue;
        }
        char *attrs = json_dumps(json_object_get(x, "attributes"), JSON_COMPACT);
        const char *name = json_string_value(json_object_get(x, "name"));
        printf("  line %lld: %s%s%s%s %s\n", line, json_string_value(json_object_get(x, "email")),
               name ? " \"" : "", name ? name : "", name ? "\"" : "", attrs);
        free(attrs);
    }
    if (json_is_true(json_object_get(j, "more")))
        printf("  … more rows follow\n");
    const char *why = json_string_value(json_object_get(j, "error"));
    if (why)
        log_error("the import would fail: %s", why);
    json_decref(j);
    return why ? 1 : 0;
}

static void print_json(const struct import_opts *o, const struct import_counts *c)
{
    json_t *j = import_summary_json(o, o->path, c);
    cli_print_json(j);
    json_decref(j);
}

/* cmd_import - postino import FILE --list NAME [options]. */
int cmd_import(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "list", required_argument, NULL, 'l' },      { "format", required_argument, NULL, 'f' },
        { "mode", required_argument, NULL, 'm' },      { "overwrite", no_argument, NULL, 'o' },
        { "status", required_argument, NULL, 's' },    { "delimiter", required_argument, NULL, 'd' },
        { "encoding", required_argument, NULL, 'e' },  { "map", required_argument, NULL, 'M' },
        { "rejects", required_argument, NULL, 'r' },   { "dry-run", no_argument, NULL, 'n' },
        { "preview", no_argument, NULL, 'p' },         { "rows", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    struct import_map map = { 0 };
    struct import_opts o = { 0 };
    static const char *const names[128] = { ['l'] = "list", ['f'] = "format", ['m'] = "mode",
                                            ['s'] = "status", ['d'] = "delimiter", ['e'] = "encoding" };
    char err[1024], why[128];
    int opt;
    bool want_preview = false;
    long rows = 20;
    c->usage = import_usage;
    optind = 0;
    o.map = &map;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt > 0 && opt < 128 && names[opt]) {
            if (import_option(&o, names[opt], optarg, why, sizeof(why)) < 0)
                cli_usage(c, "--%s %s", names[opt], why);
        } else if (opt == 'o') {
            o.load.overwrite = true;
        } else if (opt == 'M') {
            if (import_map_add(&map, optarg, err, sizeof(err)) < 0)
                cli_usage(c, "%s", err);
        } else if (opt == 'r') {
            o.rejects_path = optarg;
        } else if (opt == 'n') {
            o.load.dry_run = true;
        } else if (opt == 'p') {
            want_preview = true;
        } else if (opt == 'R') {
            if (str_parse_long(optarg, 1, 200, &rows) < 0)
                cli_usage(c, "--rows must be a number from 1 to 200");
        }
    }
    o.path = cli_operand(c, argc, argv, "file to import");
    if (want_preview) {
        int rc = preview(c, &o, rows);
        import_map_free(&map);
        return rc;
    }
    if (!o.load.list && o.load.mode != IMPORT_BLOCKLIST)
        cli_usage(c, "--list NAME is required");
    if (import_opts_check(&o, why, sizeof(why)) < 0)
        cli_usage(c, "--list: %s", why);
    o.progress = isatty(STDERR_FILENO);
    struct import_counts counts;
    char actor[300];
    cli_actor(actor, sizeof(actor));
    o.load.actor = actor;
    int rc = import_run(cli_db(c), &o, &counts, err, sizeof(err));
    import_map_free(&map);
    if (rc < 0) {
        log_error("import of %s failed, nothing was imported: %s", strcmp(o.path, "-") == 0 ? "standard input" : o.path,
                  err);
        return 1;
    }
    if (c->json)
        print_json(&o, &counts);
    else
        print_text(&o, &counts);
    return 0;
}
