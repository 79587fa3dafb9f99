/*
 * cmd_setup - postino setup: make this machine run postino, as root, idempotently.
 *
 * In order, each step saying what it changed (or, with --dry-run, what it
 * would change, changing nothing):
 *   1. the postino system user and group, /var/lib/postino, the configuration
 *      file's owner and mode (root:postino, 0640);
 *   2. the database: on Debian's local PostgreSQL the role and database postino
 *      (createuser/createdb as the postgres user over the unix socket; postino
 *      logs in by peer authentication, no password), or --db for another
 *      server; [db] url and [bounce] domain written to the configuration;
 *   3. as the postino user: the migrations and default templates (db init), the
 *      HMAC secret of links and bounce addresses, a DKIM key for --domain if it
 *      has none;
 *   4. Postfix, through postconf and postconf -M only: the bounce domain's
 *      transport to the postino bounce pipe (user postino, one recipient per
 *      delivery), relay_domains, a submission service when none listens on 587;
 *      postfix check, a reload when it runs, and the difference in postconf -n
 *      and postconf -M;
 *   5. the DNS records to publish (SPF, DKIM, DMARC, the bounce domain's MX).
 * A step that fails stops setup with one line; running it again resumes.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/cli/cli.h"
#include "engine/store/dkim_keys.h"
#include "engine/store/migrate.h"
#include "engine/store/pg.h"
#include "engine/store/settings.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/conf.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

#define SETUP_USER "postino"
#define SETUP_HOME "/var/lib/postino"
#define SETUP_CONF "/etc/postino/postino.conf"

static const char setup_usage[] =
    "usage: postino setup --domain DOMAIN [--bounce-domain DOMAIN] [--ip ADDR] [--mx HOST]\n"
    "                     [--pg-socket DIR] [--pg-port PORT] [--postfix-config DIR] [--no-postfix]\n"
    "                     [--dry-run]\n"
    "\n"
    "As root: the postino user and group; the database (Debian's local PostgreSQL\n"
    "on --pg-socket /var/run/postgresql, --pg-port 5432, peer authentication; or\n"
    "the server given with postino --db CONNINFO setup ...) and its schema; the\n"
    "HMAC secret and a DKIM key for DOMAIN; Postfix's bounce transport for the\n"
    "bounce domain (default bounces.DOMAIN) through postconf (-c DIR with\n"
    "--postfix-config); then the DNS records to publish (SPF with --ip). The\n"
    "configuration is the one read (--config), else " SETUP_CONF ".\n"
    "Idempotent: what is already as wanted is left alone. --dry-run prints each\n"
    "change and makes none.\n";

struct setup {
    struct cli *c;
    bool dry;
    const char *domain, *ip, *mx, *pg_socket, *pg_port, *postfix_dir, *conf;
    char bounce_domain[ADDRESS_MAX + 16];
    char *conninfo;     /* the database postino uses */
    bool local_db;      /* Debian's cluster on this machine: role and database made here */
    bool postfix_changed;   /* a postconf change was made: check and reload */
    char self[4096];    /* this binary, for the pipe */
};

/* say - one line about a step, "setup: " in front */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    fputs("setup: ", stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* the command line ARGV as one line, for what setup runs or would run */
static void argv_line(struct buf *b, char *const argv[])
{
    for (int i = 0; argv[i]; i++) {
        bool plain = argv[i][0] && !strpbrk(argv[i], " \t'\"${}$;&|<>*?");
        buf_appendf(b, i ? " %s%s%s" : "%s%s%s", plain ? "" : "'", argv[i], plain ? "" : "'");
    }
}

/*
 * run - run ARGV (a program found in PATH), as USER when not NULL. A question
 * (OUT not NULL) has its output in OUT and its standard error dropped (postconf
 * warns of what it does not know yet); a change (OUT NULL) shows both. The exit
 * status, or -1 when it could not run.
 */
static int run(char *const argv[], const char *user, struct buf *out)
{
    int pfd[2] = { -1, -1 };
    fflush(stdout);
    if (out && pipe(pfd) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (out) {
            int null = open("/dev/null", O_WRONLY);
            dup2(pfd[1], 1);
            if (null >= 0)
                dup2(null, 2);
            close(pfd[0]);
            close(pfd[1]);
        }
        if (user) {
            const struct passwd *pw = getpwnam(user);
            if (!pw || initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
                _exit(126);
            if (chdir("/") < 0)
                _exit(126);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (out) {
        char chunk[4096];
        ssize_t n;
        close(pfd[1]);
        while ((n = read(pfd[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
            if (n > 0)
                buf_append(out, chunk, (size_t)n);
        close(pfd[0]);
        buf_cstr(out);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* change - run ARGV as a change: printed; with --dry-run only printed. Fatal when it fails. */
static void change(struct setup *s, char *const argv[], const char *user)
{
    struct buf line = BUF_INIT;
    argv_line(&line, argv);
    say("%s%s%s%s", s->dry ? "would run: " : "run: ", user ? "(as " : "", user ? user : "", user ? ") " : "");
    printf("    %s\n", buf_cstr(&line));
    if (!s->dry) {
        int rc = run(argv, user, NULL);
        if (rc != 0)
            log_fatal("setup: %s failed (exit %d)", buf_cstr(&line), rc);
    }
    buf_free(&line);
}

/* ---- 1. the user, its directory, the configuration's owner ---- */

static void setup_user(struct setup *s)
{
    if (getpwnam(SETUP_USER)) {
        say("the system user %s exists", SETUP_USER);
    } else {
        /* the group may be there already (a package removed without purging): the user joins it */
        char *with_group[] = { "useradd", "--system", "--gid", SETUP_USER, "--home-dir", SETUP_HOME,
                               "--no-create-home", "--shell", "/usr/sbin/nologin", "--comment",
                               "postino mailing-list engine", SETUP_USER, NULL };
        char *new_group[] = { "useradd", "--system", "--user-group", "--home-dir", SETUP_HOME, "--no-create-home",
                              "--shell", "/usr/sbin/nologin", "--comment", "postino mailing-list engine", SETUP_USER,
                              NULL };
        char **argv = getgrnam(SETUP_USER) ? with_group : new_group;
        change(s, argv, NULL);
    }
    struct stat st;
    if (stat(SETUP_HOME, &st) < 0) {
        char *mk[] = { "install", "-d", "-m", "0750", "-o", SETUP_USER, "-g", SETUP_USER, SETUP_HOME, NULL };
        change(s, mk, NULL);
    }
    const struct group *gr = getgrnam(SETUP_USER);
    if (stat(s->conf, &st) < 0)
        log_fatal("setup: no configuration at %s: run 'make install' first, or name one with --config", s->conf);
    if ((st.st_mode & 07777) != 0640) {
        char *argv[] = { "chmod", "0640", (char *)s->conf, NULL };
        change(s, argv, NULL);
    }
    if (st.st_uid != 0 || !gr || st.st_gid != gr->gr_gid) {
        char *argv[] = { "chown", "root:" SETUP_USER, (char *)s->conf, NULL };
        change(s, argv, NULL);
    }
}

/* ---- 2. the database ---- */

/* psql_as_postgres - one value from SQL run by the postgres user on the local cluster; 0, or -1 */
static int psql_as_postgres(struct setup *s, const char *sql, struct buf *out)
{
    char *argv[] = { "psql", "-X", "-A", "-t", "-q", "-h", (char *)s->pg_socket, "-p", (char *)s->pg_port, "-d",
                     "postgres", "-c", (char *)sql, NULL };
    return run(argv, "postgres", out) == 0 ? 0 : -1;
}

static void setup_database(struct setup *s)
{
    if (!s->local_db) {
        char *where = pg_conninfo_describe(s->conninfo);
        say("the database is %s (given with --db): its role and database are the administrator's", where);
        xfree(where);
    } else {
        struct buf out = BUF_INIT;
        if (psql_as_postgres(s, "SELECT 'up'", &out) < 0 || strcmp(str_trim((char *)buf_cstr(&out)), "up") != 0)
            log_fatal("setup: PostgreSQL does not answer on %s port %s as the postgres user (is it installed and "
                      "running? pg_lsclusters)", s->pg_socket, s->pg_port);
        buf_reset(&out);
        psql_as_postgres(s, "SELECT count(*) FROM pg_roles WHERE rolname = '" SETUP_USER "'", &out);
        if (strcmp(str_trim((char *)buf_cstr(&out)), "1") == 0) {
            say("the PostgreSQL role %s exists", SETUP_USER);
        } else {
            char *argv[] = { "createuser", "-h", (char *)s->pg_socket, "-p", (char *)s->pg_port, SETUP_USER, NULL };
            change(s, argv, "postgres");
        }
        buf_reset(&out);
        psql_as_postgres(s, "SELECT count(*) FROM pg_database WHERE datname = '" SETUP_USER "'", &out);
        if (strcmp(str_trim((char *)buf_cstr(&out)), "1") == 0) {
            say("the database %s exists", SETUP_USER);
        } else {
            char *argv[] = { "createdb", "-h", (char *)s->pg_socket, "-p", (char *)s->pg_port, "-O", SETUP_USER,
                             "-E", "UTF8", "-T", "template0", SETUP_USER, NULL };
            change(s, argv, "postgres");
        }
        buf_free(&out);
    }
    const struct {
        const char *section, *key, *value;
    } keys[] = { { "db", "url", s->conninfo }, { "bounce", "domain", s->bounce_domain } };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *from, *now = conf_get_from(keys[i].section, keys[i].key, &from);
        bool same = now && strcmp(now, keys[i].value) == 0 && strcmp(from, "file") == 0;
        if (same) {
            say("%s already has [%s] %s", s->conf, keys[i].section, keys[i].key);
            continue;
        }
        say("%s [%s] %s = %s in %s", s->dry ? "would set" : "set", keys[i].section, keys[i].key,
            strcmp(keys[i].key, "url") == 0 ? "(the database above)" : keys[i].value, s->conf);
        char err[512];
        bool changed;
        if (!s->dry && conf_file_set(s->conf, keys[i].section, keys[i].key, keys[i].value, &changed, err,
                                     sizeof(err)) < 0)
            log_fatal("setup: %s", err);
    }
}

/* ---- 3. schema, secret, DKIM: as the postino user, in a child ---- */

/* as_postino - run FN in a child process as the postino user (peer authentication); its exit status */
static int as_postino(struct setup *s, int (*fn)(struct setup *s))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        log_fatal("setup: fork: %s", strerror(errno));
    if (pid == 0) {
        const struct passwd *pw = getpwnam(SETUP_USER);
        if (!pw || initgroups(SETUP_USER, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
            log_fatal("setup: cannot become the user %s", SETUP_USER);
        setenv("HOME", SETUP_HOME, 1);
        if (chdir("/") < 0)
            log_fatal("setup: chdir /: %s", strerror(errno));
        cli_close(s->c);
        s->c->db = s->conninfo;
        int rc = fn(s);
        fflush(stdout);
        cli_close(s->c);
        _exit(rc);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* the number of DKIM keys of the domain, or -1 */
static int dkim_keys_of(PGconn *conn, const char *domain)
{
    struct store_err e;
    json_t *keys;
    if (store_dkim_domain(conn, domain, &keys, &e) < 0)
        return e.code == STORE_ERR_NOTFOUND ? 0 : -1;
    int n = (int)json_array_size(keys);
    json_decref(keys);
    return n;
}

static int secret_exists(PGconn *conn)
{
    PGresult *res = pg_exec(conn, "SELECT 1 FROM settings WHERE key = 'token_key'", 0, NULL);
    int n = pg_ok(res) ? PQntuples(res) : -1;
    PQclear(res);
    return n;
}

static int child_schema(struct setup *s)
{
    char *argv[] = { "db", "init", NULL };
    optind = 0;
    int rc = cmd_db(s->c, 2, argv);
    if (rc != 0)
        return rc;
    PGconn *conn = cli_db(s->c);
    unsigned char key[32];
    struct store_err e;
    if (secret_exists(conn) > 0) {
        say("the HMAC secret of links and bounce addresses exists");
    } else {
        if (store_secret(conn, "token_key", key, sizeof(key), &e) < 0)
            return cli_fail(&e);
        say("created the HMAC secret of links and bounce addresses (kept in the database)");
    }
    int nkeys = dkim_keys_of(conn, s->domain);
    if (nkeys < 0)
        return 1;
    if (nkeys > 0) {
        say("%s has %d DKIM key%s", s->domain, nkeys, nkeys == 1 ? "" : "s");
        return 0;
    }
    say("making a DKIM key for %s", s->domain);
    char *add[] = { "dkim", "add", (char *)s->domain, NULL };
    optind = 0;
    s->c->usage = NULL;
    return cmd_dkim(s->c, 3, add);
}

/* dry run: what the schema step would do, asked without changing anything */
static int child_schema_dry(struct setup *s)
{
    char err[1024];
    struct db_target *t = cli_target(s->c);
    PGconn *conn = db_open(t, DB_OPEN_RAW, err, sizeof(err));
    if (!conn) {
        say("would apply every migration, install the default templates, create the HMAC secret and a DKIM key "
            "for %s (the database cannot be reached yet)", s->domain);
        return 0;
    }
    int pending = migrate_pending(conn, err, sizeof(err));
    say("would apply %d pending migration%s", pending, pending == 1 ? "" : "s");
    if (secret_exists(conn) <= 0)
        say("would create the HMAC secret of links and bounce addresses");
    if (dkim_keys_of(conn, s->domain) <= 0)
        say("would make a DKIM key for %s", s->domain);
    PQfinish(conn);
    return 0;
}

/* ---- 4. Postfix ---- */

/* postconf - run postconf [-c DIR] ARGS... into OUT (NULL: through); its exit status */
static int postconf(struct setup *s, struct buf *out, const char *a1, const char *a2, const char *a3)
{
    char *argv[8];
    int n = 0;
    argv[n++] = "postconf";
    if (s->postfix_dir) {
        argv[n++] = "-c";
        argv[n++] = (char *)s->postfix_dir;
    }
    argv[n++] = (char *)a1;
    if (a2)
        argv[n++] = (char *)a2;
    if (a3)
        argv[n++] = (char *)a3;
    argv[n] = NULL;
    return run(argv, NULL, out);
}

/* a postconf change: printed, and made unless --dry-run */
static void postconf_change(struct setup *s, const char *flag, const char *setting)
{
    char *argv[] = { "postconf", "-c", (char *)(s->postfix_dir ? s->postfix_dir : "/etc/postfix"), (char *)flag,
                     (char *)setting, NULL };
    change(s, argv, NULL);
    s->postfix_changed = true;
}

/* the value main.cf sets NAME to (its $names not expanded), trimmed; "" when it sets none (a default is not kept) */
static void main_value(struct setup *s, const char *name, struct buf *out)
{
    buf_reset(out);
    if (postconf(s, out, "-n", "-h", name) != 0)
        log_fatal("setup: postconf -n -h %s failed", name);
    char *t = xstrdup(str_trim((char *)buf_cstr(out)));
    buf_reset(out);
    buf_appends(out, t);
    xfree(t);
}

/* whether the comma- or space-separated LIST names ITEM */
static bool list_has(const char *list, const char *item)
{
    char *copy = xstrdup(list), *save = NULL;
    bool found = false;
    for (char *tok = strtok_r(copy, ", \t\n", &save); tok && !found; tok = strtok_r(NULL, ", \t\n", &save))
        found = strcmp(tok, item) == 0;
    xfree(copy);
    return found;
}

/* the words of S, one space between them (postconf -M prints its own spacing) */
static char *words(const char *s)
{
    struct buf b = BUF_INIT;
    bool space = false;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n') {
            space = b.len > 0;
            continue;
        }
        if (space)
            buf_appendc(&b, ' ');
        space = false;
        buf_appendc(&b, *s);
    }
    return buf_detach(&b, NULL);
}

/* whether master.cf has a service listening on the submission port */
static bool has_submission(struct setup *s)
{
    struct buf out = BUF_INIT;
    if (postconf(s, &out, "-M", NULL, NULL) != 0)
        log_fatal("setup: postconf -M failed");
    bool found = false;
    char *save = NULL;
    for (char *line = strtok_r(out.data, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
        char name[256], type[32];
        if (sscanf(line, "%255s %31s", name, type) != 2 || strcmp(type, "inet") != 0)
            continue;
        const char *port = strrchr(name, ':');
        port = port ? port + 1 : name;
        found = strcmp(port, "submission") == 0 || strcmp(port, "587") == 0;
    }
    buf_free(&out);
    return found;
}

/* print the lines of AFTER not in BEFORE with "+", those of BEFORE not in AFTER with "-" */
static void print_diff(const char *what, const char *before, const char *after)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++) {
        const char *from = pass ? after : before, *other = pass ? before : after;
        for (const char *p = from; *p;) {
            const char *nl = strchr(p, '\n');
            size_t len = nl ? (size_t)(nl - p) : strlen(p);
            bool in_other = false;
            for (const char *q = other; *q && !in_other;) {
                const char *qn = strchr(q, '\n');
                size_t ql = qn ? (size_t)(qn - q) : strlen(q);
                in_other = ql == len && memcmp(p, q, len) == 0;
                q = qn ? qn + 1 : q + ql;
            }
            if (!in_other && len) {
                if (!n++)
                    printf("setup: %s, before and after:\n", what);
                printf("  %c %.*s\n", pass ? '+' : '-', (int)len, p);
            }
            p = nl ? nl + 1 : p + len;
        }
    }
    if (!n)
        printf("setup: %s: no change\n", what);
}

static void setup_postfix(struct setup *s)
{
    struct buf before_n = BUF_INIT, before_m = BUF_INIT, v = BUF_INIT;
    if (postconf(s, &before_n, "-n", NULL, NULL) != 0 || postconf(s, &before_m, "-M", NULL, NULL) != 0)
        log_fatal("setup: postconf cannot read Postfix's configuration%s%s", s->postfix_dir ? " in " : "",
                  s->postfix_dir ? s->postfix_dir : "");
    /* relay_domains: the bounce domain is relayed (to the pipe), not local */
    main_value(s, "relay_domains", &v);
    if (list_has(v.data, s->bounce_domain)) {
        say("relay_domains has %s", s->bounce_domain);
    } else {
        char *set = xasprintf("relay_domains = %s%s%s", v.data, v.len ? ", " : "", s->bounce_domain);
        postconf_change(s, "-e", set);
        xfree(set);
    }
    /* transport_maps: the bounce domain to the pipe, in an inline table ahead of what is there */
    char *entry = xasprintf("inline:{ %s=postino-bounce: }", s->bounce_domain);
    main_value(s, "transport_maps", &v);
    if (strstr(v.data, entry)) {
        say("transport_maps sends %s to postino-bounce", s->bounce_domain);
    } else {
        char *set = xasprintf("transport_maps = %s%s%s", entry, v.len ? ", " : "", v.data);
        postconf_change(s, "-e", set);
        xfree(set);
    }
    xfree(entry);
    /* the pipe, as the postino user, with this binary and this configuration */
    char *pipe_entry = xasprintf("postino-bounce/unix = postino-bounce unix - n n - - pipe flags=q user=%s "
                                 "argv=%s --config %s bounce --recipient ${original_recipient}"
                                 " --client-address=${client_address}",
                                 SETUP_USER, s->self, s->conf);
    buf_reset(&v);
    postconf(s, &v, "-M", "postino-bounce/unix", NULL);
    char *want = words(strchr(pipe_entry, '=') + 1), *have = words(buf_cstr(&v));
    if (strcmp(want, have) == 0)
        say("master.cf has the postino-bounce pipe");
    else
        postconf_change(s, "-M", pipe_entry);
    xfree(want);
    xfree(have);
    xfree(pipe_entry);
    /* one recipient per delivery: each DSN's --recipient names its own VERP address */
    main_value(s, "postino-bounce_destination_recipient_limit", &v);
    if (strcmp(v.data, "1") == 0)
        say("postino-bounce_destination_recipient_limit is 1");
    else
        postconf_change(s, "-e", "postino-bounce_destination_recipient_limit = 1");
    /* submission on 587, as an SMTP VPS has it, when nothing listens there */
    if (has_submission(s)) {
        say("master.cf has a submission service");
    } else {
        postconf_change(s, "-M", "submission/inet = submission inet n - y - - smtpd");
        const char *opts[] = { "syslog_name=postfix/submission", "smtpd_tls_security_level=encrypt",
                               "smtpd_sasl_auth_enable=yes", "smtpd_tls_auth_only=yes",
                               "smtpd_relay_restrictions=permit_sasl_authenticated,reject",
                               "smtpd_recipient_restrictions=permit_sasl_authenticated,reject" };
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
            char *p = xasprintf("submission/inet/%s", opts[i]);
            postconf_change(s, "-P", p);
            xfree(p);
        }
        say("the submission service needs Postfix's TLS certificate (smtpd_tls_cert_file) and SASL "
            "(smtpd_sasl_type) set up: see postfix's TLS_README and SASL_README");
    }
    if (!s->dry && !s->postfix_changed) {
        say("Postfix's configuration is as wanted: no check or reload needed");
    } else if (!s->dry) {
        const char *dir = s->postfix_dir ? s->postfix_dir : "/etc/postfix";
        char *check[] = { "postfix", "-c", (char *)dir, "check", NULL };
        change(s, check, NULL);
        char *status[] = { "postfix", "-c", (char *)dir, "status", NULL };
        struct buf quiet = BUF_INIT;
        bool running = run(status, NULL, &quiet) == 0;
        buf_free(&quiet);
        if (running) {
            char *reload[] = { "postfix", "-c", (char *)dir, "reload", NULL };
            change(s, reload, NULL);
        } else {
            say("Postfix is not running: no reload (it reads the new settings when it starts)");
        }
        struct buf after_n = BUF_INIT, after_m = BUF_INIT;
        postconf(s, &after_n, "-n", NULL, NULL);
        postconf(s, &after_m, "-M", NULL, NULL);
        print_diff("postconf -n", buf_cstr(&before_n), buf_cstr(&after_n));
        print_diff("postconf -M", buf_cstr(&before_m), buf_cstr(&after_m));
        buf_free(&after_n);
        buf_free(&after_m);
    }
    buf_free(&before_n);
    buf_free(&before_m);
    buf_free(&v);
}

/* ---- 5. DNS ---- */

static int child_dns(struct setup *s)
{
    printf("\nsetup: publish these records (then mail leaves signed, aligned and with its bounces coming back):\n\n");
    if (s->ip) {
        char *argv[] = { "dns", (char *)s->domain, "--ip", (char *)s->ip, NULL };
        optind = 0;
        int rc = cmd_dns(s->c, 4, argv);
        if (rc != 0)
            return rc;
    } else {
        char *argv[] = { "dkim", "record", (char *)s->domain, NULL };
        optind = 0;
        printf("SPF and DMARC: 'postino dns %s --ip ADDR' prints them for the address mail leaves from.\n\nDKIM:\n",
               s->domain);
        int rc = cmd_dkim(s->c, 3, argv);
        if (rc != 0)
            return rc;
        printf("\n");
    }
    printf("Bounce MX (bounces come back to this Postfix):\nname:  %s\ntype:  MX\nvalue: 10 %s.\n\n", s->bounce_domain,
           s->mx);
    printf("Once published, 'postino dns check %s --ip %s' verifies them: SPF for that address, each\n"
           "DKIM key against its record, DMARC and its alignment with the From domain, the bounce\n"
           "domain's MX, and the address's reverse name; each finding ok, warning or error with its fix.\n",
           s->domain, s->ip ? s->ip : "ADDR");
    return 0;
}

/* the host name Postfix gives itself (myhostname), for the bounce MX */
static const char *postfix_hostname(struct setup *s)
{
    struct buf v = BUF_INIT;
    postconf(s, &v, "-h", "myhostname", NULL);
    str_trim((char *)buf_cstr(&v));
    v.len = strlen(v.data);
    static char host[256];
    snprintf(host, sizeof(host), "%s", v.len ? v.data : "");
    buf_free(&v);
    if (!host[0])
        gethostname(host, sizeof(host) - 1);
    return host;
}

/* cmd_setup - postino setup. */
int cmd_setup(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "domain", required_argument, NULL, 'd' },      { "bounce-domain", required_argument, NULL, 'b' },
        { "ip", required_argument, NULL, 'i' },          { "mx", required_argument, NULL, 'm' },
        { "pg-socket", required_argument, NULL, 's' },   { "pg-port", required_argument, NULL, 'p' },
        { "postfix-config", required_argument, NULL, 'P' }, { "no-postfix", no_argument, NULL, 'n' },
        { "dry-run", no_argument, NULL, 'D' },           { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct setup s = { .c = c, .pg_socket = "/var/run/postgresql", .pg_port = "5432" };
    bool no_postfix = false;
    const char *bounce = NULL;
    char domain[ADDRESS_MAX + 1], bdomain[ADDRESS_MAX + 16];
    int opt;
    long port;
    const char *why;
    c->usage = setup_usage;
    optind = 0;
    while ((opt = cli_parse(c, argc, argv, "h", opts)) != -1) {
        switch (opt) {
        case 'd': s.domain = optarg; break;
        case 'b': bounce = optarg; break;
        case 'i': s.ip = optarg; break;
        case 'm': s.mx = optarg; break;
        case 's': s.pg_socket = optarg; break;
        case 'p':
            if (str_parse_long(optarg, 1, 65535, &port) < 0)
                cli_usage(c, "--pg-port must be a port number, not '%s'", optarg);
            s.pg_port = optarg;
            break;
        case 'P': s.postfix_dir = optarg; break;
        case 'n': no_postfix = true; break;
        case 'D': s.dry = true; break;
        }
    }
    if (optind < argc)
        cli_usage(c, "unexpected argument '%s'", argv[optind]);
    if (!s.domain)
        cli_usage(c, "setup needs --domain DOMAIN, the domain campaigns are sent from");
    if (address_domain_normalize(s.domain, domain, sizeof(domain), &why) < 0)
        cli_usage(c, "--domain \"%s\": %s", s.domain, why);
    s.domain = domain;
    if (!bounce) {
        char *b = xasprintf("bounces.%s", domain);
        if (address_domain_normalize(b, bdomain, sizeof(bdomain), &why) < 0)
            cli_usage(c, "--domain \"%s\" is too long for bounces.%s: give --bounce-domain", domain, domain);
        xfree(b);
    } else if (address_domain_normalize(bounce, bdomain, sizeof(bdomain), &why) < 0)
        cli_usage(c, "--bounce-domain \"%s\": %s", bounce, why);
    snprintf(s.bounce_domain, sizeof(s.bounce_domain), "%s", bdomain);
    if (s.ip && !strchr(s.ip, '.') && !strchr(s.ip, ':'))
        cli_usage(c, "--ip takes an IPv4 or IPv6 address, not '%s'", s.ip);
    if (s.pg_socket[0] != '/')
        cli_usage(c, "--pg-socket must be an absolute directory, not '%s'", s.pg_socket);
    if (geteuid() != 0)
        log_fatal("setup must run as root (it creates a system user and changes Postfix's configuration)");
    s.conf = conf_path() ? conf_path() : SETUP_CONF;
    if (s.conf[0] != '/')
        log_fatal("setup: the configuration %s must be named by an absolute path (--config)", s.conf);
    ssize_t n = readlink("/proc/self/exe", s.self, sizeof(s.self) - 1);
    if (n <= 0)
        log_fatal("setup: cannot tell where this program is: %s", strerror(errno));
    s.self[n] = 0;
    s.local_db = !c->db || !*c->db;
    s.conninfo = s.local_db ? xasprintf("host=%s port=%s dbname=%s user=%s", s.pg_socket, s.pg_port, SETUP_USER,
                                        SETUP_USER)
                            : xstrdup(c->db);
    if (s.dry)
        say("dry run: nothing is changed");

    setup_user(&s);
    setup_database(&s);
    if (s.dry) {
        if (getpwnam(SETUP_USER))
            as_postino(&s, child_schema_dry);
        else
            say("would apply every migration, create the HMAC secret and a DKIM key for %s", s.domain);
    } else if (as_postino(&s, child_schema) != 0) {
        log_fatal("setup: the database step failed (above); fix it and run setup again");
    }
    if (!no_postfix) {
        if (!s.mx)
            s.mx = postfix_hostname(&s);
        setup_postfix(&s);
    } else {
        say("Postfix left alone (--no-postfix)");
        if (!s.mx) {
            static char host[256];
            gethostname(host, sizeof(host) - 1);
            s.mx = host;
        }
    }
    if (!s.dry && as_postino(&s, child_dns) != 0)
        log_fatal("setup: cannot print the DNS records (above)");
    if (!s.dry)
        printf("\nsetup: done. Next: systemctl enable --now postino; 'postino relay add' names the submission "
               "server to send through.\n");
    else
        say("dry run: nothing was changed");
    xfree(s.conninfo);
    return 0;
}
