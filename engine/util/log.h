/*
 * log - leveled logging to stderr, as human text or one JSON object a line.
 *
 * log_setup       choose level and format (text|json|journal); 0 or -1 for an unknown name
 * log_journal_detected  whether standard error is systemd's journal (JOURNAL_STREAM)
 * log_debug … log_error   write one message when the level allows
 * log_fatal       write, run atexit handlers and exit(1)
 * log_panic       a bug: write and abort()
 * log_errors      how many errors were logged so far
 *
 * Severities follow Postfix: warning goes on, error is counted, fatal exits
 * with cleanup, panic is a bug. Messages must never contain secrets.
 */
#ifndef POSTINO_UTIL_LOG_H
#define POSTINO_UTIL_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL, LOG_PANIC };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON, LOG_FORMAT_JOURNAL };

int log_setup(const char *level, const char *format);
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
void log_set_program(const char *name);
unsigned long log_errors(void);
bool log_journal_detected(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* log_format_line - format one log line into OUT (for tests); returns its length. */
struct buf;
void log_format_line(struct buf *out, enum log_format format, enum log_level level,
                     const char *program, const char *msg);

#endif
