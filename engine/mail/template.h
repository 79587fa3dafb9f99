/*
 * template - campaign templates, compiled once and rendered per recipient.
 *
 * tmpl_compile       compile a template (body or page) into its immutable form
 * tmpl_compile_wrap  compile a layout with a campaign body inlined at its content placeholder
 * tmpl_track_links   a copy whose literal href values render through a link function
 * tmpl_render        append one recipient's rendering, HTML-escaped or plain text
 * tmpl_free          release a compiled template
 * tmpl_err_position  the line and column a compile error names
 *
 * Syntax: {{ name }}, {{ email }}, {{ attribs.KEY }}, {{ attribs.KEY | default "x" }},
 * {{ unsubscribe_url }}, {{ campaign.subject }}, {{ campaign.name }},
 * {{ list.name }}, {{ confirm_url }}, {{ preferences_url }}, {{ content }}; {{{ ... }}} renders without escaping;
 * {{#if VAR}}…{{else}}…{{/if}}, {{#if VAR == "v"}} and != nest. phpList's
 * placeholders work case-insensitively: [EMAIL], [NAME], [FIRSTNAME],
 * [UNSUBSCRIBEURL], [UNSUBSCRIBE], [CONFIRMATIONURL],
 * [PREFERENCESURL], [PREFERENCES], [CONTENT], [ATTR] and [ATTR%%default]; a
 * bracketed word naming no attribute of the recipient stays as written.
 *
 * Compile errors (syntax, unknown variable, invalid UTF-8) come back as one
 * line "line L, column C: what" (columns count characters, from 1). A compiled
 * template is never modified again: any number of threads may render it at
 * once. Rendering cannot fail.
 */
#ifndef POSTINO_MAIL_TEMPLATE_H
#define POSTINO_MAIL_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#include "engine/util/buf.h"

#define TMPL_ERR_MAX 256

enum tmpl_mode {
    TMPL_HTML, /* values escaped: & < > " ' */
    TMPL_TEXT, /* values as they are */
};

/* One recipient's values. NULL pointers render as empty. */
struct tmpl_values {
    const char *email;
    const char *name;
    json_t *attribs;             /* object or NULL; only read; non-strings render as JSON text */
    const char *unsubscribe_url;
    const char *campaign_name;
    const char *campaign_subject;
    const char *list_name;
    const char *content;         /* {{ content }} / [CONTENT] of a template compiled alone; inserted raw */
    const char *confirm_url;     /* {{ confirm_url }}: the double opt-in confirmation link */
    const char *preferences_url; /* {{ preferences_url }}: the subscriber's preference page */
    /* link: append the URL of tracked link IDX (tmpl_track_links); NULL: links render as written */
    void (*link)(const void *ctx, unsigned idx, struct buf *out);
    const void *link_ctx;
};

struct tmpl;

/*
 * tmpl_compile - compile LEN bytes of SRC. Returns the compiled template,
 * which the caller frees with tmpl_free, or NULL with a one-line message in
 * ERR (ERRLEN bytes, TMPL_ERR_MAX is enough).
 */
struct tmpl *tmpl_compile(const char *src, size_t len, char *err, size_t errlen);

/*
 * tmpl_compile_wrap - compile LAYOUT with CONTENT (itself a template) put
 * where the layout says [CONTENT], {{ content }} or {{{ content }}}. Errors in
 * the content are prefixed "content: ". A layout without a content
 * placeholder is an error. Ownership as tmpl_compile.
 */
struct tmpl *tmpl_compile_wrap(const char *layout, size_t layout_len, const char *content,
                               size_t content_len, char *err, size_t errlen);

/*
 * tmpl_track_links - a copy of T in which the value of every href attribute
 * of an <a> or <area> tag that is literal text (no variable or condition in
 * it) and for which PICK returns an index >= 0 is rendered through the
 * values' link function with that index (as written when there is none).
 * PICK sees each value as written in the source (character references not
 * decoded), in document order. T is unchanged; the caller frees the copy
 * with tmpl_free. The scan is done here, once: rendering stays one pass.
 */
struct tmpl *tmpl_track_links(const struct tmpl *t, int (*pick)(void *ctx, const char *raw, size_t len), void *ctx);

/* tmpl_render - append T rendered for the values V in MODE to OUT. */
void tmpl_render(const struct tmpl *t, const struct tmpl_values *v, enum tmpl_mode mode,
                 struct buf *out);

/* tmpl_free - release T (NULL is fine). */
void tmpl_free(struct tmpl *t);

/*
 * tmpl_err_position - the line and column (from 1) in the compile error ERR
 * of tmpl_compile or tmpl_compile_wrap ("content: " prefixed or not); 0, or
 * -1 when it names none (a layout without a content placeholder).
 */
int tmpl_err_position(const char *err, unsigned long *line, unsigned long *column);

#endif
