/*
 * cluster - run a private PostgreSQL for development, tests and the demo.
 *
 * The server binaries are found in [db] pg_bindir, else the newest
 * /usr/lib/postgresql/N/bin. Start and stop hold an flock on VARDIR/pg.lock
 * so that concurrent commands starting the cluster on demand do not race.
 * Child programs get /dev/null for stdin and the log file for output, and no
 * other descriptor: a postmaster must not keep a caller's pipe open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/store/cluster.h"
#include "engine/store/pg.h"
#include "engine/util/alloc.h"
#include "engine/util/log.h"

#define CLUSTER_USER "postgres"

static int find_bindir(const char *given, char *out, size_t outlen)
{
    if (given) {
        snprintf(out, outlen, "%s", given);
        return 0;
    }
    DIR *d = opendir("/usr/lib/postgresql");
    int best = -1;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int v = atoi(e->d_name);
            char probe[PATH_MAX];
            snprintf(probe, sizeof(probe), "/usr/lib/postgresql/%s/bin/initdb", e->d_name);
            if (v > best && access(probe, X_OK) == 0)
                best = v;
        }
        closedir(d);
    }
    if (best < 0)
        return -1;
    snprintf(out, outlen, "/usr/lib/postgresql/%d/bin", best);
    return 0;
}

/* cluster_init - fill C for the cluster under VARDIR; 0, or -1 with ERR. */
int cluster_init(struct cluster *c, const char *vardir, const char *pg_bindir, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    if (vardir[0] == '/') {
        snprintf(c->vardir, sizeof(c->vardir), "%s", vardir);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd))) {
            snprintf(err, errlen, "cannot find the current directory: %s", strerror(errno));
            return -1;
        }
        if (snprintf(c->vardir, sizeof(c->vardir), "%s/%s", cwd, vardir) >= (int)sizeof(c->vardir)) {
            snprintf(err, errlen, "var directory path too long");
            return -1;
        }
    }
    size_t n = strlen(c->vardir);
    while (n > 1 && c->vardir[n - 1] == '/')
        c->vardir[--n] = 0;
    snprintf(c->pgdir, sizeof(c->pgdir), "%s/pg", c->vardir);
    snprintf(c->datadir, sizeof(c->datadir), "%s/data", c->pgdir);
    snprintf(c->rundir, sizeof(c->rundir), "%s/run", c->pgdir);
    snprintf(c->logfile, sizeof(c->logfile), "%s/log/postgresql.log", c->pgdir);
    if (strlen(c->rundir) + sizeof("/.s.PGSQL.5432") > sizeof(((struct sockaddr_un *)0)->sun_path)) {
        snprintf(err, errlen, "var directory %s is too deep for a unix socket path; set [db] dir", c->vardir);
        return -1;
    }
    if (find_bindir(pg_bindir, c->bindir, sizeof(c->bindir)) < 0) {
        snprintf(err, errlen, "no PostgreSQL server programs found under /usr/lib/postgresql (install postgresql, or set [db] pg_bindir)");
        return -1;
    }
    return 0;
}

/* cluster_conninfo - conninfo for DBNAME in the cluster; the caller frees it. */
char *cluster_conninfo(const struct cluster *c, const char *dbname)
{
    return xasprintf("host=%s dbname=%s user=postino", c->rundir, dbname);
}

static int drop_privileges(const struct passwd *pw)
{
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
        return -1;
    return 0;
}

/* run PROG ARGV as the cluster owner; output to the log; returns exit status or -1. */
static int run_as_owner(struct cluster *c, char *const argv[])
{
    struct passwd *pw = NULL;
    if (geteuid() == 0 && (pw = getpwnam(CLUSTER_USER)) == NULL)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(c->logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in < 0 || out < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        if (pw && drop_privileges(pw) < 0)
            _exit(126);
        unsetenv("PGDATA");
        unsetenv("PGHOST");
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void log_tail(struct cluster *c, char *buf, size_t len)
{
    FILE *fp = fopen(c->logfile, "r");
    char line[512];
    buf[0] = 0;
    if (!fp)
        return;
    while (fgets(line, sizeof(line), fp))
        if (line[0] != '\n')
            snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
    fclose(fp);
}

static int mkdir_owned(const char *path, mode_t mode, const struct passwd *pw)
{
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return -1;
    if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
        return -1;
    return 0;
}

static int prepare_dirs(struct cluster *c, char *err, size_t errlen)
{
    struct passwd *pw = NULL;
    char logdir[700];
    if (geteuid() == 0 && (pw = getpwnam(CLUSTER_USER)) == NULL) {
        snprintf(err, errlen, "running as root but there is no '%s' system user to own the cluster", CLUSTER_USER);
        return -1;
    }
    snprintf(logdir, sizeof(logdir), "%s/log", c->pgdir);
    if (mkdir(c->vardir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", c->vardir, strerror(errno));
        return -1;
    }
    if (mkdir_owned(c->pgdir, 0700, pw) < 0 || mkdir_owned(c->rundir, 0700, pw) < 0 ||
        mkdir_owned(logdir, 0700, pw) < 0) {
        snprintf(err, errlen, "cannot prepare %s: %s", c->pgdir, strerror(errno));
        return -1;
    }
    int fd = open(c->logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0 || (pw && fchown(fd, pw->pw_uid, pw->pw_gid) < 0)) {
        snprintf(err, errlen, "cannot create %s: %s", c->logfile, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int cluster_initdb(struct cluster *c, char *err, size_t errlen)
{
    char prog[300], conf[700], tail[512];
    snprintf(prog, sizeof(prog), "%s/initdb", c->bindir);
    char *argv[] = { prog, "-D", c->datadir, "-U", "postino", "--auth=trust", "-E", "UTF8",
                     "--locale=C.UTF-8", "--no-instructions", NULL };
    if (run_as_owner(c, argv) != 0) {
        log_tail(c, tail, sizeof(tail));
        snprintf(err, errlen, "initdb of %s failed: %s (see %s)", c->datadir, tail, c->logfile);
        return -1;
    }
    snprintf(conf, sizeof(conf), "%s/postgresql.auto.conf", c->datadir);
    FILE *fp = fopen(conf, "a");
    if (!fp) {
        snprintf(err, errlen, "cannot write %s: %s", conf, strerror(errno));
        return -1;
    }
    fprintf(fp, "# postino private cluster: unix socket only\n"
                "listen_addresses = ''\n"
                "unix_socket_directories = '%s'\n"
                "unix_socket_permissions = 0700\n"
                "max_connections = 100\n"
                "shared_buffers = '256MB'\n"
                "max_wal_size = '2GB'\n"
                "logging_collector = off\n",
            c->rundir);
    fclose(fp);
    return 0;
}

/* cluster_running - true when the cluster's postmaster answers pg_ctl status. */
bool cluster_running(struct cluster *c)
{
    char prog[300], pidfile[700];
    snprintf(pidfile, sizeof(pidfile), "%s/postmaster.pid", c->datadir);
    if (access(pidfile, F_OK) < 0)
        return false;
    snprintf(prog, sizeof(prog), "%s/pg_ctl", c->bindir);
    char *argv[] = { prog, "status", "-s", "-D", c->datadir, NULL };
    return run_as_owner(c, argv) == 0;
}

static int lock_var(struct cluster *c)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/pg.lock", c->vardir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    return fd;
}

static int ensure_database(struct cluster *c, char *err, size_t errlen)
{
    char *ci = cluster_conninfo(c, "postgres");
    PGconn *conn = pg_connect(ci, err, errlen);
    xfree(ci);
    if (!conn)
        return -1;
    const char *params[] = { "postino" };
    PGresult *res = pg_exec(conn, "SELECT 1 FROM pg_database WHERE datname = $1", 1, params);
    int rc = 0;
    if (pg_ok(res) && PQntuples(res) == 0)
        rc = pg_command(conn, "CREATE DATABASE postino", err, errlen);
    else if (!pg_ok(res))
        rc = -1, snprintf(err, errlen, "%s", pg_errmsg(conn, res));
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/*
 * cluster_start - make sure the cluster exists and runs, and holds the
 * postino database. *STARTED tells whether this call started it.
 */
int cluster_start(struct cluster *c, bool *started, char *err, size_t errlen)
{
    char prog[300], pgversion[700], tail[512], opts[700];
    int rc = -1;
    *started = false;
    if (prepare_dirs(c, err, errlen) < 0)
        return -1;
    int lock = lock_var(c);
    snprintf(pgversion, sizeof(pgversion), "%s/PG_VERSION", c->datadir);
    if (access(pgversion, F_OK) < 0) {
        log_info("creating the private PostgreSQL cluster in %s", c->datadir);
        if (cluster_initdb(c, err, errlen) < 0)
            goto out;
    }
    if (!cluster_running(c)) {
        snprintf(prog, sizeof(prog), "%s/pg_ctl", c->bindir);
        snprintf(opts, sizeof(opts), "-c listen_addresses='' -k %s", c->rundir);
        char *argv[] = { prog, "start", "-w", "-t", "60", "-s", "-D", c->datadir, "-l", c->logfile,
                         "-o", opts, NULL };
        if (run_as_owner(c, argv) != 0) {
            log_tail(c, tail, sizeof(tail));
            snprintf(err, errlen, "cannot start the private PostgreSQL in %s: %s (see %s)", c->datadir,
                     tail, c->logfile);
            goto out;
        }
        *started = true;
    }
    rc = ensure_database(c, err, errlen);
out:
    if (lock >= 0)
        close(lock);
    return rc;
}

/* cluster_stop - stop the cluster when it runs; *STOPPED tells whether it did. */
int cluster_stop(struct cluster *c, bool *stopped, char *err, size_t errlen)
{
    char prog[300], tail[512];
    *stopped = false;
    if (!cluster_running(c))
        return 0;
    int lock = lock_var(c);
    snprintf(prog, sizeof(prog), "%s/pg_ctl", c->bindir);
    char *argv[] = { prog, "stop", "-w", "-s", "-m", "fast", "-D", c->datadir, NULL };
    int rc = run_as_owner(c, argv);
    if (lock >= 0)
        close(lock);
    if (rc != 0) {
        log_tail(c, tail, sizeof(tail));
        snprintf(err, errlen, "cannot stop the private PostgreSQL in %s: %s", c->datadir, tail);
        return -1;
    }
    *stopped = true;
    return 0;
}
