/*
 * log - leveled logging to stderr.
 *
 * Text: "postino: warning: message". JSON: {"time":…,"level":…,"program":…,"msg":…}
 * with the message escaped, one object a line. Journal: "<4>warning: message",
 * the syslog priority in front as systemd-journald reads it from a service's
 * standard error (the journal names the program itself). Each line is written with one
 * write(2) so lines from several threads do not interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine/util/buf.h"
#include "engine/util/log.h"
#include "engine/util/str.h"

static enum log_level log_level = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static const char *log_program = "postino";
static unsigned long log_error_count;

static const char *const level_names[] = { "debug", "info", "warning", "error", "fatal", "panic" };
/* syslog priorities of the levels: debug 7, info 6, warning 4, error 3, fatal crit 2, panic alert 1 */
static const int level_priorities[] = { 7, 6, 4, 3, 2, 1 };

/* log_setup - set level (debug|info|warning|error) and format (text|json|journal); NULL keeps one. */
int log_setup(const char *level, const char *format)
{
    if (level) {
        int found = -1;
        for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
            if (str_eq_nocase(level, level_names[i]) || (i == LOG_WARN && str_eq_nocase(level, "warn")))
                found = i;
        if (found < 0)
            return -1;
        log_level = (enum log_level)found;
    }
    if (format) {
        if (str_eq_nocase(format, "text"))
            log_format = LOG_FORMAT_TEXT;
        else if (str_eq_nocase(format, "json"))
            log_format = LOG_FORMAT_JSON;
        else if (str_eq_nocase(format, "journal"))
            log_format = LOG_FORMAT_JOURNAL;
        else
            return -1;
    }
    return 0;
}

/* log_journal_detected - whether standard error is systemd's journal (JOURNAL_STREAM names its device:inode). */
bool log_journal_detected(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* log_set_level - messages below LEVEL are dropped. */
void log_set_level(enum log_level level)
{
    log_level = level;
}

/* log_set_format - text or JSON lines. */
void log_set_format(enum log_format format)
{
    log_format = format;
}

/* log_set_program - the name that prefixes each line (a static string). */
void log_set_program(const char *name)
{
    log_program = name;
}

/* log_errors - the number of messages logged at error level or worse. */
unsigned long log_errors(void)
{
    return __atomic_load_n(&log_error_count, __ATOMIC_RELAXED);
}

static void json_escape(struct buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': buf_appends(out, "\\\""); break;
        case '\\': buf_appends(out, "\\\\"); break;
        case '\n': buf_appends(out, "\\n"); break;
        case '\r': buf_appends(out, "\\r"); break;
        case '\t': buf_appends(out, "\\t"); break;
        default:
            if (*p < 0x20)
                buf_appendf(out, "\\u%04x", *p);
            else
                buf_appendc(out, (char)*p);
        }
    }
}

/* log_format_line - render one line (with its newline) into OUT. */
void log_format_line(struct buf *out, enum log_format format, enum log_level level,
                     const char *program, const char *msg)
{
    if (format == LOG_FORMAT_JSON) {
        struct timeval tv;
        struct tm tm;
        char ts[32];
        gettimeofday(&tv, NULL);
        gmtime_r(&tv.tv_sec, &tm);
        strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
        buf_appendf(out, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"program\":\"", ts,
                    (long)(tv.tv_usec / 1000), level_names[level]);
        json_escape(out, program);
        buf_appends(out, "\",\"msg\":\"");
        json_escape(out, msg);
        buf_appends(out, "\"}\n");
    } else if (format == LOG_FORMAT_JOURNAL) {
        buf_appendf(out, "<%d>", level_priorities[level]);
        if (level != LOG_INFO)
            buf_appendf(out, "%s: ", level_names[level]);
        for (const char *p = msg; *p; p++)   /* one journal entry: a newline in the message would start another */
            buf_appendc(out, *p == '\n' ? ' ' : *p);
        buf_appendc(out, '\n');
    } else {
        buf_appendf(out, "%s: ", program);
        if (level != LOG_INFO)
            buf_appendf(out, "%s: ", level_names[level]);
        buf_appends(out, msg);
        buf_appendc(out, '\n');
    }
}

static void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
    struct buf msg = BUF_INIT, line = BUF_INIT;
    buf_vappendf(&msg, fmt, ap);
    log_format_line(&line, log_format, level, log_program, buf_cstr(&msg));
    size_t off = 0;
    while (off < line.len) {
        ssize_t n = write(2, line.data + off, line.len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    buf_free(&msg);
    buf_free(&line);
}

/* log_msg - log at LEVEL when enabled; errors are counted. */
void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level >= LOG_ERROR)
        __atomic_add_fetch(&log_error_count, 1, __ATOMIC_RELAXED);   /* any thread may log */
    if (level < log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fmt, ap);
    va_end(ap);
}

/* log_fatal - log and exit(1), running atexit cleanup. */
void log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_FATAL, fmt, ap);
    va_end(ap);
    exit(1);
}

/* log_panic - log a bug and abort. */
void log_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_PANIC, fmt, ap);
    va_end(ap);
    abort();
}
