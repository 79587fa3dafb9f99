/*
 * conf - INI configuration (libinih) with environment overrides.
 *
 * Values are kept in a small array; configurations have tens of keys. The
 * environment variable for [smtp] max_conns is POSTINO_SMTP_MAX_CONNS.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/conf.h"
#include "engine/util/file.h"

struct conf_entry {
    char *section;
    char *key;
    char *value;
};

static struct conf_entry *entries;
static size_t nentries;
static char *loaded_path;

/* the readings conf_reload replaced: their strings stay valid (settings point into them) until conf_free */
struct conf_retired {
    struct conf_entry *entries;
    size_t n;
};
static struct conf_retired *retired;
static size_t nretired;
static pthread_rwlock_t conf_lock = PTHREAD_RWLOCK_INITIALIZER;   /* conf_reload against readers */

/* conf_set - set SECTION.KEY to VALUE, replacing an earlier value. */
void conf_set(const char *section, const char *key, const char *value)
{
    for (size_t i = 0; i < nentries; i++) {
        if (strcmp(entries[i].section, section) == 0 && strcmp(entries[i].key, key) == 0) {
            xfree(entries[i].value);
            entries[i].value = xstrdup(value);
            return;
        }
    }
    entries = xrealloc(entries, (nentries + 1) * sizeof(*entries));
    entries[nentries].section = xstrdup(section);
    entries[nentries].key = xstrdup(key);
    entries[nentries].value = xstrdup(value);
    nentries++;
}

static int conf_ini_handler(void *user, const char *section, const char *key, const char *value)
{
    (void)user;
    conf_set(section, key, value);
    return 1;
}

/* conf_load - read the configuration file; see conf.h for which one. */
int conf_load(const char *explicit_path, char *err, size_t errlen)
{
    const char *path = explicit_path;
    int must_exist = 1;
    if (!path || !*path)
        path = getenv("POSTINO_CONFIG");
    if (!path || !*path) {
        path = "postino.conf";
        must_exist = 0;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        if (!must_exist && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read configuration file %s: %s", path, strerror(errno));
        return -1;
    }
    int line = ini_parse_file(fp, conf_ini_handler, NULL);
    fclose(fp);
    if (line != 0) {
        snprintf(err, errlen, "configuration file %s: syntax error at line %d", path, line);
        return -1;
    }
    xfree(loaded_path);
    loaded_path = xstrdup(path);
    return 0;
}

static void entries_free(struct conf_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xfree(e[i].section);
        xfree(e[i].key);
        xfree(e[i].value);
    }
    xfree(e);
}

/* conf_reload - read the file conf_load read once more, as a whole; see conf.h. */
int conf_reload(char *err, size_t errlen)
{
    if (!loaded_path)
        return 0;
    FILE *fp = fopen(loaded_path, "r");
    if (!fp) {
        snprintf(err, errlen, "cannot read configuration file %s: %s", loaded_path, strerror(errno));
        return -1;
    }
    pthread_rwlock_wrlock(&conf_lock);
    struct conf_entry *old = entries;
    size_t nold = nentries;
    entries = NULL;
    nentries = 0;
    int line = ini_parse_file(fp, conf_ini_handler, NULL);
    fclose(fp);
    if (line != 0) {
        entries_free(entries, nentries);
        entries = old;
        nentries = nold;
        pthread_rwlock_unlock(&conf_lock);
        snprintf(err, errlen, "configuration file %s: syntax error at line %d", loaded_path, line);
        return -1;
    }
    retired = xrealloc(retired, (nretired + 1) * sizeof(*retired));
    retired[nretired++] = (struct conf_retired){ old, nold };
    pthread_rwlock_unlock(&conf_lock);
    return 0;
}

/* conf_env - POSTINO_SECTION_KEY from the environment. The name is built in
 * the caller's stack: conf_get runs on worker and HTTP threads at once. */
static const char *conf_env(const char *section, const char *key)
{
    char env_name[256];
    size_t n = (size_t)snprintf(env_name, sizeof(env_name), "POSTINO_%s_%s", section, key);
    if (n >= sizeof(env_name))
        return NULL;
    for (char *p = env_name; *p; p++)
        *p = (*p == '-' || *p == '.') ? '_' : (char)toupper((unsigned char)*p);
    return getenv(env_name);
}

/* conf_get_from - SECTION.KEY from the environment, else the file; *FROM says which; NULL when neither has it. */
const char *conf_get_from(const char *section, const char *key, const char **from)
{
    const char *v = conf_env(section, key);
    *from = "environment";
    if (v)
        return v;
    *from = "file";
    v = NULL;
    pthread_rwlock_rdlock(&conf_lock);
    for (size_t i = 0; i < nentries && !v; i++)
        if (strcmp(entries[i].section, section) == 0 && strcmp(entries[i].key, key) == 0)
            v = entries[i].value;
    pthread_rwlock_unlock(&conf_lock);
    if (!v)
        *from = NULL;
    return v;
}

/* conf_get - SECTION.KEY from the environment, else the file, else DEF. */
const char *conf_get(const char *section, const char *key, const char *def)
{
    const char *from, *v = conf_get_from(section, key, &from);
    return v ? v : def;
}

/* conf_path - the configuration file read, or NULL when none was. */
const char *conf_path(void)
{
    return loaded_path;
}

/* conf_free - drop all values. */
void conf_free(void)
{
    entries_free(entries, nentries);
    entries = NULL;
    nentries = 0;
    for (size_t i = 0; i < nretired; i++)
        entries_free(retired[i].entries, retired[i].n);
    xfree(retired);
    retired = NULL;
    nretired = 0;
    xfree(loaded_path);
    loaded_path = NULL;
}

/* the key a line "  key = value" sets, in KEY (KEYLEN); 0 when the line sets none (comment, section, blank) */
static int line_key(const char *line, size_t len, char *key, size_t keylen)
{
    size_t i = 0, k = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#' || line[i] == ';' || line[i] == '[')
        return 0;
    while (i < len && line[i] != '=' && line[i] != ' ' && line[i] != '\t' && k + 1 < keylen)
        key[k++] = line[i++];
    key[k] = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return k > 0 && i < len && line[i] == '=';
}

/* the section a line "[name]" opens, in NAME; 0 when it opens none */
static int line_section(const char *line, size_t len, char *name, size_t namelen)
{
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] != '[')
        return 0;
    const char *end = memchr(line + i, ']', len - i);
    if (!end || (size_t)(end - line - i - 1) >= namelen)
        return 0;
    memcpy(name, line + i + 1, (size_t)(end - line - i - 1));
    name[end - line - i - 1] = 0;
    return 1;
}

/* conf_file_set - see conf.h. */
int conf_file_set(const char *path, const char *section, const char *key, const char *value, bool *changed,
                  char *err, size_t errlen)
{
    struct buf in = BUF_INIT, out = BUF_INIT;
    char name[128], k[128], cur[128] = "";
    struct stat st;
    int done = 0, rc = -1;
    *changed = false;
    if (file_read(path, 1 << 20, &in, err, errlen) < 0 || stat(path, &st) < 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        buf_free(&in);
        return -1;
    }
    buf_cstr(&in);
    /* the line that sets KEY in SECTION is replaced; else KEY goes after SECTION's last setting, or at the end */
    size_t insert_at = (size_t)-1;
    for (size_t off = 0; off < in.len;) {
        const char *line = in.data + off;
        const char *nl = memchr(line, '\n', in.len - off);
        size_t len = nl ? (size_t)(nl - line) : in.len - off, next = off + len + (nl ? 1 : 0);
        if (line_section(line, len, name, sizeof(name)))
            snprintf(cur, sizeof(cur), "%s", name);
        else if (!done && strcmp(cur, section) == 0 && line_key(line, len, k, sizeof(k))) {
            insert_at = next;
            if (strcmp(k, key) == 0) {
                char *want = xasprintf("%s = %s", key, value);
                if (len != strlen(want) || memcmp(line, want, len) != 0)
                    *changed = true;
                buf_appendf(&out, "%s\n", want);
                xfree(want);
                done = 1;
                off = next;
                continue;
            }
        } else if (!done && strcmp(cur, section) == 0 && insert_at == (size_t)-1) {
            insert_at = off;   /* the section has no setting yet: right after its header */
        }
        buf_append(&out, line, next - off);
        if (!nl && len)
            buf_appendc(&out, '\n');
        off = next;
    }
    if (!done) {
        *changed = true;
        struct buf tmp = BUF_INIT;
        if (insert_at == (size_t)-1) {
            buf_append(&tmp, out.data, out.len);
            buf_appendf(&tmp, "%s[%s]\n%s = %s\n", out.len ? "\n" : "", section, key, value);
        } else {
            /* OUT has the same lines as IN up to INSERT_AT (nothing was replaced before it) */
            buf_append(&tmp, out.data, insert_at);
            buf_appendf(&tmp, "%s = %s\n", key, value);
            buf_append(&tmp, out.data + insert_at, out.len - insert_at);
        }
        buf_free(&out);
        out = tmp;
    }
    if (!*changed) {
        rc = 0;
        goto done;
    }
    char *tmp_path = xasprintf("%s.new", path);
    FILE *f = fopen(tmp_path, "w");
    if (!f || fchmod(fileno(f), st.st_mode & 07777) < 0 || (fchown(fileno(f), st.st_uid, st.st_gid) < 0 && geteuid() == 0) ||
        fwrite(out.data, 1, out.len, f) != out.len || fflush(f) != 0 || fsync(fileno(f)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp_path, strerror(errno));
        if (f)
            fclose(f);
        unlink(tmp_path);
    } else if (fclose(f) != 0 || rename(tmp_path, path) < 0) {
        snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
        unlink(tmp_path);
    } else {
        rc = 0;
    }
    xfree(tmp_path);
done:
    buf_free(&in);
    buf_free(&out);
    return rc;
}
