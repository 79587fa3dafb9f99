/*
 * links - the links of an HTML template that click tracking may rewrite.
 *
 * links_scan_text   feed one literal run of a template: report each href value
 *                   of an <a> or <area> tag lying wholly inside the run
 * links_scan_break  something not literal (a variable, a condition) comes
 *                   between runs: an attribute value it falls into is not static
 * links_url         the URL an href value names (character references decoded,
 *                   surrounding whitespace dropped); -1 when it is too long
 * links_trackable   is a decoded URL absolute http: or https:
 *
 * The scanner is a small HTML tokenizer (tags, attributes with quoted or bare
 * values, comments, declarations) whose state carries from one run to the
 * next, so a template compiled into literal runs and variables is read as one
 * document. It is not a validator: any byte sequence is accepted. Pure code.
 */
#ifndef POSTINO_MAIL_LINKS_H
#define POSTINO_MAIL_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/util/buf.h"

/* The longest URL click tracking stores (bytes); a longer link is left as written. */
#define LINKS_URL_MAX 2000

struct links_scan {
    int state;
    char quote;           /* of the attribute value being read */
    bool link_tag;        /* the tag is <a> or <area> */
    bool href;            /* the attribute being read is href */
    bool dynamic;         /* the value being read has a variable in it */
    bool here;            /* the value began in the current run, at START */
    size_t start;
    size_t dashes;        /* comment end detection */
    size_t nlen;
    char name[8];         /* tag or attribute name, lower case, cut */
};

#define LINKS_SCAN_INIT { 0 }

/* links_found_fn - an href value at [OFF, OFF+LEN) of the run just fed. */
typedef void (*links_found_fn)(void *ctx, size_t off, size_t len);

void links_scan_text(struct links_scan *st, const char *s, size_t n, links_found_fn found, void *ctx);
void links_scan_break(struct links_scan *st);

/* links_url - append to OUT the URL named by the href value RAW (LEN bytes); 0, or -1 when over LINKS_URL_MAX. */
int links_url(const char *raw, size_t len, struct buf *out);

bool links_trackable(const char *url);

#endif
