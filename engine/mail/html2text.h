/*
 * html2text - the plain-text alternative of an HTML mail body.
 *
 * html2text_append  append a readable text rendering of HTML to a buffer
 *
 * Tags, comments, and the contents of script, style, head and title go;
 * entities are decoded; block elements become line breaks (paragraphs and
 * headings a blank line), list items "* ", table cells a space, <hr> a rule;
 * links become "text (url)" (just the text when it already is the url);
 * image alt text is kept; whitespace collapses except in <pre>; lines wrap at
 * HTML2TEXT_WIDTH characters where there is a space. Lines end in "\n"; the
 * result ends in one "\n" unless it is empty. Never fails; any byte sequence
 * is accepted (it is not an HTML validator).
 */
#ifndef POSTINO_MAIL_HTML2TEXT_H
#define POSTINO_MAIL_HTML2TEXT_H

#include <stddef.h>

#include "engine/util/buf.h"

#define HTML2TEXT_WIDTH 76

void html2text_append(struct buf *out, const char *html, size_t len);

#endif
