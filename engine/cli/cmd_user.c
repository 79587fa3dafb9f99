/*
 * cmd_user - postino user add | ls | passwd | disable | enable | rm, and
 * postino token create | ls | rm: the people who may use the API.
 *
 * A password is read from standard input, never from the command line
 * (where ps and shell history would show it): on a terminal it is prompted
 * for twice with echo off, otherwise the first line is taken. A new token is
 * printed once; only its hash is stored.
 */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/settings_api.h"
#include "engine/cli/cli.h"
#include "engine/store/users.h"
#include "engine/util/log.h"

static const char user_usage[] =
    "usage: postino user add EMAIL [--role admin|user] [--json]   (password on standard input)\n"
    "       postino user ls [--json]\n"
    "       postino user passwd EMAIL                            (password on standard input)\n"
    "       postino user disable EMAIL | enable EMAIL | rm EMAIL\n";

static const char token_usage[] =
    "usage: postino token create --user EMAIL [--name NAME] [--json]   (the token is shown once)\n"
    "       postino token ls [--user EMAIL] [--json]\n"
    "       postino token rm ID\n";

static const struct option plain_opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };

/* one line of standard input into BUF without its line end; -1 at end of input or when too long */
static int read_line(char *buf, size_t len)
{
    if (!fgets(buf, (int)len, stdin))
        return -1;
    size_t n = strlen(buf);
    if (n == len - 1 && buf[n - 1] != '\n') {
        int ch;
        while ((ch = getchar()) != EOF && ch != '\n')
            ;
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = 0;
    return 0;
}

/* prompt on the terminal with echo off */
static int prompt_password(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    fflush(stderr);
    int have = tcgetattr(STDIN_FILENO, &old) == 0;
    if (have) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    int rc = read_line(buf, len);
    if (have)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return rc;
}

/* the new password into OUT (AUTH_HASH_MAX bytes, hashed); exits 1 with a reason */
static void read_password_hash(char out[AUTH_HASH_MAX])
{
    char pw[AUTH_PASSWORD_MAX + 2], again[AUTH_PASSWORD_MAX + 2];
    const char *why;
    if (isatty(STDIN_FILENO)) {
        if (prompt_password("New password: ", pw, sizeof(pw)) < 0 ||
            prompt_password("Repeat password: ", again, sizeof(again)) < 0)
            log_fatal("no password read");
        int same = strcmp(pw, again) == 0;
        OPENSSL_cleanse(again, sizeof(again));
        if (!same) {
            OPENSSL_cleanse(pw, sizeof(pw));
            log_fatal("the passwords differ");
        }
    } else if (read_line(pw, sizeof(pw)) < 0) {
        log_fatal("no password on standard input (one line, at most %d bytes)", AUTH_PASSWORD_MAX);
    }
    why = auth_password_check(pw);
    int rc = why ? 0 : auth_password_hash(pw, out);
    OPENSSL_cleanse(pw, sizeof(pw));
    if (why)
        log_fatal("%s", why);
    if (rc < 0)
        log_fatal("cannot hash the password (libcrypt has no yescrypt?)");
}

static void print_user_line(json_t *u)
{
    printf("%-6lld %-32s %-6s %-8s %6lld  %s\n", json_integer_value(json_object_get(u, "id")),
           json_string_value(json_object_get(u, "email")), json_string_value(json_object_get(u, "role")),
           json_is_true(json_object_get(u, "active")) ? "active" : "disabled",
           json_integer_value(json_object_get(u, "tokens")), json_string_value(json_object_get(u, "created_at")));
}

static int user_add(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "role", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *role = "user";
    char email[ADDRESS_MAX + 1], hash[AUTH_HASH_MAX];
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'r')
            role = optarg;
    if (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0)
        cli_usage(c, "--role must be admin or user, not '%s'", role);
    cli_email_arg(cli_operand(c, argc, argv, "user email"), email);
    PGconn *conn = cli_db(c);
    read_password_hash(hash);
    struct store_err e;
    json_t *u;
    int rc = store_user_add(conn, email, role, hash, &u, &e);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rc < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(u);
    else
        printf("added user %s (id %lld, %s)\n", email, json_integer_value(json_object_get(u, "id")), role);
    json_decref(u);
    return 0;
}

static int user_ls(struct cli *c, int argc, char **argv)
{
    cli_no_operands(c, argc, argv);
    struct store_err e;
    json_t *arr, *u;
    size_t i;
    if (store_user_ls(cli_db(c), &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-6s %-32s %-6s %-8s %6s  %s\n", "ID", "EMAIL", "ROLE", "STATE", "TOKENS", "CREATED");
        json_array_foreach(arr, i, u) print_user_line(u);
    }
    json_decref(arr);
    return 0;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "user email");
    PGconn *conn = cli_db(c);
    struct store_err e;
    json_t *u;
    if (store_user_get(conn, ref, &u, &e) < 0)
        return cli_fail(&e);
    json_decref(u);
    char hash[AUTH_HASH_MAX];
    read_password_hash(hash);
    int rc = store_user_set_password(conn, ref, hash, &e);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rc < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("changed the password of %s\n", ref);
    return 0;
}

static int set_active(struct cli *c, int argc, char **argv, bool active)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "user email");
    struct store_err e;
    json_t *u;
    if (store_user_set_active(cli_db(c), ref, active, &u, &e) < 0)
        return cli_fail(&e);
    if (c->json)
        cli_print_json(u);
    else
        printf("%s user %s\n", active ? "enabled" : "disabled", json_string_value(json_object_get(u, "email")));
    json_decref(u);
    return 0;
}

static int user_disable(struct cli *c, int argc, char **argv)
{
    return set_active(c, argc, argv, false);
}

static int user_enable(struct cli *c, int argc, char **argv)
{
    return set_active(c, argc, argv, true);
}

static int user_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *ref = cli_operand(c, argc, argv, "user email");
    struct store_err e;
    if (store_user_rm(cli_db(c), ref, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed user %s\n", ref);
    return 0;
}

static const struct cli_command user_commands[] = {
    { "add", user_add, NULL },         { "ls", user_ls, NULL },         { "passwd", user_passwd, NULL },
    { "disable", user_disable, NULL }, { "enable", user_enable, NULL }, { "rm", user_rm, NULL },
    { NULL, NULL, NULL },
};

/* cmd_user - postino user SUBCOMMAND. */
int cmd_user(struct cli *c, int argc, char **argv)
{
    c->usage = user_usage;
    return cli_dispatch(c, user_commands, "user", argc, argv);
}

static int token_create(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "user", required_argument, NULL, 'u' },
        { "name", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *user = NULL, *name = "";
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        if (opt == 'u')
            user = optarg;
        else if (opt == 'n')
            name = optarg;
    }
    if (!user)
        cli_usage(c, "--user EMAIL is required");
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    if (strlen(name) > 100)
        cli_usage(c, "--name is at most 100 characters");
    char tok[AUTH_TOKEN_MAX + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    if (auth_token_new(tok, hash) < 0)
        log_fatal("cannot make a random token");
    struct store_err e;
    json_t *t;
    if (store_token_add(cli_db(c), user, name, hash, api_settings.max_tokens_per_user, &t, &e) < 0) {
        OPENSSL_cleanse(tok, sizeof(tok));
        return cli_fail(&e);
    }
    if (c->json) {
        json_object_set_new(t, "token", json_string(tok));
        cli_print_json(t);
    } else {
        printf("token %lld for %s (shown once, keep it):\n%s\n", json_integer_value(json_object_get(t, "id")),
               json_string_value(json_object_get(t, "user")), tok);
    }
    OPENSSL_cleanse(tok, sizeof(tok));
    json_decref(t);
    return 0;
}

static int token_ls(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "user", required_argument, NULL, 'u' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *user = NULL;
    int opt;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1)
        if (opt == 'u')
            user = optarg;
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    struct store_err e;
    json_t *arr, *t;
    size_t i;
    if (store_token_ls(cli_db(c), user, &arr, &e) < 0)
        return cli_fail(&e);
    if (c->json) {
        cli_print_json(arr);
    } else {
        printf("%-6s %-32s %-20s %-32s %s\n", "ID", "USER", "NAME", "CREATED", "LAST USED");
        json_array_foreach(arr, i, t) {
            const char *used = json_string_value(json_object_get(t, "last_used_at"));
            printf("%-6lld %-32s %-20s %-32s %s\n", json_integer_value(json_object_get(t, "id")),
                   json_string_value(json_object_get(t, "user")), json_string_value(json_object_get(t, "name")),
                   json_string_value(json_object_get(t, "created_at")), used ? used : "never");
        }
    }
    json_decref(arr);
    return 0;
}

static int token_rm(struct cli *c, int argc, char **argv)
{
    while (cli_parse(c, argc, argv, "h", plain_opts) != -1)
        ;
    const char *id = cli_operand(c, argc, argv, "token id");
    struct store_err e;
    if (store_token_rm(cli_db(c), id, 0, &e) < 0)
        return cli_fail(&e);
    if (!c->json)
        printf("removed token %s\n", id);
    return 0;
}

static const struct cli_command token_commands[] = {
    { "create", token_create, NULL }, { "ls", token_ls, NULL }, { "rm", token_rm, NULL }, { NULL, NULL, NULL },
};

/* cmd_token - postino token SUBCOMMAND. */
int cmd_token(struct cli *c, int argc, char **argv)
{
    c->usage = token_usage;
    return cli_dispatch(c, token_commands, "token", argc, argv);
}
