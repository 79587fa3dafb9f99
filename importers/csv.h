/*
 * csv - a streaming CSV row reader on libcsv, as spreadsheets really write it.
 *
 * csv_detect_delimiter  guess the delimiter (, ; TAB |) from the first line of a text
 * csv_reader_new        a reader for one input with a given delimiter
 * csv_reader_feed       parse the next bytes; complete records go to a callback
 * csv_reader_finish     end of input: the last, unterminated record goes to the callback
 * csv_reader_error      the reason the reader stopped, one line
 * csv_reader_free       release a reader
 *
 * RFC 4180 plus the mess of real exports: CRLF or LF (or lone CR) line ends,
 * quoted fields holding delimiters, doubled quotes and line breaks, blank
 * lines skipped, spaces before a quoted field ignored. Each record carries
 * the physical line it starts on (1-based) and its original text without the
 * line end. The reader is pure (no I/O) and holds one record at a time; a
 * record longer than CSV_RECORD_MAX bytes (an unclosed quote) stops it with
 * an error. Input bytes are not checked for UTF-8 here.
 */
#ifndef POSTINO_IMPORTERS_CSV_H
#define POSTINO_IMPORTERS_CSV_H

#include <stddef.h>

#define CSV_RECORD_MAX (1024 * 1024)

struct csv_field {
    const char *data;   /* NUL-terminated; may hold NUL bytes before LEN */
    size_t len;
};

struct csv_record {
    long line;                  /* physical line the record starts on */
    size_t nfields;
    const struct csv_field *fields;
    const char *raw;            /* the original text, line end excluded, NUL-terminated */
    size_t rawlen;
};

/* A callback returning non-zero stops the reader; feed/finish then return that value. */
typedef int (*csv_record_fn)(const struct csv_record *rec, void *arg);

struct csv_reader;

int csv_detect_delimiter(const char *data, size_t len);
struct csv_reader *csv_reader_new(int delim);
int csv_reader_feed(struct csv_reader *r, const char *data, size_t len, csv_record_fn fn, void *arg);
int csv_reader_finish(struct csv_reader *r, csv_record_fn fn, void *arg);
const char *csv_reader_error(const struct csv_reader *r);
void csv_reader_free(struct csv_reader *r);

#endif
