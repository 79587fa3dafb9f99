/*
 * mta_log - Postfix's delivery log lines read as events (see mta_log.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/mail/mta_log.h"
#include "engine/util/str.h"

struct cur {
    const char *p, *end;
};

static bool cur_lit(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* N decimal digits exactly, into *V */
static bool cur_digits(struct cur *c, int n, int *v)
{
    *v = 0;
    if (c->end - c->p < n)
        return false;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)c->p[i]))
            return false;
        *v = *v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    return true;
}

/* ".ffffff" (any number of digits) into microseconds, when present */
static int cur_fraction(struct cur *c)
{
    int usec = 0, scale = 100000;
    if (c->p >= c->end || *c->p != '.')
        return 0;
    c->p++;
    while (c->p < c->end && isdigit((unsigned char)*c->p)) {
        usec += (*c->p - '0') * scale;
        scale /= 10;
        c->p++;
    }
    return usec;
}

static bool tm_valid(const struct tm *tm)
{
    return tm->tm_mon >= 0 && tm->tm_mon < 12 && tm->tm_mday >= 1 && tm->tm_mday <= 31 && tm->tm_hour < 24 &&
           tm->tm_min < 60 && tm->tm_sec < 61;
}

/* "Dec 04 14:55:51[.ffffff]": local time, its year the one that is not in NOW's future */
static bool time_traditional(struct cur *c, time_t now, struct mta_event *ev)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm = { 0 }, nowtm;
    int day;
    if (c->end - c->p < 16 || c->p[3] != ' ')
        return false;
    const char *m = NULL;
    for (int i = 0; i < 12 && !m; i++)
        if (memcmp(c->p, months + 3 * i, 3) == 0)
            m = months + 3 * i;
    if (!m)
        return false;
    tm.tm_mon = (int)((m - months) / 3);
    c->p += 4;
    if (*c->p == ' ') {
        c->p++;
        if (!cur_digits(c, 1, &day))
            return false;
    } else if (!cur_digits(c, 2, &day))
        return false;
    tm.tm_mday = day;
    if (!cur_lit(c, " ") || !cur_digits(c, 2, &tm.tm_hour) || !cur_lit(c, ":") || !cur_digits(c, 2, &tm.tm_min) ||
        !cur_lit(c, ":") || !cur_digits(c, 2, &tm.tm_sec) || !tm_valid(&tm))
        return false;
    ev->usec = cur_fraction(c);
    localtime_r(&now, &nowtm);
    for (int back = 0; back < 2; back++) {
        struct tm t = tm;
        t.tm_year = nowtm.tm_year - back;
        t.tm_isdst = -1;
        ev->time = mktime(&t);
        if (ev->time != (time_t)-1 && ev->time <= now + 86400)
            return true;
    }
    return ev->time != (time_t)-1;
}

/* "2026-12-04T14:55:51[.ffffff](Z|+hh:mm|-hh:mm)" */
static bool time_iso(struct cur *c, struct mta_event *ev)
{
    struct tm tm = { 0 };
    int y, mon, oh = 0, om = 0, sign = 1;
    if (!cur_digits(c, 4, &y) || !cur_lit(c, "-") || !cur_digits(c, 2, &mon) || !cur_lit(c, "-") ||
        !cur_digits(c, 2, &tm.tm_mday) || !cur_lit(c, "T") || !cur_digits(c, 2, &tm.tm_hour) || !cur_lit(c, ":") ||
        !cur_digits(c, 2, &tm.tm_min) || !cur_lit(c, ":") || !cur_digits(c, 2, &tm.tm_sec))
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    if (!tm_valid(&tm) || y < 1970)
        return false;
    ev->usec = cur_fraction(c);
    if (!cur_lit(c, "Z")) {
        if (cur_lit(c, "-"))
            sign = -1;
        else if (!cur_lit(c, "+"))
            return false;
        if (!cur_digits(c, 2, &oh) || !cur_lit(c, ":") || !cur_digits(c, 2, &om) || oh > 23 || om > 59)
            return false;
    }
    ev->time = timegm(&tm) - sign * (oh * 3600 + om * 60);
    return true;
}

/* copy N bytes at S into OUT (SIZE bytes) as valid UTF-8 text: controls and bad bytes become '?';
 * false when it does not fit, unless CUT (then cut at a character boundary) */
static bool copy_clean(char *out, size_t size, const char *s, size_t n, bool cut)
{
    size_t o = 0;
    while (n > 0) {
        size_t bad = n;
        if (str_utf8_valid(s, n, &bad))
            bad = n;
        for (size_t i = 0; i < bad; i++) {
            unsigned char ch = (unsigned char)s[i];
            size_t clen = ch < 0x80 ? 1 : ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4;
            if (clen > bad - i)
                clen = bad - i;
            if (o + clen >= size) {
                out[o] = 0;
                return cut;
            }
            if (ch < 0x20 || ch == 0x7f) {
                out[o++] = '?';
                continue;
            }
            memcpy(out + o, s + i, clen);
            o += clen;
            i += clen - 1;
        }
        if (bad >= n)
            break;
        if (o + 1 >= size) {
            out[o] = 0;
            return cut;
        }
        out[o++] = '?';
        s += bad + 1;
        n -= bad + 1;
    }
    out[o] = 0;
    return true;
}

/* "<address>" (a quoted local part may hold '>' and ','), into OUT */
static bool field_addr(struct cur *c, char *out, size_t size)
{
    if (!cur_lit(c, "<"))
        return false;
    const char *s = c->p;
    bool quoted = false;
    while (c->p < c->end) {
        char ch = *c->p;
        if (quoted && ch == '\\' && c->p + 1 < c->end)
            c->p++;
        else if (ch == '"')
            quoted = !quoted;
        else if (ch == '>' && !quoted)
            break;
        c->p++;
    }
    if (c->p >= c->end)
        return false;
    size_t n = (size_t)(c->p - s);
    c->p++;
    return n < size && copy_clean(out, size, s, n, false);
}

/* a plain value: up to ", " or the end */
static void field_value(struct cur *c, const char **v, size_t *n)
{
    *v = c->p;
    while (c->p < c->end && !(c->p[0] == ',' && c->p + 1 < c->end && c->p[1] == ' '))
        c->p++;
    *n = (size_t)(c->p - *v);
}

/* relay=none | host[addr]:port | host[addr] | name */
static void relay_read(const char *v, size_t n, struct mta_event *ev)
{
    if (n == 4 && memcmp(v, "none", 4) == 0)
        return;
    const char *lb = memchr(v, '[', n);
    if (!lb) {
        copy_clean(ev->relay_host, sizeof(ev->relay_host), v, n, true);
        return;
    }
    copy_clean(ev->relay_host, sizeof(ev->relay_host), v, (size_t)(lb - v), true);
    const char *rb = memchr(lb, ']', n - (size_t)(lb - v));
    if (!rb)
        return;
    copy_clean(ev->relay_addr, sizeof(ev->relay_addr), lb + 1, (size_t)(rb - lb - 1), true);
    if (rb + 1 < v + n && rb[1] == ':') {
        long port = 0;
        const char *q = rb + 2;
        while (q < v + n && isdigit((unsigned char)*q) && port <= 65535)
            port = port * 10 + (*q++ - '0');
        if (q == v + n && port > 0 && port <= 65535)
            ev->relay_port = (int)port;
    }
}

/* delay=1.23 in milliseconds; -1 when malformed */
static long delay_read(const char *v, size_t n)
{
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = 0;
    char *endp;
    double d = strtod(tmp, &endp);
    if (*endp || !(d >= 0) || d > 1e9)
        return -1;
    return (long)(d * 1000 + 0.5);
}

static enum mta_status status_read(struct cur *c)
{
    static const char *const words[] = { "sent", "deferred", "bounced", "expired" };
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0 &&
            (c->p + n == c->end || c->p[n] == ' ' || c->p[n] == ',')) {
            c->p += n;
            return (enum mta_status)(i + 1);
        }
    }
    return MTA_NONE;
}

/* " (reason)" to the end of the line */
static void reason_read(struct cur *c, struct mta_event *ev)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
    if (c->p >= c->end || *c->p != '(')
        return;
    const char *s = c->p + 1, *e = c->end;
    if (e > s && e[-1] == ')')
        e--;
    copy_clean(ev->reason, sizeof(ev->reason), s, (size_t)(e - s), true);
}

/* the "key=value, " fields after "QUEUEID: " */
static bool fields_read(struct cur *c, struct mta_event *ev)
{
    bool first = true;
    while (c->p < c->end) {
        if (!first && !cur_lit(c, ", "))
            return false;
        first = false;
        const char *k = c->p;
        while (c->p < c->end && (islower((unsigned char)*c->p) || *c->p == '_'))
            c->p++;
        size_t kn = (size_t)(c->p - k);
        if (kn == 0 || !cur_lit(c, "="))
            return false;
#define KEY(s) (kn == sizeof(s) - 1 && memcmp(k, s, kn) == 0)
        if (KEY("to") || KEY("orig_to") || KEY("from")) {
            char *out = KEY("to") ? ev->to : KEY("orig_to") ? ev->orig_to : ev->from;
            if (!field_addr(c, out, MTA_ADDR_MAX + 1))
                return false;
            continue;
        }
        if (KEY("status")) {
            ev->status = status_read(c);
            if (ev->status == MTA_NONE)
                return false;
            reason_read(c, ev);
            return true;
        }
        const char *v;
        size_t vn;
        field_value(c, &v, &vn);
        if (KEY("relay"))
            relay_read(v, vn, ev);
        else if (KEY("delay"))
            ev->delay_ms = delay_read(v, vn);
        else if (KEY("dsn")) {
            size_t ok = 0;
            while (ok < vn && (isdigit((unsigned char)v[ok]) || v[ok] == '.'))
                ok++;
            if (vn < sizeof(ev->dsn) && vn >= 5 && ok == vn && (v[0] == '2' || v[0] == '4' || v[0] == '5') &&
                v[1] == '.')
                memcpy(ev->dsn, v, vn);
        }
#undef KEY
    }
    return false;
}

/* the header: timestamp, host, "program[pid]:" */
static bool header_read(struct cur *c, time_t now, struct mta_event *ev)
{
    if (c->p < c->end && isdigit((unsigned char)*c->p)) {
        if (!time_iso(c, ev))
            return false;
    } else if (!time_traditional(c, now, ev))
        return false;
    if (!cur_lit(c, " "))
        return false;
    while (c->p < c->end && *c->p != ' ')   /* host */
        c->p++;
    if (!cur_lit(c, " "))
        return false;
    const char *tag = c->p;
    while (c->p < c->end && *c->p != ' ')   /* program[pid]: */
        c->p++;
    return c->p - tag >= 2 && c->p[-1] == ':' && cur_lit(c, " ");
}

/* mta_log_parse - see mta_log.h. */
int mta_log_parse(const char *line, size_t len, time_t now, struct mta_event *ev)
{
    struct cur c = { line, line + len };
    memset(ev, 0, sizeof(*ev));
    ev->delay_ms = -1;
    while (c.end > c.p && (c.end[-1] == '\n' || c.end[-1] == '\r' || c.end[-1] == ' '))
        c.end--;
    if (!header_read(&c, now, ev))
        goto no;
    const char *q = c.p;
    while (c.p < c.end && isalnum((unsigned char)*c.p))
        c.p++;
    size_t qn = (size_t)(c.p - q);
    if (qn < 5 || qn > MTA_QUEUE_ID_MAX || !cur_lit(&c, ": "))
        goto no;
    memcpy(ev->queue_id, q, qn);
    if (!(c.end - c.p > 4 && memcmp(c.p, "to=<", 4) == 0) && !(c.end - c.p > 6 && memcmp(c.p, "from=<", 6) == 0))
        goto no;
    if (!fields_read(&c, ev))
        goto no;
    if (ev->from[0] || !ev->to[0]) {
        /* qmgr: "from=<...>, status=expired, returned to sender" */
        if (ev->to[0] || ev->status != MTA_EXPIRED)
            goto no;
        ev->reason[0] = 0;
    }
    return 1;
no:
    memset(ev, 0, sizeof(*ev));
    return 0;
}

/* mta_log_status_name - see mta_log.h. */
const char *mta_log_status_name(enum mta_status s)
{
    switch (s) {
    case MTA_SENT:
        return "sent";
    case MTA_DEFERRED:
        return "deferred";
    case MTA_BOUNCED:
        return "bounced";
    case MTA_EXPIRED:
        return "expired";
    default:
        return "";
    }
}
