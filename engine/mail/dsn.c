/*
 * dsn - bounce reports into a dsn_report: GMime for the MIME tree, our own
 * reading of the RFC 3464 / RFC 5965 fields and of prose bounces.
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "engine/mail/dsn.h"
#include "engine/mail/html2text.h"
#include "engine/util/alloc.h"
#include "engine/util/buf.h"
#include "engine/util/str.h"

#define PART_MAX (256u << 10)   /* bytes of one part's content read */
#define PROSE_MAX (64u << 10)   /* bytes of a prose bounce read */

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_setup(void)
{
    g_mime_init();
}

/* copy S (LEN bytes) to DST: controls become spaces, runs of blanks one space, ends trimmed */
static void copy_text(char *dst, size_t n, const char *s, size_t len)
{
    size_t o = 0;
    bool space = true;
    for (size_t i = 0; i < len && s[i] && o + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == ' ') {
            if (!space)
                dst[o++] = ' ';
            space = true;
            continue;
        }
        dst[o++] = (char)c;
        space = false;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = 0;
}

static void copy_str(char *dst, size_t n, const char *s)
{
    copy_text(dst, n, s ? s : "", s ? strlen(s) : 0);
}

/* the address in "rfc822; <user@example.org>" or "<user@example.org>" */
static void copy_addr(char *dst, size_t n, const char *v)
{
    const char *semi = strchr(v, ';');
    if (semi)
        v = semi + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    const char *lt = strchr(v, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        copy_text(dst, n, lt + 1, gt ? (size_t)(gt - lt - 1) : strlen(lt + 1));
    } else {
        copy_text(dst, n, v, strcspn(v, " \t\r\n"));
    }
}

/* the first enhanced status code "C.S.D" (class 2, 4 or 5) in S, copied to DST; 0, or -1 when none */
static int find_status(const char *s, char *dst, size_t n)
{
    for (const char *p = s; *p; p++) {
        if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.' || (p > s && (isalnum((unsigned char)p[-1]) ||
                                                                              p[-1] == '.')))
            continue;
        const char *q = p + 2;
        size_t a = 0, b = 0;
        while (isdigit((unsigned char)q[a]) && a < 4)
            a++;
        if (a == 0 || a > 3 || q[a] != '.')
            continue;
        while (isdigit((unsigned char)q[a + 1 + b]) && b < 4)
            b++;
        if (b == 0 || b > 3 || isalnum((unsigned char)q[a + 1 + b]))
            continue;
        size_t len = 2 + a + 1 + b;
        if (len + 1 > n)
            return -1;
        memcpy(dst, p, len);
        dst[len] = 0;
        return 0;
    }
    return -1;
}

typedef void (*field_cb)(void *arg, int group, const char *name, const char *value);

/*
 * fields_each - call CB for each "Name: value" field of header-style TEXT
 * (folded lines unfolded), GROUP counting the blank-line-separated blocks.
 */
static void fields_each(const char *text, size_t len, field_cb cb, void *arg)
{
    struct buf name = BUF_INIT, value = BUF_INIT;
    int group = 0;
    bool have = false, blank_seen = false;
    size_t i = 0;
    while (i <= len) {
        size_t e = i;
        while (e < len && text[e] != '\n')
            e++;
        size_t l = e - i;
        if (l > 0 && text[i + l - 1] == '\r')
            l--;
        const char *line = text + i;
        bool cont = l > 0 && (line[0] == ' ' || line[0] == '\t');
        if (!cont && have) {
            cb(arg, group, buf_cstr(&name), buf_cstr(&value));
            have = false;
        }
        if (e >= len && l == 0)
            break;
        if (l == 0) {
            blank_seen = true;
        } else if (cont) {
            if (have && value.len < 4096) {
                buf_appendc(&value, ' ');
                buf_append(&value, line, l);
            }
        } else {
            const char *colon = memchr(line, ':', l);
            if (colon && colon > line) {
                if (blank_seen) {
                    group++;
                    blank_seen = false;
                }
                buf_reset(&name);
                buf_reset(&value);
                buf_append(&name, line, (size_t)(colon - line));
                buf_append(&value, colon + 1, l - (size_t)(colon - line) - 1);
                if (value.len > 4096)
                    buf_truncate(&value, 4096);
                str_trim(name.data);
                have = true;
            }
        }
        i = e + 1;
    }
    if (have)
        cb(arg, group, buf_cstr(&name), buf_cstr(&value));
    buf_free(&name);
    buf_free(&value);
}

struct ds_ctx {
    struct dsn_report *r;
    int cur_group;   /* group of the recipient being filled, -1 none */
};

static void ds_field(void *arg, int group, const char *name, const char *value)
{
    struct ds_ctx *c = arg;
    struct dsn_report *r = c->r;
    if (str_eq_nocase(name, "Reporting-MTA")) {
        copy_addr(r->reporting_mta, sizeof(r->reporting_mta), value);
        return;
    }
    bool per_rcpt = str_eq_nocase(name, "Final-Recipient") || str_eq_nocase(name, "Original-Recipient") ||
                    str_eq_nocase(name, "Action") || str_eq_nocase(name, "Status") ||
                    str_eq_nocase(name, "Diagnostic-Code") || str_eq_nocase(name, "Remote-MTA");
    if (!per_rcpt)
        return;
    if (group != c->cur_group) {
        if (r->nrcpt >= DSN_MAX_RCPTS)
            return;
        r->nrcpt++;
        c->cur_group = group;
    }
    struct dsn_recipient *rc = &r->rcpt[r->nrcpt - 1];
    if (str_eq_nocase(name, "Final-Recipient"))
        copy_addr(rc->final_rcpt, sizeof(rc->final_rcpt), value);
    else if (str_eq_nocase(name, "Original-Recipient"))
        copy_addr(rc->original_rcpt, sizeof(rc->original_rcpt), value);
    else if (str_eq_nocase(name, "Action")) {
        copy_str(rc->action, sizeof(rc->action), value);
        str_lower(rc->action);
    } else if (str_eq_nocase(name, "Status")) {
        if (find_status(value, rc->status, sizeof(rc->status)) < 0)
            rc->status[0] = 0;
    } else if (str_eq_nocase(name, "Diagnostic-Code")) {
        const char *semi = strchr(value, ';');
        copy_str(rc->diagnostic, sizeof(rc->diagnostic), semi ? semi + 1 : value);
    } else if (str_eq_nocase(name, "Remote-MTA"))
        copy_addr(rc->remote_mta, sizeof(rc->remote_mta), value);
}

static void arf_field(void *arg, int group, const char *name, const char *value)
{
    struct dsn_report *r = arg;
    (void)group;
    if (str_eq_nocase(name, "Feedback-Type")) {
        copy_str(r->feedback_type, sizeof(r->feedback_type), value);
        str_lower(r->feedback_type);
    } else if (str_eq_nocase(name, "Original-Mail-From"))
        copy_addr(r->arf_mail_from, sizeof(r->arf_mail_from), value);
    else if (str_eq_nocase(name, "Original-Rcpt-To") && !r->arf_rcpt_to[0])
        copy_addr(r->arf_rcpt_to, sizeof(r->arf_rcpt_to), value);
    else if (str_eq_nocase(name, "Reported-Domain") || str_eq_nocase(name, "Source-IP"))
        return;
}

/* headers of the returned original, from a text/rfc822-headers part or a prose bounce */
static void orig_field(void *arg, int group, const char *name, const char *value)
{
    struct dsn_report *r = arg;
    if (group > 0)
        return;
    if (str_eq_nocase(name, "X-Postino-Delivery") && !r->orig_delivery[0])
        copy_str(r->orig_delivery, sizeof(r->orig_delivery), value);
    else if (str_eq_nocase(name, "Return-Path") && !r->orig_return_path[0])
        copy_addr(r->orig_return_path, sizeof(r->orig_return_path), value);
    else if (str_eq_nocase(name, "To") && !r->orig_to[0])
        copy_addr(r->orig_to, sizeof(r->orig_to), value);
    else if (str_eq_nocase(name, "X-HmXmrOriginalRecipient") && !r->orig_hmxmr_rcpt[0])
        copy_addr(r->orig_hmxmr_rcpt, sizeof(r->orig_hmxmr_rcpt), value);
}

/* the decoded content of a leaf part, or the text of an embedded message, into OUT (bounded) */
static void part_bytes(GMimeObject *o, struct buf *out)
{
    GMimeStream *s = g_mime_stream_mem_new();
    if (GMIME_IS_PART(o)) {
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
        if (w)
            g_mime_data_wrapper_write_to_stream(w, s);
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m)
            g_mime_object_write_to_stream(GMIME_OBJECT(m), NULL, s);
    }
    GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    if (a && a->len)
        buf_append(out, a->data, a->len < PART_MAX ? a->len : PART_MAX);
    g_object_unref(s);
}

static void orig_message(struct dsn_report *r, GMimeMessage *m)
{
    GMimeObject *o = GMIME_OBJECT(m);
    const char *v;
    if (!r->orig_delivery[0] && (v = g_mime_object_get_header(o, "X-Postino-Delivery")))
        copy_str(r->orig_delivery, sizeof(r->orig_delivery), v);
    if (!r->orig_return_path[0] && (v = g_mime_object_get_header(o, "Return-Path")))
        copy_addr(r->orig_return_path, sizeof(r->orig_return_path), v);
    if (!r->orig_to[0] && (v = g_mime_object_get_header(o, "To")))
        copy_addr(r->orig_to, sizeof(r->orig_to), v);
    if (!r->orig_hmxmr_rcpt[0] && (v = g_mime_object_get_header(o, "X-HmXmrOriginalRecipient")))
        copy_addr(r->orig_hmxmr_rcpt, sizeof(r->orig_hmxmr_rcpt), v);
}

struct walk {
    struct dsn_report *r;
    struct buf text;    /* the first text/plain part: a prose bounce's words */
    struct buf html;    /* the first text/html part, for a report that has no plain text */
    bool report;        /* inside a multipart/report */
    bool original;      /* inside the returned original: its parts are not the report's words */
};

static void walk(struct walk *w, GMimeObject *o, int depth)
{
    if (!o || depth > DSN_MAX_DEPTH)
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    if (GMIME_IS_MULTIPART(o)) {
        int n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
        if (ct && g_mime_content_type_is_type(ct, "multipart", "report")) {
            const char *rt = g_mime_content_type_get_parameter(ct, "report-type");
            if (rt && strcasecmp(rt, "delivery-status") == 0 && w->r->kind == DSN_KIND_OTHER)
                w->r->kind = DSN_KIND_DSN;
            else if (rt && strcasecmp(rt, "feedback-report") == 0 && w->r->kind == DSN_KIND_OTHER)
                w->r->kind = DSN_KIND_ARF;
        }
        for (int i = 0; i < n && i < 64; i++)
            walk(w, g_mime_multipart_get_part(GMIME_MULTIPART(o), i), depth + 1);
        return;
    }
    if (!ct)
        return;
    struct buf b = BUF_INIT;
    if (g_mime_content_type_is_type(ct, "message", "delivery-status") ||
        g_mime_content_type_is_type(ct, "message", "global-delivery-status")) {
        struct ds_ctx c = { w->r, -1 };
        part_bytes(o, &b);
        fields_each(b.data ? b.data : "", b.len, ds_field, &c);
    } else if (g_mime_content_type_is_type(ct, "message", "feedback-report")) {
        part_bytes(o, &b);
        fields_each(b.data ? b.data : "", b.len, arf_field, w->r);
    } else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers") ||
               g_mime_content_type_is_type(ct, "message", "global-headers")) {
        part_bytes(o, &b);
        fields_each(b.data ? b.data : "", b.len, orig_field, w->r);
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m) {
            bool was = w->original;
            orig_message(w->r, m);
            w->original = true;
            walk(w, g_mime_message_get_mime_part(m), depth + 1);
            w->original = was;
        }
    } else if (g_mime_content_type_is_type(ct, "text", "plain") && w->text.len == 0 && !w->original) {
        part_bytes(o, &w->text);
    } else if (g_mime_content_type_is_type(ct, "text", "html") && w->html.len == 0 && !w->original) {
        part_bytes(o, &w->html);
    }
    buf_free(&b);
}

/* how many MIME containers the raw text could hold: an upper bound on GMime's recursion */
static size_t count_containers(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strcasestr(p, "multipart/")) != NULL; p += 10)
        n++;
    for (const char *p = text; (p = strcasestr(p, "message/")) != NULL; p += 8)
        n++;
    return n;
}

static bool looks_like_bounce(const struct dsn_report *r, const char *text)
{
    static const char *const senders[] = { "mailer-daemon", "postmaster", "mail delivery", NULL };
    static const char *const subjects[] = { "undeliver", "delivery status", "delivery failure", "delivery failed",
                                            "failure notice", "returned mail", "mail delivery", "non-delivery",
                                            "nondelivery", "could not be delivered", "delivery notification",
                                            "not delivered", "delivery problem", "message delayed",
                                            "delayed mail", "warning: message", "couldn't be delivered",
                                            "message not delivered", "unzustellbar", "non remis", "no se puede entregar",
                                            "non recapitabile", "onbestelbaar", NULL };
    static const char *const bodies[] = { "qmail-send", "wasn't able to deliver", "could not be delivered",
                                          "permanent error", "delivery has failed", "undeliverable",
                                          "could not be reached", "delivery to the following recipient",
                                          "couldn't be delivered", "mail delivery software",
                                          "following addresses had permanent fatal errors", "message could not be delivered",
                                          "unable to deliver your message", "delivery to the following recipients failed",
                                          "this is a permanent error", "your message to the following recipients cannot be delivered",
                                          NULL };
    for (size_t i = 0; senders[i]; i++)
        if (strcasestr(r->from, senders[i]))
            return true;
    for (size_t i = 0; subjects[i]; i++)
        if (strcasestr(r->subject, subjects[i]))
            return true;
    for (size_t i = 0; bodies[i]; i++)
        if (strcasestr(text, bodies[i]))
            return true;
    return false;
}

static bool addr_char_left(char c)
{
    return isalnum((unsigned char)c) || (c && strchr(".!#$%&'*+/=?^_`{|}~-", c));
}

static bool addr_char_right(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '-';
}

/* the addresses a prose bounce names (not its own postmaster's), up to DSN_MAX_ADDRS */
static void prose_addrs(struct dsn_report *r, const char *text, const char **first)
{
    *first = NULL;
    for (const char *at = strchr(text, '@'); at && r->naddrs < DSN_MAX_ADDRS; at = strchr(at + 1, '@')) {
        const char *s = at, *e = at + 1;
        while (s > text && addr_char_left(s[-1]) && at - s < 64)
            s--;
        while (addr_char_right(*e) && e - at < 255)
            e++;
        while (e > at + 1 && e[-1] == '.')
            e--;
        if (s == at || e == at + 1)
            continue;
        char raw[ADDRESS_MAX + 2], norm[ADDRESS_MAX + 1];
        const char *why;
        if ((size_t)(e - s) > ADDRESS_MAX)
            continue;
        memcpy(raw, s, (size_t)(e - s));
        raw[e - s] = 0;
        if (address_normalize(raw, norm, sizeof(norm), &why) < 0)
            continue;
        if (strncasecmp(norm, "mailer-daemon@", 14) == 0 || strncasecmp(norm, "postmaster@", 11) == 0)
            continue;
        bool dup = false;
        for (size_t i = 0; i < r->naddrs; i++)
            dup = dup || strcasecmp(r->addrs[i], norm) == 0;
        if (dup)
            continue;
        if (!*first)
            *first = s;
        memcpy(r->addrs[r->naddrs++], norm, strlen(norm) + 1);
    }
}

/* where the copy of the original starts in a prose bounce, or NULL */
static const char *prose_original(const char *text)
{
    static const char *const marks[] = { "--- Below this line is a copy of the message",
                                         "------ This is a copy of the message", "--- Original message",
                                         "----- Original Message", "Original message follows",
                                         "--- The header of the original message", "Original message headers:",
                                         "------ Original message header", "Return-Path:",
                                         "Received:", NULL };
    const char *best = NULL;
    for (size_t i = 0; marks[i]; i++) {
        const char *p = strcasestr(text, marks[i]);
        if (p && (!best || p < best))
            best = p;
    }
    return best;
}

static void read_prose(struct dsn_report *r, const char *text)
{
    size_t len = strlen(text);
    if (len > PROSE_MAX)
        len = PROSE_MAX;
    char *t = xstrndup(text, len);
    const char *orig = prose_original(t);
    if (orig) {
        const char *hdr = strcasestr(orig, "\nX-Postino-Delivery:");
        if (hdr)
            fields_each(hdr + 1, strcspn(hdr + 1, "\n") , orig_field, r);
        const char *to = strcasestr(orig, "\nTo:");
        if (to && !r->orig_to[0])
            fields_each(to + 1, strcspn(to + 1, "\n"), orig_field, r);
        t[orig - t] = 0;
    }
    const char *first;
    prose_addrs(r, t, &first);
    const char *from = first ? first : t;
    while (from > t && from[-1] != '\n')
        from--;
    if (find_status(from, r->text_status, sizeof(r->text_status)) < 0)
        r->text_status[0] = 0;
    copy_text(r->text_diagnostic, sizeof(r->text_diagnostic), from, strlen(from));
    xfree(t);
}

/* a header of the report itself that says it was sent automatically in answer */
static void auto_field(struct dsn_report *r, const char *name, const char *value)
{
    if (!value)
        return;
    if (str_eq_nocase(name, "Auto-Submitted"))
        r->auto_header = r->auto_header || strncasecmp(value + strspn(value, " \t"), "no", 2) != 0;
    else if (str_eq_nocase(name, "X-Autoreply") || str_eq_nocase(name, "X-Autorespond") ||
             str_eq_nocase(name, "X-Autoresponder"))
        r->auto_header = true;
    else if (str_eq_nocase(name, "Precedence") && strcasestr(value, "auto_reply"))
        r->auto_header = true;
    else if (str_eq_nocase(name, "X-Failed-Recipients") && !r->failed_rcpt[0]) {
        char first[DSN_LINE_MAX];
        copy_text(first, sizeof(first), value, strcspn(value, ","));
        copy_addr(r->failed_rcpt, sizeof(r->failed_rcpt), first);
    } else if (str_eq_nocase(name, "To") && !r->to[0])
        copy_addr(r->to, sizeof(r->to), value);
}

/* the report's own header, read by hand when GMime is not trusted with the message */
static void top_field(void *arg, int group, const char *name, const char *value)
{
    struct dsn_report *r = arg;
    if (group > 0)
        return;
    if (str_eq_nocase(name, "Message-Id") && !r->message_id[0])
        copy_str(r->message_id, sizeof(r->message_id), value);
    else if (str_eq_nocase(name, "From") && !r->from[0])
        copy_str(r->from, sizeof(r->from), value);
    else if (str_eq_nocase(name, "Subject") && !r->subject[0])
        copy_str(r->subject, sizeof(r->subject), value);
    else if ((str_eq_nocase(name, "X-Original-To") || str_eq_nocase(name, "Delivered-To")) && !r->envelope_to[0])
        copy_addr(r->envelope_to, sizeof(r->envelope_to), value);
    else
        auto_field(r, name, value);
}

static void top_headers(struct dsn_report *r, GMimeMessage *m)
{
    GMimeObject *o = GMIME_OBJECT(m);
    static const char *const autos[] = { "Auto-Submitted", "X-Autoreply", "X-Autorespond", "X-Autoresponder",
                                         "Precedence", "X-Failed-Recipients", "To", NULL };
    const char *v;
    copy_str(r->message_id, sizeof(r->message_id), g_mime_object_get_header(o, "Message-Id"));
    copy_str(r->from, sizeof(r->from), g_mime_object_get_header(o, "From"));
    copy_str(r->subject, sizeof(r->subject), g_mime_message_get_subject(m));
    if ((v = g_mime_object_get_header(o, "X-Original-To")) || (v = g_mime_object_get_header(o, "Delivered-To")))
        copy_addr(r->envelope_to, sizeof(r->envelope_to), v);
    for (size_t i = 0; autos[i]; i++)
        auto_field(r, autos[i], g_mime_object_get_header(o, autos[i]));
}

static bool mentions(const char *text, const char *const *words)
{
    for (size_t i = 0; words[i]; i++)
        if (strcasestr(text, words[i]))
            return true;
    return false;
}

/* an out-of-office or other automatic answer, in the languages it is most often sent in */
static bool looks_like_autoreply(const struct dsn_report *r)
{
    static const char *const subjects[] = { "out of office", "out of the office", "automatic reply", "auto reply",
                                            "autoreply", "auto-reply", "auto response", "autoresponse", "vacation",
                                            "away from", "abwesenheit", "automatische antwort", "r\xc3\xa9ponse automatique",
                                            "reponse automatique", "absence", "respuesta autom\xc3\xa1tica",
                                            "fuera de la oficina", "risposta automatica", "fuori ufficio",
                                            "automatisch antwoord", "afwezig", "autosvar", "resposta autom\xc3\xa1tica",
                                            "automaattinen vastaus", "odpowied\xc5\xba automatyczna", "i am away",
                                            "on leave", "on holiday", NULL };
    return r->auto_header || mentions(r->subject, subjects);
}

/* a prose report that only warns of a delay: the server still retries */
static bool looks_like_delay(const struct dsn_report *r, const char *text)
{
    static const char *const subjects[] = { "(delay)", "delayed", "delivery delay", "still being retried",
                                            "mail delivery warning", "warning: could not send", NULL };
    static const char *const bodies[] = { "this is a warning message only", "has not yet been delivered",
                                          "will continue to try", "will retry", "is being retried", "still trying",
                                          "delivery attempts will continue", "no action is required on your part",
                                          "this is just a warning", NULL };
    return mentions(r->subject, subjects) || mentions(text, bodies);
}

/* a complaint a feedback loop sent without ARF (Microsoft's JMRP format, abuse desks' forwards) */
static bool looks_like_complaint(const struct dsn_report *r, const char *text)
{
    static const char *const subjects[] = { "complaint about message", "abuse report", "spam report", "spam complaint",
                                            "email abuse", "fbl report", "feedback loop", NULL };
    static const char *const bodies[] = { "this is an email abuse report", "reported as spam", "marked as spam",
                                          "marked it as spam", "complaint about a message", NULL };
    if (r->orig_hmxmr_rcpt[0])
        return true;
    if (!r->orig_to[0] && !r->orig_delivery[0])
        return false;   /* no returned original: nothing says which message it is about */
    return mentions(r->subject, subjects) || mentions(text, bodies);
}

/* dsn_parse - see dsn.h. */
int dsn_parse(const char *data, size_t len, struct dsn_report *out)
{
    memset(out, 0, sizeof(*out));
    if (len > DSN_MAX_INPUT)
        len = DSN_MAX_INPUT;
    char *text = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        text[i] = data[i] ? data[i] : ' ';
    text[len] = 0;
    pthread_once(&gmime_once, gmime_setup);

    struct walk w = { out, BUF_INIT, BUF_INIT, false, false };
    GMimeMessage *m = NULL;
    if (count_containers(text) <= DSN_MAX_CONTAINERS) {
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(data, len);
        GMimeParser *p = g_mime_parser_new_with_stream(s);
        m = g_mime_parser_construct_message(p, NULL);
        g_object_unref(p);
        g_object_unref(s);
    }
    if (m) {
        top_headers(out, m);
        walk(&w, g_mime_message_get_mime_part(m), 0);
        g_object_unref(m);
    } else {
        /* not MIME we trust: the header fields and body by hand */
        const char *body = strstr(text, "\n\n");
        fields_each(text, body ? (size_t)(body - text) : strlen(text), top_field, out);
        buf_appends(&w.text, body ? body + 2 : text);
    }
    if (w.text.len == 0 && w.html.len > 0)
        html2text_append(&w.text, w.html.data, w.html.len);
    if (out->kind == DSN_KIND_DSN && out->nrcpt == 0)
        out->kind = DSN_KIND_OTHER;
    const char *prose = w.text.len ? buf_cstr(&w.text) : text;
    if (out->kind == DSN_KIND_OTHER) {
        if (looks_like_bounce(out, prose)) {
            out->kind = DSN_KIND_TEXT;
            out->delayed = looks_like_delay(out, prose);
            read_prose(out, prose);
        } else if (looks_like_complaint(out, prose)) {
            out->kind = DSN_KIND_ARF;
            snprintf(out->feedback_type, sizeof(out->feedback_type), "abuse");
        } else if (looks_like_autoreply(out)) {
            out->kind = DSN_KIND_AUTOREPLY;
        }
    } else if (out->kind == DSN_KIND_DSN && w.text.len) {
        read_prose(out, prose);   /* the human-readable part: words a Diagnostic-Code may lack */
    }
    if (!out->orig_delivery[0]) {
        /* an original returned inline or as plain text still carries its header */
        const char *hdr = strcasestr(text, "\nX-Postino-Delivery:");
        if (hdr)
            fields_each(hdr + 1, strcspn(hdr + 1, "\n"), orig_field, out);
    }
    buf_free(&w.text);
    buf_free(&w.html);
    xfree(text);
    return 0;
}

/* a specific enhanced code: subject and detail not both zero */
static bool status_specific(const char *st)
{
    return st && st[0] && st[1] == '.' && st[2] && !(st[2] == '0' && st[3] == '.' && st[4] == '0' && !st[5]);
}

/* an address of the report that is the sender's own (our bounce address), not the recipient's */
static bool own_address(const struct dsn_report *r, const char *a)
{
    return (r->to[0] && strcasecmp(a, r->to) == 0) || (r->envelope_to[0] && strcasecmp(a, r->envelope_to) == 0) ||
           (r->orig_return_path[0] && strcasecmp(a, r->orig_return_path) == 0) ||
           (r->arf_mail_from[0] && strcasecmp(a, r->arf_mail_from) == 0);
}

static void verdict_recipient(const struct dsn_report *r, struct dsn_verdict *v)
{
    const char *c[DSN_MAX_ADDRS + 8];
    size_t n = 0;
    if (v->rcpt) {
        c[n++] = v->rcpt->final_rcpt;
        c[n++] = v->rcpt->original_rcpt;
    }
    c[n++] = r->arf_rcpt_to;
    c[n++] = r->failed_rcpt;
    for (size_t i = 0; i < r->naddrs; i++)
        c[n++] = r->addrs[i];
    c[n++] = r->orig_hmxmr_rcpt;
    c[n++] = r->orig_to;
    char from[ADDRESS_MAX + 1] = "";
    if (r->kind == DSN_KIND_AUTOREPLY) {
        copy_addr(from, sizeof(from), r->from);   /* an auto-reply concerns whoever answered */
        c[n++] = from;
    }
    for (size_t i = 0; i < n; i++) {
        char norm[ADDRESS_MAX + 1];
        const char *why;
        if (c[i][0] && !own_address(r, c[i]) && strncasecmp(c[i], "redacted@", 9) != 0 &&
            address_normalize(c[i], norm, sizeof(norm), &why) == 0) {
            snprintf(v->recipient, sizeof(v->recipient), "%s", norm);
            return;
        }
    }
}

/* dsn_verdict - see dsn.h. */
int dsn_verdict(const struct dsn_report *r, dsn_rule_fn rule, void *arg, struct dsn_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->diagnostic = "";
    if (r->kind == DSN_KIND_DSN) {
        for (size_t i = 0; i < r->nrcpt && !v->rcpt; i++)
            if (strcmp(r->rcpt[i].action, "failed") == 0 || (!r->rcpt[i].action[0] && r->rcpt[i].status[0] == '5'))
                v->rcpt = &r->rcpt[i];
        if (!v->rcpt) {
            for (size_t i = 0; i < r->nrcpt && !v->rcpt; i++)
                if (strcmp(r->rcpt[i].action, "delayed") == 0 || r->rcpt[i].status[0] == '4')
                    v->rcpt = &r->rcpt[i];
            v->cls = v->rcpt ? BOUNCE_DELAY : BOUNCE_NONE;
            v->why = v->rcpt ? "a delay warning, not a bounce" : "no failed recipient (a delivery notice)";
        }
    }
    verdict_recipient(r, v);
    if (r->kind == DSN_KIND_OTHER) {
        v->why = "not a bounce";
        return 0;
    }
    if (r->kind == DSN_KIND_AUTOREPLY) {
        v->cls = BOUNCE_AUTOREPLY;
        v->why = "an auto-reply, not a bounce";
        return 0;
    }
    if (r->kind == DSN_KIND_ARF) {
        static const char *const complaints[] = { "abuse", "fraud", "opt-out", "optout", NULL };
        v->diagnostic = r->feedback_type;
        for (size_t i = 0; complaints[i]; i++)
            if (strcmp(r->feedback_type, complaints[i]) == 0)
                v->cls = BOUNCE_COMPLAINT;
        if (v->cls == BOUNCE_NONE)
            v->why = "a feedback report that is not a complaint";
        return 0;
    }
    if (r->kind == DSN_KIND_TEXT && r->delayed) {
        v->cls = BOUNCE_DELAY;
        v->why = "a delay warning, not a bounce";
    }
    if (v->cls == BOUNCE_DELAY || (r->kind == DSN_KIND_DSN && !v->rcpt)) {
        snprintf(v->status, sizeof(v->status), "%s", v->rcpt ? v->rcpt->status : r->text_status);
        v->diagnostic = v->rcpt ? v->rcpt->diagnostic : r->text_diagnostic;
        return 0;
    }
    /* the most specific code: the Status field, unless vague, then the server's words, then the prose */
    const char *diag = v->rcpt && v->rcpt->diagnostic[0] ? v->rcpt->diagnostic : r->text_diagnostic;
    char found[16] = "";
    const char *st = v->rcpt ? v->rcpt->status : r->text_status;
    if (!status_specific(st)) {
        if (v->rcpt && find_status(v->rcpt->diagnostic, found, sizeof(found)) == 0 && status_specific(found))
            st = found;
        else if (find_status(r->text_diagnostic, found, sizeof(found)) == 0 && status_specific(found) &&
                 (!st[0] || st[0] == found[0]))
            st = found;
    }
    snprintf(v->status, sizeof(v->status), "%s", st);
    v->diagnostic = diag;
    if (rule) {
        /* the rules read the server's words; a DSN's own prose too when they say nothing */
        if (rule(arg, diag, &v->rule) < 0)
            return -1;
        if (v->rule.cls == BOUNCE_NONE && diag != r->text_diagnostic && r->text_diagnostic[0] &&
            rule(arg, r->text_diagnostic, &v->rule) < 0)
            return -1;
    }
    v->cls = classify_report(v->status, diag, v->rule.cls, v->rule.beats_code);
    if (v->cls != v->rule.cls)
        memset(&v->rule, 0, sizeof(v->rule));
    return 0;
}

/* dsn_verp_token - see dsn.h. */
int dsn_verp_token(const char *addr, const char *local, char *out, size_t outlen)
{
    if (!addr || !local)
        return -1;
    while (*addr == ' ' || *addr == '<')
        addr++;
    const char *at = strrchr(addr, '@');
    size_t ll = strlen(local);
    if (!at || (size_t)(at - addr) <= ll + 1 || strncasecmp(addr, local, ll) != 0 || addr[ll] != '+')
        return -1;
    const char *tok = addr + ll + 1;
    size_t n = (size_t)(at - tok);
    if (n == 0 || n + 1 > outlen)
        return -1;
    memcpy(out, tok, n);
    out[n] = 0;
    return 0;
}

/* dsn_kind_name - the name of KIND. */
const char *dsn_kind_name(enum dsn_kind kind)
{
    switch (kind) {
    case DSN_KIND_DSN: return "dsn";
    case DSN_KIND_ARF: return "arf";
    case DSN_KIND_TEXT: return "text";
    case DSN_KIND_AUTOREPLY: return "autoreply";
    case DSN_KIND_OTHER: break;
    }
    return "other";
}
