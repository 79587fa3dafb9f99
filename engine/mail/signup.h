/*
 * signup - the HTML of public signup forms: the hosted page (/s/LIST) and
 * the snippet to paste into any site (postino list form, the admin).
 *
 * signup_lists_html  the lists part of a form: a hidden field for one list,
 *                    a box to tick for each of several (templates/signup_list.html)
 *                    and hidden "offered" fields naming them all
 * signup_snippet     the snippet for LISTS, posting to PUBLIC_URL/s
 * signup_url         the hosted page of LISTS: PUBLIC_URL/s/ID[,ID...]
 * signup_page        the hosted page from SRC (a template the admin may edit;
 *                    NULL: templates/signup.html), its variables in ATTRIBS:
 *                    state (form, done, missing), base, title, description,
 *                    lists_html, pow, error, pending
 *
 * LISTS is store_form_lists' array ({id, name, description, optin}). POW is
 * the proof of work asked, in bits ("" when none): the form then loads
 * PUBLIC_URL/s/signup.js, served by postino itself.
 */
#ifndef POSTINO_MAIL_SIGNUP_H
#define POSTINO_MAIL_SIGNUP_H

#include <jansson.h>

#include "engine/util/buf.h"

void signup_lists_html(json_t *lists, struct buf *out);
void signup_snippet(json_t *lists, const char *public_url, unsigned pow_bits, struct buf *out);
void signup_url(json_t *lists, const char *public_url, struct buf *out);

/* signup_page - append the page to OUT; -1 with ERR (TMPL_ERR_MAX) when SRC does not compile. */
int signup_page(const char *src, json_t *attribs, struct buf *out, char *err, size_t errlen);

#endif
