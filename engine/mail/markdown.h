/*
 * markdown - a campaign body written in Markdown, made HTML.
 *
 * markdown_render  append the CommonMark HTML of a Markdown source, its
 *                  template tags kept as written
 *
 * CommonMark through libcmark in its safe mode: raw HTML in the Markdown
 * (a tag or a block) is replaced by the comment "<!-- raw HTML omitted -->"
 * and javascript:, vbscript:, file: and data: (but image) links are
 * emptied; a body that needs raw HTML is written in HTML instead.
 *
 * The template tags ({{ … }}, {{{ … }}} and the phpList [WORD%%default])
 * are set aside before the Markdown is read and put back, byte for byte,
 * into its HTML: the template engine runs afterwards, on the HTML, and
 * escapes the values there, so a quote in a tag or a tag in a link
 * destination ([Unsubscribe]({{ unsubscribe_url }})) works as in an HTML
 * body. A bare [WORD] placeholder is Markdown text and comes out as it was.
 */
#ifndef POSTINO_MAIL_MARKDOWN_H
#define POSTINO_MAIL_MARKDOWN_H

#include <stddef.h>

#include "engine/util/buf.h"

/*
 * markdown_render - append the HTML of the LEN bytes of Markdown SRC to OUT.
 * Returns 0, or -1 when libcmark cannot render it (out of memory; OUT then
 * unchanged). Invalid UTF-8 is rendered with U+FFFD in its place: check the
 * source with the template compiler first to report it at its line.
 */
int markdown_render(const char *src, size_t len, struct buf *out);

#endif
