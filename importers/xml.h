/*
 * xml - a streaming reader of subscriber records in XML, on libxml2's xmlTextReader.
 *
 * xml_reader_new     a reader pulling its bytes through a read callback
 * xml_reader_new_mem a reader over bytes in memory (tests, fuzzing)
 * xml_reader_next    the next <subscriber> record
 * xml_reader_raw     the last record as XML text (for a rejects file)
 * xml_reader_error   why the reader stopped, one line with the line number
 * xml_reader_free    release a reader
 *
 * The format:
 *   <subscribers>
 *     <subscriber email="a@example.com">
 *       <name>Alice</name>
 *       <attribute name="city">Lyon</attribute>
 *       <list>newsletter</list>
 *     </subscriber>
 *   </subscribers>
 * <email> may be a child element instead of the attribute; any other child
 * element <k>v</k> is read as an attribute k. Memory is one record at a time.
 *
 * Safe by construction: a document with a DTD (<!DOCTYPE …>) is refused
 * before any record is read, so neither external entities (XXE) nor entity
 * expansion ("billion laughs") can happen; no network access, no DTD
 * loading, libxml2's size limits kept. A document that is not well-formed
 * stops the reader with an error (the whole import then fails).
 */
#ifndef POSTINO_IMPORTERS_XML_H
#define POSTINO_IMPORTERS_XML_H

#include <stddef.h>

struct xml_attr {
    const char *key;
    const char *value;
};

struct xml_record {
    long line;                  /* where <subscriber> starts */
    const char *email;          /* NULL when there is none */
    const char *name;           /* NULL when there is none */
    size_t nattrs;
    const struct xml_attr *attrs;
    size_t nlists;
    const char *const *lists;
    const char *problem;        /* non-NULL: the record is malformed, for this reason */
};

/* Read up to LEN bytes into BUF; the count, 0 at the end, -1 on error (libxml2's xmlInputReadCallback). */
typedef int (*xml_read_fn)(void *arg, char *buf, int len);

struct xml_reader;

struct xml_reader *xml_reader_new(xml_read_fn read, void *arg, const char *encoding);
struct xml_reader *xml_reader_new_mem(const char *data, size_t len, const char *encoding);
int xml_reader_next(struct xml_reader *r, struct xml_record *rec);
const char *xml_reader_raw(struct xml_reader *r);
const char *xml_reader_error(const struct xml_reader *r);
void xml_reader_free(struct xml_reader *r);

#endif
