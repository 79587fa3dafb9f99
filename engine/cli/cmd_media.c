/*
 * cmd_media - postino media add | ls | rm: images for campaigns.
 *
 * add reads a file, checks it with image_check as POST /api/v1/media does
 * (the type its extension names must be the type its bytes are; SVG never),
 * and keeps it once by content; it prints the public address campaigns use.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/settings_api.h"
#include "engine/cli/cli.h"
#include "engine/send/settings_send.h"
#include "engine/store/media.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/image.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static const char media_usage[] =
    "usage: postino media add FILE [--name NAME] [--json]\n"
    "       postino media ls [--before ID] [--limit N] [--json]\n"
    "       postino media rm ID\n"
    "\n"
    "An image (PNG, JPEG, GIF or WebP; never SVG) of at most [admin] media_max_bytes, whose\n"
    "extension names the type its bytes are, kept once by content and served at\n"
    "[http] public_url/m/SHA256.EXT, cached by browsers for a year.\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

static void print_line(json_t *m)
{
    printf("%-6lld %-5s %5lldx%-5lld %9lld  %s\n", json_integer_value(json_object_get(m, "id")),
           image_ext(image_from_ext(json_string_value(json_object_get(m, "file")))),
           json_integer_value(json_object_get(m, "width")), json_integer_value(json_object_get(m, "height")),
           json_integer_value(json_object_get(m, "size")), json_string_value(json_object_get(m, "url")));
}

/* read at most MAX + 1 bytes of PATH into B; 0 or -1 (logged) */
static int read_file(const char *path, size_t max, struct buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    if (!f) {
        log_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    while (b->len <= max && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        log_error("cannot read %s", path);
    return bad ? -1 : 0;
}

static int media_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'n')
            name = optarg;
    const char *path = cli_operand(c, argc, argv, "image file");
    enum image_type declared = image_from_ext(path);
    if (declared == IMAGE_NONE)
        cli_usage(c, "the file's name must end in .png, .jpg, .jpeg, .gif or .webp (the type it is)");
    if (!name) {
        const char *slash = strrchr(path, '/');
        name = slash ? slash + 1 : path;
    }
    if (strlen(name) > 200 || !str_utf8_valid(name, strlen(name), NULL))
        cli_usage(c, "--name must be at most 200 characters of text");
    struct buf b = BUF_INIT;
    struct image_info info;
    struct store_err e;
    char why[256], hex[65];
    json_t *j;
    bool created;
    if (read_file(path, api_settings.media_max_bytes, &b) < 0) {
        buf_free(&b);
        return 1;
    }
    if (image_check(b.data ? b.data : "", b.len, image_mime(declared), api_settings.media_max_bytes, &info, why,
                    sizeof(why)) != IMAGE_OK) {
        log_error("%s: %s", path, why);
        buf_free(&b);
        return 1;
    }
    store_media_sha256(b.data, b.len, hex);
    struct media_new m = { hex, image_mime(info.type), b.data, b.len, info.width, info.height, name, 0 };
    int rc = store_media_add(cli_db(c), &m, &j, &created, &e);
    buf_free(&b);
    if (rc < 0)
        return cli_fail(&e);
    store_media_url(j, mail_settings.public_url);
    if (c->json)
        cli_print_json(j);
    else
        printf("%s image %lld (%ux%u, %lld bytes): %s\n", created ? "added" : "already there:",
               json_integer_value(json_object_get(j, "id")), info.width, info.height,
               json_integer_value(json_object_get(j, "size")), json_string_value(json_object_get(j, "url")));
    json_decref(j);
    return 0;
}

static int media_ls(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "before", required_argument, NULL, 'b' },
        { "limit", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    long before = 0, limit = 50;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'b' && str_parse_long(optarg, 1, LONG_MAX, &before) < 0)
            cli_usage(c, "--before must be an image id");
        if (opt == 'l' && str_parse_long(optarg, 1, 1000, &limit) < 0)
            cli_usage(c, "--limit must be a number from 1 to 1000");
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    struct store_err e;
    json_t *items, *x;
    size_t i;
    if (store_media_ls(cli_db(c), before, limit, &items, &e) < 0)
        return cli_fail(&e);
    json_array_foreach(items, i, x) store_media_url(x, mail_settings.public_url);
    if (c->json) {
        cli_print_json(items);
    } else {
        printf("%-6s %-5s %11s %9s  %s\n", "ID", "TYPE", "SIZE", "BYTES", "URL");
        json_array_foreach(items, i, x) print_line(x);
    }
    json_decref(items);
    return 0;
}

static int media_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *id = cli_operand(c, argc, argv, "image id");
    struct store_err e;
    if (store_media_rm(cli_db(c), id, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed image %s\n", id);
    return 0;
}

static const struct cli_command media_commands[] = {
    { "add", media_add, NULL }, { "ls", media_ls, NULL }, { "rm", media_rm, NULL }, { NULL, NULL, NULL },
};

/* cmd_media - postino media SUBCOMMAND. */
int cmd_media(struct cli *c, int argc, char **argv)
{
    c->usage = media_usage;
    return cli_dispatch(c, media_commands, "media", argc, argv);
}
