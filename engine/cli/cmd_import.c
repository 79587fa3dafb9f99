/*
 * cmd_import - postino import FILE --list NAME: subscribers from CSV or XML.
 *
 * Parses the options, runs the import (importers/import.h) and prints what
 * happened to every row: as text, or as one JSON object with --json.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/util/log.h"
#include "importers/import.h"

static const char import_usage[] =
    "usage: postino import FILE --list NAME [--format csv|xml] [--mode subscribe|unsubscribe|blocklist]\n"
    "                      [--overwrite] [--status confirmed|unconfirmed] [--delimiter C]\n"
    "                      [--encoding utf-8|latin1] [--map COLUMN=FIELD]... [--rejects FILE]\n"
    "                      [--dry-run] [--json]\n"
    "\n"
    "FILE '-' reads standard input; the format is guessed from the content when not given.\n"
    "CSV: a header row names the columns; 'email' (or 'e-mail', 'email address') and 'name'\n"
    "are the subscriber's, every other column an attribute. --map COLUMN=FIELD renames a\n"
    "column (FIELD email, name or an attribute key) or skips it (FIELD '-').\n"
    "--overwrite replaces the name of existing subscribers and merges their attributes.\n"
    "--rejects FILE writes every rejected row as CSV: line,reason,row.\n"
    "--dry-run counts everything and writes nothing. --list is optional with --mode blocklist.\n";

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
        { "help", no_argument, NULL, 'h' },            { NULL, 0, NULL, 0 },
    };
    struct import_map map = { 0 };
    struct import_opts o = { 0 };
    static const char *const names[128] = { ['l'] = "list", ['f'] = "format", ['m'] = "mode",
                                            ['s'] = "status", ['d'] = "delimiter", ['e'] = "encoding" };
    char err[1024], why[128];
    int opt;
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
        }
    }
    o.path = cli_operand(c, argc, argv, "file to import");
    if (!o.load.list && o.load.mode != IMPORT_BLOCKLIST)
        cli_usage(c, "--list NAME is required");
    o.progress = isatty(STDERR_FILENO);
    struct import_counts counts;
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
